package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

func TestSQLiteSyncModeAndCheckpoints(t *testing.T) {
	for _, tc := range []struct {
		full bool
		want int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{false, 1}, {true, 2}} {
		st, err := OpenSQLite(t.TempDir(), tc.full)
		if err != nil {
			t.Fatal(err)
		}
		var mode, auto int
		st.w.QueryRow(`PRAGMA synchronous`).Scan(&mode)
		st.w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto)
		if mode != tc.want || auto != 0 {
			t.Errorf("full=%v: synchronous=%d wal_autocheckpoint=%d, want %d and 0", tc.full, mode, auto, tc.want)
		}
		// The background checkpointer copies commits from the WAL into
		// the database file: read the file alone (immutable=1 ignores the
		// WAL) until the row is there.
		dir := t.TempDir()
		st2, err := OpenSQLite(dir, tc.full)
		if err != nil {
			t.Fatal(err)
		}
		evs := []Event{{ID: 1, Type: typeMessage, User: "a", Text: "x", TS: time.Now()}}
		if err := st2.AppendEvents(context.Background(), "r", evs); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; {
			// A new handle each time: immutable=1 may cache what it read.
			raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "chat.db")+"?immutable=1")
			if err != nil {
				t.Fatal(err)
			}
			var n int
			raw.QueryRow(`SELECT count(*) FROM events`).Scan(&n)
			raw.Close()
			if n == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the commit never reached the database file: no checkpoint ran")
			}
			time.Sleep(100 * time.Millisecond)
		}
		st2.Close()
		st.Close()
	}
}
