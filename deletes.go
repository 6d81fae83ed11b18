package main

// Deleting a message: its author takes it back, for everyone. A delete is
// a stored event like any other (numbered, replayed, in history), so a
// client that was away learns of it on resume, and the message's row
// keeps its place, author and time with its text emptied in the same
// transaction. It runs on the room's writer goroutine.

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// deleteMessage takes back message ref for c's user, or tells c why not.
func (r *room) deleteMessage(c *client, ref int64, nonce string) {
	if _, ok := r.clients[c]; !ok {
		c.sendError(codeUnavailable, "You are not in this room any more; reconnect.", nonce)
		return
	}
	e, ok, err := r.event(ref)
	switch {
	case err != nil:
		r.log.Error("reading a message to delete", "id", ref, "err", err)
		c.sendError(codeUnavailable, "That message could not be deleted; try again.", nonce)
	case !ok || e.Type != typeMessage:
		c.sendError(codeNotFound, "There is no such message in this room.", nonce)
	case !mayDelete(c.user, e):
		c.sendError(codeForbidden, "You can delete only messages you sent since you logged in.", nonce)
	case e.Text == "" || r.deleting(ref):
		c.sendError(codeNotFound, "That message is deleted already.", nonce)
	default:
		r.add(Event{Type: typeDelete, User: c.user.name, UserKey: c.user.key, Ref: ref, TS: r.hub.now()}, nil)
		// Told if the commit fails, with the frame's nonce; the event
		// itself stores none, so no message is ever taken for its copy.
		r.origins = append(r.origins, originOf{c: c, nonce: nonce})
	}
}

// mayDelete: only the session that sent a message may take it back. A
// name is held by one session at a time, so the name's messages since
// that session began are the session's; its earlier ones may be
// someone's who held the name before.
func mayDelete(u *user, e Event) bool {
	_, key, err := normalizeName(e.User)
	return err == nil && key == u.key && !e.TS.Before(u.created.Truncate(time.Millisecond))
}

// deleting reports whether the batch already takes back ref.
func (r *room) deleting(ref int64) bool {
	return slices.ContainsFunc(r.batch, func(e Event) bool { return e.Type == typeDelete && e.Ref == ref })
}

// event returns stored event id of the room: from recent if it is there,
// else from the store (a point read on the writer; deletes are rare, and
// mostly of recent messages).
func (r *room) event(id int64) (Event, bool, error) {
	if i, ok := r.findRecent(id); ok {
		var w wireEvent
		if err := json.Unmarshal(r.recent[i].raw, &w); err != nil {
			return Event{}, false, err
		}
		ts, err := time.Parse(time.RFC3339Nano, w.TS)
		return Event{ID: w.ID, Room: w.Room, Type: w.Type, User: w.User, Text: w.Text, Nonce: w.Nonce, TS: ts, Ref: w.Ref}, err == nil, err
	}
	evs, err := r.hub.store.Events(context.Background(), r.name, id-1, id+1, 1)
	if err != nil || len(evs) == 0 {
		return Event{}, false, err
	}
	return evs[0], true, nil
}

// forgetText makes recent's copy of a deleted message say so, without its
// text, as the store's does: joins and resumes answered from memory show
// it deleted too.
func (r *room) forgetText(id int64) {
	i, ok := r.findRecent(id)
	if !ok {
		return
	}
	var w wireEvent
	if err := json.Unmarshal(r.recent[i].raw, &w); err != nil {
		r.log.Error("decoding a kept event", "id", id, "err", err)
		return
	}
	w.Text, w.Deleted = "", true
	raw := encode(w)
	grown := len(raw) - len(r.recent[i].raw)
	r.recent[i].raw = raw
	r.recentSize += grown
	r.pool.used.Add(int64(grown))
}
