package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// errLocked is what tryLock returns when another open file holds the lock.
var errLocked = errors.New("locked")

// lockDataDir makes sure that one server at a time uses the SQLite file in
// dir. Each room's writer numbers events from what it read at load, and
// sessions live in memory: a second server on the same file would number
// its rooms' events again from the same ids, and every commit of those
// would fail on the key until a restart. So a second server refuses to
// start, saying which one holds the directory (by pid and host: in a
// container every server is pid 1).
//
// The lock is the operating system's, taken on DATA_DIR/chat.lock and held
// by the open file until the store closes it: a server that crashes or is
// killed lets go of it with its process, so nothing stale is left behind
// (the file itself stays, and only says who held it last).
func lockDataDir(dir, path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("DATA_DIR %s: opening its lock: %w", dir, err)
	}
	if err := tryLock(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			// The holder may not have written its line yet.
			holder, _ := os.ReadFile(path)
			who := strings.TrimSpace(string(holder))
			if who == "" {
				who = "which one is not known yet"
			}
			return nil, fmt.Errorf("DATA_DIR %s is in use by another chat server (%s); stop it first, or give this one a DATA_DIR of its own", dir, who)
		}
		return nil, fmt.Errorf("DATA_DIR %s: locking it: %w", dir, err)
	}
	host, _ := os.Hostname()
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d on %s\n", os.Getpid(), host)
	}
	return f, nil
}
