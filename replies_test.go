package main

import (
	"testing"
	"time"
)

func replyFrame(text, nonce string, to any) map[string]any {
	return map[string]any{"type": "message", "text": text, "nonce": nonce, "reply_to": to}
}

// A reply names the message it answers, for everyone, and keeps naming it
// (from memory, from the history API, after a restart), also once that
// message is deleted.
func TestReplyMessage(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, bobCk, "lobby", -1)
	alice.say("lunch at noon?", "n1")
	alice.MustNextOf(typeMessage)
	q := bob.MustNextOf(typeMessage)
	bob.send(replyFrame("yes!", "r1", q.ID))
	bob.MustNextOf(typeMessage)
	r := alice.MustNextOf(typeMessage)
	if r.ReplyTo != q.ID || r.Text != "yes!" || r.User != "bob" || r.Nonce != "r1" {
		t.Fatalf("the reply: %+v, want bob's yes! replying to %d", r, q.ID)
	}
	if q.ReplyTo != 0 {
		t.Errorf("a message that replies to nothing has reply_to %d", q.ReplyTo)
	}
	// A copy of a reply is a copy, as of any message.
	bob.send(replyFrame("yes!", "r1", q.ID))
	if d := bob.MustNextOf(typeDuplicate, typeMessage); d.Type != typeDuplicate || d.ID != r.ID {
		t.Errorf("the reply sent again: %+v, want duplicate of %d", d, r.ID)
	}
	alice.send(deleteFrame(q.ID, "d"))
	alice.MustDeleted(q.ID, "alice")
	bob.send(replyFrame("too late?", "r2", q.ID)) // written before the delete reached bob
	late := alice.MustNextOf(typeMessage)

	mustReplies := func(what string, evs []ev) {
		t.Helper()
		n := 0
		for _, e := range evs {
			switch e.ID {
			case r.ID, late.ID:
				n++
				if e.ReplyTo != q.ID {
					t.Errorf("%s: %+v, want it replying to %d", what, e, q.ID)
				}
			case q.ID:
				if e.ReplyTo != 0 || !e.Deleted {
					t.Errorf("%s: the message replied to is %+v", what, e)
				}
			}
		}
		if n != 2 {
			t.Errorf("%s: %d of the two replies in %+v", what, n, evs)
		}
	}
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	var replay []ev
	for e := carol.MustNext(); e.ID <= late.ID; e = carol.MustNext() {
		replay = append(replay, e)
	}
	mustReplies("a fresh socket", replay)
	mustReplies("history", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40))
	ts.MustClose(t)
	ts = MustStart(t, dir)
	mustReplies("history after a restart", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40))
}

func TestReplyRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	alice.say("there", "n1")
	there := alice.MustNextOf(typeMessage)
	alice.MustRefuse(t, []refusal{
		{"no such message", replyFrame("hm", "x", there.ID+100), "not_found"},
		{"a join", replyFrame("hm", "x", 1), "not_found"},
		{"0", replyFrame("hm", "x", 0), "invalid"},
		{"negative", replyFrame("hm", "x", -3), "invalid"},
		{"not a number", replyFrame("hm", "x", "3"), "invalid"},
	}, typeMessage)
	// Refused, the nonce is free: the same message, fixed, is stored.
	alice.send(replyFrame("hm", "x", there.ID))
	if e := alice.MustNextOf(typeError, typeMessage); e.Type != typeMessage || e.Nonce != "x" || e.ReplyTo != there.ID {
		t.Errorf("the reply fixed: %+v", e)
	}
	bob.MustNextOf(typeMessage)
	bob.MustNextOf(typeMessage)
	bob.expectQuiet(200*time.Millisecond, typePresence, typeJoin)
}

// A reply to a message older than the room's memory is checked in the
// store.
func TestReplyToOldMessage(t *testing.T) {
	dir := t.TempDir()
	ck, first := MustOldMessage(t, dir, "an old one")
	ts := MustStart(t, dir)
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	alice.send(replyFrame("about that", "r", first.ID))
	var e ev
	for e = alice.MustNextOf(typeMessage, typeError); e.Type == typeMessage && e.Nonce != "r"; e = alice.MustNextOf(typeMessage, typeError) {
	}
	if e.Type != typeMessage || e.ReplyTo != first.ID {
		t.Errorf("a reply to an old message: %+v", e)
	}
}
