package main

// A message said in a room: unless it is a copy of one stored before
// (see nonces.go), or replies to a message the room does not have, it
// joins the batch. It runs on the room's writer goroutine.

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

func (r *room) say(o op) {
	if !r.inRoom(o.c, o.nonce) {
		return
	}
	var k uint64
	if o.nonce != "" {
		var id int64
		var err error
		k, id, err = r.findCopy(o.c.user.name, o.nonce, o.after)
		switch {
		case err != nil:
			r.log.Error("looking for a copy failed", "err", err)
			r.refuse(o.c, codeUnavailable, "Your message was not saved; try again.", o.nonce)
			return
		case id > 0:
			r.tell(o.c, duplicateFrame(id, o.nonce))
			return
		case id < 0: // in this batch: answered once it is committed
			r.origins = append(r.origins, originOf{c: o.c, nonce: o.nonce, copyOf: int(-id)})
			return
		}
	}
	if o.ref > 0 && !r.repliesTo(o) {
		return
	}
	if o.nonce != "" {
		r.nonces.pending(k, len(r.batch))
	}
	r.add(Event{Type: typeMessage, User: o.c.user.name, UserKey: o.c.user.key, Text: o.text, Nonce: o.nonce, TS: r.hub.now(), Ref: o.ref, Image: o.image}, o.c)
	r.stoppedTyping(o.c.user.key) // what they typed is here
}

// repliesTo reports whether message o.ref is there to reply to, or tells
// o's sender why not. A deleted message may be replied to: the reply was
// likely written before the delete, and is kept (it shows the message
// as deleted). Most replies answer a message the room keeps in memory,
// which needs no decoding to be known for one.
func (r *room) repliesTo(o op) bool {
	if i, ok := r.findRecent(o.ref); ok && bytes.HasPrefix(r.recent[i].raw, []byte(`{"type":"message",`)) {
		return true
	}
	e, ok, err := r.event(o.ref, o.old)
	switch {
	case err != nil:
		r.log.Error("reading a message to reply to", "id", o.ref, "err", err)
		r.refuse(o.c, codeUnavailable, "Your message was not saved; try again.", o.nonce)
	case !ok || e.Type != typeMessage:
		r.refuse(o.c, codeNotFound, "There is no such message in this room to reply to.", o.nonce)
	default:
		return true
	}
	return false
}

// messageText is a message's text as stored, trimmed, or the code and
// words that refuse it: the same rule for a message and an edit, but
// that a message with a picture may have none.
func messageText(text *string, picture bool) (string, code, string) {
	if text == nil {
		if picture {
			return "", "", ""
		}
		return "", codeInvalid, "A message needs text."
	}
	t := strings.TrimSpace(*text)
	switch n := utf8.RuneCountInString(t); {
	case n == 0 && !picture:
		return "", codeInvalid, "A message cannot be empty."
	case n > maxTextLen:
		return "", codeTooLong, "A message has at most 2000 characters."
	}
	return t, "", ""
}
