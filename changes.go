package main

// Changing a message: its author edits it or takes it back, for
// everyone. Either is a stored event like any other (numbered, replayed,
// in history), so a client that was away learns of it on resume. The
// message's row keeps its place, author and time, and takes the new text
// (or none) in the same transaction; only the newest text is kept, in
// the store and in the room's memory alike. It runs on the room's writer
// goroutine.

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"
)

// editMessage gives message ref the text for c's user, or tells c why not.
// A picture's caption may be emptied; a message of text alone may not
// (that would be a delete, which says so).
func (r *room) editMessage(c *client, ref int64, text, nonce string) {
	e, ok := r.changeable(c, ref, nonce, "edit")
	switch {
	case !ok:
	case text == "" && e.Image.ID == "":
		r.refuse(c, codeInvalid, "A message cannot be empty; delete it instead.", nonce)
	case e.Text == text:
		r.refuse(c, codeInvalid, "That is the message's text already.", nonce)
	default:
		r.change(c, Event{Type: typeEdit, Ref: ref, Text: text}, nonce)
	}
}

// deleteMessage takes back message ref for c's user, or tells c why not.
func (r *room) deleteMessage(c *client, ref int64, nonce string) {
	if _, ok := r.changeable(c, ref, nonce, "delete"); ok {
		r.change(c, Event{Type: typeDelete, Ref: ref}, nonce)
	}
}

// changeable returns message ref if c's user may edit or delete it (verb
// says which, for the errors), or tells c why not.
func (r *room) changeable(c *client, ref int64, nonce, verb string) (Event, bool) {
	if !r.inRoom(c, nonce) {
		return Event{}, false
	}
	e, ok := r.message(c, ref, nonce, "That message could not be "+verb+"d; try again.")
	switch {
	case !ok:
	case !mayChange(c.user, e):
		r.refuse(c, codeForbidden, "You can "+verb+" only messages you sent since you logged in.", nonce)
	case e.deleted() || r.deleting(ref):
		r.refuse(c, codeNotFound, "That message is deleted already.", nonce)
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

// message returns message ref for c's frame, or tells c there is none:
// the store could not be read (failed says what was not done), or the
// room has no message ref.
func (r *room) message(c *client, ref int64, nonce, failed string) (Event, bool) {
	e, ok, err := r.event(ref)
	switch {
	case err != nil:
		r.log.Error("reading a message", "id", ref, "err", err)
		r.refuse(c, codeUnavailable, failed, nonce)
	case !ok || e.Type != typeMessage:
		r.refuse(c, codeNotFound, "There is no such message in this room.", nonce)
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
// else from the store (a point read on the writer: edits, deletes and
// replies of messages older than the room's memory are rare).
func (r *room) event(id int64) (Event, bool, error) {
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
		return // older than memory: only the store had it
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
