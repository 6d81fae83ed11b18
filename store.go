package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	_ "modernc.org/sqlite"
)

// Store is what the chat needs from storage. It is small on purpose so that a
// PostgreSQL implementation can sit beside SQLite.
type Store interface {
	// AppendEvents commits events (ids already assigned by the room's
	// single writer) in one transaction. A join also records the user as
	// present in the room, a leave removes them.
	AppendEvents(ctx context.Context, room string, evs []Event) error
	// Events returns up to limit events with after < id < before, the
	// newest ones, oldest first. before <= 0 means no upper bound.
	Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error)
	// EventsFrom returns up to limit events with id > after, the oldest
	// ones, oldest first: the page after one on screen (the history API's
	// after).
	EventsFrom(ctx context.Context, room string, after int64, limit int) ([]Event, error)
	// FindNonce returns the id of user's message with nonce in room, among
	// ids after < id <= upTo, or 0. It reads those rows one by one (an
	// index of nonces would cost every insert more than the lookups it
	// saves: see the room's nonces), so callers bound the range.
	FindNonce(ctx context.Context, room, user, nonce string, after, upTo int64) (int64, error)
	// Search returns up to limit messages of room with id < before (0:
	// no bound) whose text holds query, newest first (see search.go).
	Search(ctx context.Context, room, query string, before int64, limit int) ([]Event, error)
	// Topic returns room's newest topic event, if it has one (see topic.go).
	Topic(ctx context.Context, room string) (Event, bool, error)
	// Unread counts room's messages with id > after that are not user's
	// and not deleted, up to most (see unread.go).
	Unread(ctx context.Context, room, user string, after int64, most int) (n int, last int64, err error)

	// Pictures (see images.go). A message with one marks it sent in
	// AppendEvents; a delete of that message deletes it.
	PutImage(ctx context.Context, r ImageRecord) error
	ImageInfo(ctx context.Context, id string) (ImageRecord, bool, error) // without Data
	ImageData(ctx context.Context, id string) (typ string, data []byte, ok bool, err error)
	ImagesSize(ctx context.Context) (int64, error)                           // all pictures' bytes together
	DeleteUnsentImages(ctx context.Context, before time.Time) (int64, error) // uploaded before, never sent

	PutSession(ctx context.Context, s SessionRecord) error // replaces any session holding the same name
	DeleteSession(ctx context.Context, id string) error
	TouchSession(ctx context.Context, id string, lastSeen time.Time) error
	Sessions(ctx context.Context, since time.Time) ([]SessionRecord, error) // also prunes older ones

	// Presence is who was in which room when the server last stopped,
	// and since when they were gone (zero: they still had a socket).
	Presence(ctx context.Context) ([]PresenceRecord, error)
	SavePresence(ctx context.Context, rows []PresenceRecord) error

	Ping(ctx context.Context) error
	Close() error
}

type SessionRecord struct {
	ID, Name, Key string
	Created       time.Time
	LastSeen      time.Time // zero: never connected
}

type PresenceRecord struct {
	Room, Key, Name string
	LeftAt          time.Time
}

// SQLite is the default store: one file, DATA_DIR/chat.db.
//
// Writes go through a pool of one connection, so writers queue in Go instead
// of spinning on SQLITE_BUSY; reads use their own pool and, thanks to WAL,
// never wait for writers.
type SQLite struct {
	w, r *sql.DB
	stop chan struct{} // ends the checkpointer
	done chan struct{}
	// insert is prepared once: preparing it in every transaction was a
	// measurable part of a one-event commit.
	insert *sql.Stmt
	lock   *os.File // DATA_DIR/chat.lock, held until Close (see lockDataDir)
}

// Pragmas, per connection:
//   - journal_mode WAL: readers and the writer do not block each other.
//   - synchronous (added by OpenSQLite): every message is committed before
//     it fans out either way. NORMAL, the default, writes the commit to the
//     WAL without an fsync: it survives the process crashing or being
//     killed, but an OS crash or power loss can undo the last commits
//     before the next checkpoint. FULL (SQLITE_SYNC=full) fsyncs every
//     commit, survives power loss too, and costs about 0.2 ms per batch
//     here, which is most of a message's latency in a quiet room.
//   - busy_timeout: the read pool may meet a checkpoint; wait, don't fail.
//   - foreign_keys: on, as a matter of hygiene.
//   - cache_size: 1 MB per connection instead of 2. The hot data (recent
//     events, sessions) is small, and the cache lives outside the Go heap
//     where nothing else bounds it; five connections at 2 MB showed up in
//     the per-socket memory of the idle benchmark.
//   - secure_delete: the bytes of what is deleted or emptied are zeroed,
//     not left in the page's free space, so a deleted message's text
//     (a password pasted by mistake) is gone from the database file.
//     Events are only ever appended, so it costs the hot path nothing.
const sqlitePragmas = "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=cache_size(-1024)&_pragma=secure_delete(1)"

