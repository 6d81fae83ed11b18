package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
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
	old := MustRawDB(t, dir)
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

// A database a newer binary has migrated (a rollback of the deploy) is
// refused rather than written by code that does not know its schema, and
// the refusal leaves it, and DATA_DIR's lock, as they were.
func TestSQLiteRefusesNewerDatabase(t *testing.T) {
	dir := t.TempDir()
	MustOpenSQLite(t, dir).Close()
	newer := len(migrations) + 1
	MustSetUserVersion(t, dir, newer)

	_, err := OpenSQLite(dir, false)
	if want := fmt.Sprintf("database is at version %d, newer than this binary (%d)", newer, len(migrations)); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("opening a newer database: %v, want %q", err, want)
	}
	if v := MustUserVersion(t, dir); v != newer {
		t.Errorf("user_version %d after the refusal, want %d as it was", v, newer)
	}
	MustSetUserVersion(t, dir, len(migrations))
	MustOpenSQLite(t, dir).Close() // not locked by the refused open
}

// A migration that fails is undone whole, and the database stays at the
// version before it: the next start tries it again. Here the third finds
// an index of its name in the way after its first statement ran.
func TestSQLiteFailedMigrationUndone(t *testing.T) {
	dir := t.TempDir()
	db := MustRawDB(t, dir)
	for _, q := range []string{migrations[0], migrations[1], `PRAGMA user_version = 2`, `CREATE INDEX events_ref ON events (id)`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	if _, err := OpenSQLite(dir, false); err == nil || !strings.Contains(err.Error(), "migration 3: ") {
		t.Fatalf("opening with migration 3 failing: %v, want it named", err)
	}
	if v := MustUserVersion(t, dir); v != 2 {
		t.Errorf("user_version %d after the failed migration, want 2", v)
	}
	db = MustRawDB(t, dir)
	var edited int
	if err := db.QueryRow(`SELECT count(*) FROM pragma_table_info('events') WHERE name = 'edited'`).Scan(&edited); err != nil || edited != 0 {
		t.Errorf("the failed migration's first statement kept: %d edited columns, %v", edited, err)
	}
}

// MustRawDB opens chat.db in dir as a bare connection, beside any store:
// to make or read what the store itself would not.
func MustRawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// MustUserVersion is the schema version chat.db in dir is at.
func MustUserVersion(t *testing.T, dir string) int {
	t.Helper()
	db := MustRawDB(t, dir)
	defer db.Close()
	var v int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// MustSetUserVersion sets the schema version of chat.db in dir.
func MustSetUserVersion(t *testing.T, dir string, v int) {
	t.Helper()
	db := MustRawDB(t, dir)
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
		t.Fatal(err)
	}
}
