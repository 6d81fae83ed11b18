package main

import "syscall"

// setReceiveBuffer fixes a socket's receive buffer (no autotuning).
func setReceiveBuffer(fd uintptr, bytes int) {
	syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, bytes)
}