func OpenSQLite(dir string, fullSync bool) (*SQLite, error) {
	sync := "&_pragma=synchronous(NORMAL)"
	if fullSync {
		sync = "&_pragma=synchronous(FULL)"
	}
	lock, err := lockDataDir(dir, filepath.Join(dir, "chat.lock"))
	if err != nil {
		return nil, err
	}
	dsn := "file:" + filepath.Join(dir, "chat.db") + sqlitePragmas + sync
	w, err := sql.Open("sqlite", dsn+"&_txlock=immediate&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		lock.Close()
		return nil, err
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		lock.Close()
		return nil, err
	}
	r.SetMaxOpenConns(4)
	s := &SQLite{w: w, r: r, lock: lock}
	if err := s.migrate(); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrating %s: %w", dir, err)
	}
	if s.insert, err = w.Prepare(`INSERT INTO events (room, id, type, user, text, nonce, ts, ref, image, image_width, image_height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
		s.Close()
		return nil, err
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.checkpointer(time.Second)
	return s, nil
}

// checkpointer copies the WAL back into the database file in the
// background. The write connection has automatic checkpoints turned off
// (wal_autocheckpoint(0)): SQLite would otherwise run one inside whichever
// commit crosses 1000 pages, and that batch of messages would wait for it.
// PASSIVE never blocks the writer; it does what it can and tries again.
func (s *SQLite) checkpointer(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.r.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

func (s *SQLite) AppendEvents(ctx context.Context, room string, evs []Event) error {
	if len(evs) == 1 && evs[0].Type == typeMessage && evs[0].Image.ID == "" {
		// One message, the usual batch in a quiet room: a single
		// statement is its own transaction, which saves the BEGIN and
		// COMMIT round trips on the latency path.
		e := evs[0]
		_, err := s.insert.ExecContext(ctx, room, e.ID, e.Type, e.User, e.Text, e.Nonce, e.TS.UnixMilli(), e.Ref, "", 0, 0)
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins := tx.StmtContext(ctx, s.insert)
	for _, e := range evs {
		if _, err := ins.ExecContext(ctx, room, e.ID, e.Type, e.User, e.Text, e.Nonce, e.TS.UnixMilli(), e.Ref, e.Image.ID, e.Image.Width, e.Image.Height); err != nil {
			return err
		}
		switch e.Type {
		case typeMessage:
			if e.Image.ID != "" {
				_, err = tx.ExecContext(ctx, `UPDATE images SET ref = ? WHERE id = ?`, e.ID, e.Image.ID)
			}
		case typeEdit:
			if _, err = tx.ExecContext(ctx, `UPDATE events SET text = ?, edited = ? WHERE room = ? AND id = ? AND type = 'message'`, e.Text, e.TS.UnixMilli(), room, e.Ref); err == nil {
				err = forgetEdits(ctx, tx, room, e.Ref, e.ID)
			}
		case typeDelete:
			// The picture goes with its message, bytes and all.
			_, err = tx.ExecContext(ctx, `DELETE FROM images WHERE id = (SELECT image FROM events WHERE room = ? AND id = ? AND type = 'message' AND image != '')`, room, e.Ref)
			if err == nil {
				_, err = tx.ExecContext(ctx, `UPDATE events SET text = '', image = '', image_width = 0, image_height = 0 WHERE room = ? AND id = ? AND type = 'message'`, room, e.Ref)
			}
			if err == nil {
				err = forgetEdits(ctx, tx, room, e.Ref, e.ID)
			}
			if err == nil {
				_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND ref = ?`, room, e.Ref)
			}
		case typeReact:
			_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO reactions (room, ref, emoji, name_key, name, id) VALUES (?, ?, ?, ?, ?, ?)`, room, e.Ref, e.Text, e.UserKey, e.User, e.ID)
		case typeUnreact:
			_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE room = ? AND ref = ? AND emoji = ? AND name_key = ?`, room, e.Ref, e.Text, e.UserKey)
		case typeJoin:
			_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO presence (room, name_key, name, left_at) VALUES (?, ?, ?, 0)`, room, e.UserKey, e.User)
		case typeLeave:
			_, err = tx.ExecContext(ctx, `DELETE FROM presence WHERE room = ? AND name_key = ?`, room, e.UserKey)
		}
		if err != nil {
			return err
		}
	}
	return tx.Commit()
}

// forgetEdits empties the text of message ref's edits before event id:
// the message's row holds the newest text. Without statistics SQLite's
// planner would rather scan the room's rows by primary key than use the
// partial index, so the statement names it ("ref > 0" makes it usable).
func forgetEdits(ctx context.Context, tx *sql.Tx, room string, ref, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE events INDEXED BY events_ref SET text = '' WHERE room = ? AND ref = ? AND ref > 0 AND id < ? AND type = 'edit' AND text != ''`, room, ref, id)
	return err
}

