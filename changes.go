package main

// Changing a message: its author edits it or takes it back, for
// everyone. Either is a stored event like any other (numbered, replayed,
// in history), so a client that was away learns of it on resume. The
// message's row keeps its place, author and time, and takes the new text
// (or none) in the same transaction; only the newest text is kept, in
// the store and in the room's memory alike. It runs on the room's writer
// goroutine, all but readOld, which runs on the sender's reader.

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"
)

// editMessage gives message o.ref the text o.text for o's sender, or tells
// them why not. A picture's caption may be emptied; a message of text
// alone may not (that would be a delete, which says so).
func (r *room) editMessage(o op) {
	e, ok := r.changeable(o, "edit")
	switch {
	case !ok:
	case o.text == "" && e.Image.ID == "":
		r.refuse(o.c, codeInvalid, "A message cannot be empty; delete it instead.", o.nonce)
	case e.Text == o.text:
		r.refuse(o.c, codeInvalid, "That is the message's text already.", o.nonce)
	default:
		r.change(o.c, Event{Type: typeEdit, Ref: o.ref, Text: o.text}, o.nonce)
	}
}

// deleteMessage takes back message o.ref for o's sender, or tells them
// why not.
func (r *room) deleteMessage(o op) {
	if _, ok := r.changeable(o, "delete"); ok {
		r.change(o.c, Event{Type: typeDelete, Ref: o.ref}, o.nonce)
	}
}

// changeVerb is what a frame of type typ does to the message its id
// names, as its error says it; "" for a frame that names none.
func changeVerb(typ string) string {
	switch typ {
	case typeDelete:
		return "delete"
	case typeEdit:
		return "edit"
	case typeReact, typeUnreact:
		return "react to"
	}
	return ""
}

// changeable returns message o.ref if o's sender may edit or delete it
// (verb says which, for the errors), or tells them why not.
func (r *room) changeable(o op, verb string) (Event, bool) {
	if !r.inRoom(o.c, o.nonce) {
		return Event{}, false
	}
	e, ok := r.message(o, "That message could not be "+verb+"d; try again.")
	switch {
	case !ok:
	case !mayChange(o.c.user, e):
		r.refuse(o.c, codeForbidden, "You can "+verb+" only messages you sent since you logged in.", o.nonce)
	case e.deleted() || r.deleting(o.ref):
		r.refuse(o.c, codeNotFound, "That message is deleted already.", o.nonce)
	default:
		return e, true
	}
	return Event{}, false
}

// inRoom reports whether c is still one of the room's sockets, or tells
// c to reconnect: its frame came after the socket was closed or its user
// logged out.
func (r *room) inRoom(c *client, nonce string) bool {
	if _, ok := r.clients[c]; ok {
		return true
	}
	r.refuse(c, codeUnavailable, "You are not in this room any more; reconnect.", nonce)
	return false
}

// message returns message o.ref for frame o, or tells its sender there
// is none: the store could not be read (failed says what was not done),
// or the room has no message o.ref.
func (r *room) message(o op, failed string) (Event, bool) {
	e, ok, err := r.event(o.ref, o.old)
	switch {
	case err != nil:
		r.log.Error("reading a message", "id", o.ref, "err", err)
		r.refuse(o.c, codeUnavailable, failed, o.nonce)
	case !ok || e.Type != typeMessage:
		r.refuse(o.c, codeNotFound, "There is no such message in this room.", o.nonce)
	default:
		return e, true
	}
	return Event{}, false
}

// change adds c's edit, delete, reaction or topic to the batch.
func (r *room) change(c *client, e Event, nonce string) {
	e.User, e.UserKey, e.TS = c.user.name, c.user.key, r.hub.now()
	r.add(e, nil)
	// Told if the commit fails, with the frame's nonce; the event itself
	// stores none, so no message is ever taken for its copy.
	r.origins = append(r.origins, originOf{c: c, nonce: nonce})
}

// mayChange: only the session that sent a message may edit it or take
// it back. A name is held by one session at a time, so the name's
// messages since that session began are the session's; its earlier ones
// may be someone's who held the name before.
func mayChange(u *user, e Event) bool {
	_, key, err := normalizeName(e.User)
	return err == nil && key == u.key && !e.TS.Before(u.created.Truncate(time.Millisecond))
}

// deleting reports whether the batch already takes back ref.
func (r *room) deleting(ref int64) bool {
	return slices.ContainsFunc(r.batch, func(e Event) bool { return e.Type == typeDelete && e.Ref == ref })
}

