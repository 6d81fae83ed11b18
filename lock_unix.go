//go:build unix

package main

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes flock's exclusive lock on f without waiting. It belongs to
// the open file, so a second open of the same file conflicts even within
// one process (as the tests need), and the kernel drops it when the
// process ends however it ends.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