func (s *SQLite) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	evs, err := s.queryEvents(ctx, room, limit, `SELECT `+eventColumns+` FROM events
		WHERE room = ? AND id > ? AND id < ? ORDER BY id DESC LIMIT ?`, room, after, before, limit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(evs)
	return evs, s.reactions(ctx, room, evs)
}

func (s *SQLite) EventsFrom(ctx context.Context, room string, after int64, limit int) ([]Event, error) {
	evs, err := s.queryEvents(ctx, room, limit, `SELECT `+eventColumns+` FROM events
		WHERE room = ? AND id > ? ORDER BY id LIMIT ?`, room, after, limit)
	if err != nil {
		return nil, err
	}
	return evs, s.reactions(ctx, room, evs)
}

// eventColumns are what queryEvents reads, in its order.
const eventColumns = `id, type, user, text, nonce, ts, ref, edited, image, image_width, image_height`

// queryEvents reads room's events that query (selecting eventColumns,
// up to limit rows) finds.
func (s *SQLite) queryEvents(ctx context.Context, room string, limit int, query string, args ...any) ([]Event, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	evs := make([]Event, 0, limit)
	for rows.Next() {
		e := Event{Room: room}
		var ts, edited int64
		if err := rows.Scan(&e.ID, &e.Type, &e.User, &e.Text, &e.Nonce, &ts, &e.Ref, &edited, &e.Image.ID, &e.Image.Width, &e.Image.Height); err != nil {
			return nil, err
		}
		e.TS = time.UnixMilli(ts).UTC()
		if edited > 0 {
			e.Edited = time.UnixMilli(edited).UTC()
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

func (s *SQLite) FindNonce(ctx context.Context, room, user, nonce string, after, upTo int64) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT id FROM events WHERE room = ? AND id > ? AND id <= ? AND user = ? AND nonce = ? LIMIT 1`,
		room, after, upTo, user, nonce).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

func (s *SQLite) PutSession(ctx context.Context, r SessionRecord) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE name_key = ?`, r.Key); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, name, name_key, created_at, last_seen) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.Name, r.Key, r.Created.UnixMilli(), unixMilliOrZero(r.LastSeen)); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *SQLite) DeleteSession(ctx context.Context, id string) error {
	_, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return err
}

func (s *SQLite) TouchSession(ctx context.Context, id string, t time.Time) error {
	_, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ?`, t.UnixMilli(), id)
	return err
}

func (s *SQLite) Sessions(ctx context.Context, since time.Time) ([]SessionRecord, error) {
	cut := since.UnixMilli()
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE MAX(created_at, last_seen) < ?`, cut); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, name_key, created_at, last_seen FROM sessions`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SessionRecord
	for rows.Next() {
		var r SessionRecord
		var created, seen int64
		if err := rows.Scan(&r.ID, &r.Name, &r.Key, &created, &seen); err != nil {
			return nil, err
		}
		r.Created = time.UnixMilli(created)
		if seen != 0 {
			r.LastSeen = time.UnixMilli(seen)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *SQLite) Presence(ctx context.Context) ([]PresenceRecord, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT room, name_key, name, left_at FROM presence`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PresenceRecord
	for rows.Next() {
		var p PresenceRecord
		var left int64
		if err := rows.Scan(&p.Room, &p.Key, &p.Name, &left); err != nil {
			return nil, err
		}
		if left != 0 {
			p.LeftAt = time.UnixMilli(left)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *SQLite) SavePresence(ctx context.Context, ps []PresenceRecord) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, p := range ps {
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO presence (room, name_key, name, left_at) VALUES (?, ?, ?, ?)`,
			p.Room, p.Key, p.Name, unixMilliOrZero(p.LeftAt)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *SQLite) Ping(ctx context.Context) error {
	var one int
	if err := s.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return err
	}
	if one != 1 {
		return errors.New("sqlite: unexpected answer")
	}
	return nil
}

func (s *SQLite) Close() error {
	if s.stop != nil {
		close(s.stop)
		<-s.done
		s.stop = nil
	}
	var err error
	if s.insert != nil {
		err = s.insert.Close()
	}
	err = errors.Join(err, s.r.Close(), s.w.Close())
	// The lock goes last: the next server may open the file once it is free.
	if s.lock != nil {
		err = errors.Join(err, s.lock.Close())
		s.lock = nil
	}
	return err
}

func unixMilliOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}