// event returns stored event id of the room: from recent if it is there,
// else as old read it on the sender's reader (see readOld) if nothing
// has changed an old message since, else from the store (a point read
// on the writer, now rare: a reader's read failed, or raced a change).
func (r *room) event(id int64, old *oldRead) (Event, bool, error) {
	if i, ok := r.findRecent(id); ok {
		var w wireEvent
		if err := json.Unmarshal(r.recent[i].raw, &w); err != nil {
			return Event{}, false, err
		}
		ts, err := time.Parse(time.RFC3339Nano, w.TS)
		e := Event{ID: w.ID, Room: w.Room, Type: w.Type, User: w.User, Text: w.Text, Nonce: w.Nonce, TS: ts, Ref: w.Ref + w.ReplyTo, Reactions: w.Reactions}
		if w.Image != nil {
			e.Image = *w.Image
		}
		return e, err == nil, err
	}
	if old != nil && old.changes == r.oldChanges.Load() {
		return old.e, old.ok, nil
	}
	return r.readEvent(id)
}

// oldRead is a message older than the room's memory as a socket's reader
// read it from the store, and when.
type oldRead struct {
	e       Event
	ok      bool  // there is such an event
	changes int64 // the room's oldChanges before the read
}

// readOld reads message ref, named by a frame for the room, on the
// sender's reader before the frame is queued: if ref is older than the
// room's memory, the writer would otherwise read it from the store
// itself, and the whole room would wait for it. The writer takes the
// read if no edit, delete or reaction of an old message was committed
// since (each adds to oldChanges after its commit, and the count is
// taken before the read, so a read that missed one is never taken), else
// reads again. nil: the room keeps ref in memory (or may yet: a newer
// id), or the read failed and the writer reads it, saying so.
func (r *room) readOld(ref int64) *oldRead {
	if ref >= r.floor.Load() {
		return nil
	}
	changes := r.oldChanges.Load()
	e, ok, err := r.readEvent(ref)
	if err != nil {
		return nil
	}
	return &oldRead{e: e, ok: ok, changes: changes}
}

// readEvent reads event id of the room from the store.
func (r *room) readEvent(id int64) (Event, bool, error) {
	evs, err := r.hub.store.Events(context.Background(), r.name, id-1, id+1, 1)
	if err != nil || len(evs) == 0 {
		return Event{}, false, err
	}
	return evs[0], true, nil
}

// changed brings recent's copies up to date with a committed edit,
// delete or reaction e, as the store's rows are: message e.Ref has the
// new text and when it was edited, or says it was deleted, or has the
// reaction on or off; the earlier edits of it keep no text. Joins and resumes answered from memory show the same as
// the history API. Edits are rare, so the scan is cheap; a line is
// decoded only if it is an edit.
func (r *room) changed(e Event) {
	i, ok := r.findRecent(e.Ref)
	if !ok {
		r.oldChanges.Add(1) // older than memory: only the store had it
		return
	}
	r.rewriteRecent(i, func(w *wireEvent) bool {
		switch e.Type {
		case typeDelete:
			w.Text, w.Deleted, w.Edited, w.Reactions, w.Image = "", true, "", nil, nil
		case typeEdit:
			w.Text, w.Edited = e.Text, e.TS.UTC().Format(tsLayout)
		default: // a reaction
			w.Reactions = withReaction(w.Reactions, e)
		}
		return true
	})
	if e.Type != typeEdit && e.Type != typeDelete {
		return
	}
	for j := i + 1; j < len(r.recent) && r.recent[j].id < e.ID; j++ {
		if !bytes.HasPrefix(r.recent[j].raw, []byte(`{"type":"edit",`)) {
			continue
		}
		r.rewriteRecent(j, func(w *wireEvent) bool {
			if w.Ref != e.Ref || w.Text == "" {
				return false
			}
			w.Text = ""
			return true
		})
	}
}

// rewriteRecent changes recent[i] with f, if f says it changed it, and
// counts the bytes it grew.
func (r *room) rewriteRecent(i int, f func(*wireEvent) bool) {
	var w wireEvent
	if err := json.Unmarshal(r.recent[i].raw, &w); err != nil {
		r.log.Error("decoding a kept event", "id", r.recent[i].id, "err", err)
		return
	}
	if !f(&w) {
		return
	}
	raw := encode(w)
	grown := len(raw) - len(r.recent[i].raw)
	r.recent[i].raw = raw
	r.recentSize += grown
	r.pool.used.Add(int64(grown))
}
