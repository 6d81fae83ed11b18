package main

import "fmt"

// migrations run in order; PRAGMA user_version records how many have run.
// Never edit one that has shipped: append a new one.
var migrations = []string{
	`CREATE TABLE events (
		room  TEXT    NOT NULL,
		id    INTEGER NOT NULL,
		type  TEXT    NOT NULL,
		user  TEXT    NOT NULL,
		text  TEXT    NOT NULL DEFAULT '',
		nonce TEXT    NOT NULL DEFAULT '',
		ts    INTEGER NOT NULL, -- unix milliseconds
		PRIMARY KEY (room, id)
	) WITHOUT ROWID;
	CREATE TABLE sessions (
		id         TEXT PRIMARY KEY,
		name       TEXT NOT NULL,
		name_key   TEXT NOT NULL UNIQUE,
		created_at INTEGER NOT NULL,
		last_seen  INTEGER NOT NULL DEFAULT 0
	);
	CREATE TABLE presence (
		room     TEXT NOT NULL,
		name_key TEXT NOT NULL,
		name     TEXT NOT NULL,
		left_at  INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (room, name_key)
	) WITHOUT ROWID;`,
	// A delete event names the message it takes back. The message keeps
	// its row, with its text emptied in the same transaction: a message's
	// text is never empty otherwise, so no flag is needed.
	`ALTER TABLE events ADD COLUMN ref INTEGER NOT NULL DEFAULT 0;`,
	// An edit event carries a message's new text, and the message's row
	// takes it in the same transaction, with when (unix milliseconds; 0:
	// never edited). Only the newest text is kept anywhere: a later edit
	// or a delete empties the earlier edits' text, which the index on ref
	// finds without a scan of the room (partial: only rows that name
	// another message have a ref: edits and deletes, and since then
	// replies and reactions).
	`ALTER TABLE events ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX events_ref ON events (room, ref) WHERE ref > 0;`,
	// A message's reactions as they are now, one row per emoji and name,
	// kept by the react and unreact events' transactions; id is the
	// react's, which orders who reacted. Read with the messages they
	// belong to (see reactions), so a page of history needs one more
	// range read, not one per message.
	`CREATE TABLE reactions (
		room     TEXT    NOT NULL,
		ref      INTEGER NOT NULL,
		emoji    TEXT    NOT NULL,
		name_key TEXT    NOT NULL,
		name     TEXT    NOT NULL,
		id       INTEGER NOT NULL,
		PRIMARY KEY (room, ref, emoji, name_key)
	) WITHOUT ROWID;`,
	// A room's topic is its newest topic event; this index holds only
	// those rows, so loading a room finds it without a scan.
	`CREATE INDEX events_topic ON events (room, id) WHERE type = 'topic';`,
	// Pictures (see images.go): uploaded whole, then shown by a message
	// whose row names the picture and its size, so a page of history
	// needs no second read. ref is that message (0: not sent yet; the
	// sweep deletes those after a while, found through images_unsent).
	// size is len(data), kept so the total is a sum over an index that
	// covers it instead of a read of every picture.
	`CREATE TABLE images (
		id       TEXT    PRIMARY KEY,
		room     TEXT    NOT NULL,
		name_key TEXT    NOT NULL,
		type     TEXT    NOT NULL,
		width    INTEGER NOT NULL,
		height   INTEGER NOT NULL,
		size     INTEGER NOT NULL,
		data     BLOB    NOT NULL,
		ts       INTEGER NOT NULL,
		ref      INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX images_size ON images (size);
	CREATE INDEX images_unsent ON images (ts) WHERE ref = 0;
	ALTER TABLE events ADD COLUMN image TEXT NOT NULL DEFAULT '';
	ALTER TABLE events ADD COLUMN image_width INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE events ADD COLUMN image_height INTEGER NOT NULL DEFAULT 0;`,
}

func (s *SQLite) migrate() error {
	var version int
	if err := s.w.QueryRow(`PRAGMA user_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database is at version %d, newer than this binary (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.w.Begin()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
