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

// A database made by an older binary is brought up to date when opened,
// and keeps what it held: here one at the first schema, with a message.
func TestSQLiteMigratesOlderDatabase(t *testing.T) {
	dir := t.TempDir()
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	sent := time.UnixMilli(1763712245123).UTC()
	for _, q := range []string{
		migrations[0],
		`PRAGMA user_version = 1`,
		`INSERT INTO events (room, id, type, user, text, nonce, ts) VALUES ('lobby', 1, 'message', 'alice', 'from before', 'n1', 1763712245123)`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	old.Close()

	st, err := OpenSQLite(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var version int
	st.w.QueryRow(`PRAGMA user_version`).Scan(&version)
	if version != len(migrations) {
		t.Errorf("user_version %d after opening, want %d", version, len(migrations))
	}
	ctx := context.Background()
	evs, err := st.Events(ctx, "lobby", 0, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Text != "from before" || !evs[0].TS.Equal(sent) || evs[0].Ref != 0 || !evs[0].Edited.IsZero() {
		t.Fatalf("after migrating: %+v, %v; want the message as it was", evs, err)
	}
	// The columns the later migrations added work on the old rows.
	edit := Event{ID: 2, Type: typeEdit, User: "alice", Text: "from after", Ref: 1, TS: sent.Add(time.Minute)}
	if err := st.AppendEvents(ctx, "lobby", []Event{edit}); err != nil {
		t.Fatal(err)
	}
	if evs, err = st.Events(ctx, "lobby", 0, 2, 10); err != nil || len(evs) != 1 || evs[0].Text != "from after" || !evs[0].Edited.Equal(edit.TS) {
		t.Errorf("the old message after an edit: %+v, %v", evs, err)
	}
}
