package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func editFrame(id int64, text, nonce string) map[string]any {
	return map[string]any{"type": "edit", "id": id, "text": text, "nonce": nonce}
}

// MustEdited reads up to the next edit event and checks it.
func (c *wsClient) MustEdited(ref int64, user, text string) ev {
	c.t.Helper()
	e := c.MustNextOf(typeEdit)
	if e.Ref != ref || e.User != user || e.Text != text || e.ID <= ref {
		c.t.Fatalf("edit %+v, want %s giving %d the text %q", e, user, ref, text)
	}
	return e
}

// An edit reaches everyone in the room at once, and everyone who comes
// later (from memory, from the history API, from the store after a
// restart, and by resuming) sees only the newest text. The earlier ones
// are nowhere, not even in the database file.
func TestEditMessage(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, bobCk, "lobby", -1)
	alice.say("see you at five-o-clock", "n1")
	m := bob.MustNextOf(typeMessage)

	alice.send(editFrame(m.ID, "  see you at six-o-clock\n", "e1"))
	e1 := bob.MustEdited(m.ID, "alice", "see you at six-o-clock")
	alice.MustEdited(m.ID, "alice", "see you at six-o-clock")
	alice.send(editFrame(m.ID, "see you at 七点", "e2"))
	e2 := bob.MustEdited(m.ID, "alice", "see you at 七点")
	if e1.ID <= m.ID || e2.ID != e1.ID+1 {
		t.Errorf("edit ids %d, %d after message %d: want the next ids", e1.ID, e2.ID, m.ID)
	}

	// What each way in shows: the message with the newest text and when
	// it was edited, and the first edit without its text.
	mustNewest := func(what string, evs []ev) {
		t.Helper()
		var msg, first, second *ev
		for i := range evs {
			switch evs[i].ID {
			case m.ID:
				msg = &evs[i]
			case e1.ID:
				first = &evs[i]
			case e2.ID:
				second = &evs[i]
			}
		}
		switch {
		case msg == nil || first == nil || second == nil:
			t.Errorf("%s: want message %d and edits %d, %d in %+v", what, m.ID, e1.ID, e2.ID, evs)
		case msg.Text != "see you at 七点" || msg.Edited != e2.TS || msg.TS != m.TS || msg.Deleted:
			t.Errorf("%s: message %+v, want the newest text, edited at %s, sent at %s", what, *msg, e2.TS, m.TS)
		case first.Type != typeEdit || first.Ref != m.ID || first.Text != "":
			t.Errorf("%s: first edit %+v, want it without its text", what, *first)
		case second.Type != typeEdit || second.Ref != m.ID || second.Text != "see you at 七点":
			t.Errorf("%s: second edit %+v, want the newest text", what, *second)
		}
	}
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	mustNewest("a fresh socket", carol.MustReplayUpTo(e2.ID+1))
	bob2, _ := ts.MustDial(t, bobCk, "lobby", m.ID-1)
	mustNewest("a resume", bob2.MustReplayUpTo(e2.ID))
	mustNewest("history", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40))
	ts.MustClose(t)

	for _, old := range []string{"five-o-clock", "six-o-clock"} {
		if b, err := os.ReadFile(filepath.Join(dir, "chat.db")); err != nil || bytes.Contains(b, []byte(old)) {
			t.Errorf("chat.db (%v) still holds the replaced text %q", err, old)
		}
	}
	ts = MustStart(t, dir)
	mustNewest("history after a restart", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40))
	dave, _ := ts.MustDial(t, ts.MustLogin(t, "dave"), "lobby", -1)
	mustNewest("a fresh socket after a restart", dave.MustReplayUpTo(e2.ID+1))

	// A reaction replaces no text: the newest edit keeps its own, which
	// a client applies to a picture's caption.
	dave.send(reactFrame(typeReact, m.ID, "👍", "r"))
	r := dave.MustNextOf(typeReact)
	erin, _ := ts.MustDial(t, ts.MustLogin(t, "erin"), "lobby", -1)
	mustNewest("a fresh socket after a reaction", erin.MustReplayUpTo(r.ID))

	// A delete takes the newest text from the edits too, in the room's
	// memory as in the store.
	alice, _ = ts.MustDial(t, aliceCk, "lobby", -1)
	alice.send(deleteFrame(m.ID, "d"))
	d := alice.MustDeleted(m.ID, "alice")
	frank, _ := ts.MustDial(t, ts.MustLogin(t, "frank"), "lobby", -1)
	for what, evs := range map[string][]ev{
		"history":        MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40),
		"a fresh socket": frank.MustReplayUpTo(d.ID),
	} {
		for _, e := range evs {
			if strings.Contains(e.Text, "see you") || e.ID == m.ID && (!e.Deleted || e.Edited != "") {
				t.Errorf("after the delete, %s has %+v", what, e)
			}
		}
	}
}

// A second edit of a message empties only its own earlier edit: an edit
// of another message between them keeps its text, in the room's memory
// as in the store, where a client applies it to a picture's caption.
func TestEditLeavesOtherMessagesEdits(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	a, _ := ts.MustDial(t, ck, "lobby", -1)
	m1, m2 := a.MustSay("one", "n1"), a.MustSay("two", "n2")
	a.send(editFrame(m1.ID, "one, edited", "e1"))
	a.MustEdited(m1.ID, "alice", "one, edited")
	a.send(editFrame(m2.ID, "two, edited", "e2"))
	e2 := a.MustEdited(m2.ID, "alice", "two, edited")
	a.send(editFrame(m1.ID, "one, again", "e3"))
	e3 := a.MustEdited(m1.ID, "alice", "one, again")

	b, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	for what, evs := range map[string][]ev{
		"a fresh socket": b.MustReplayUpTo(e3.ID),
		"history":        MustHistory(t, ts, ck, "lobby", 0, 1<<40),
	} {
		i := slices.IndexFunc(evs, func(e ev) bool { return e.ID == e2.ID })
		if i < 0 || evs[i].Text != "two, edited" {
			t.Errorf("%s: the edit of the other message is %+v, want its text", what, evs[max(i, 0)])
		}
	}
}

// An edit or a delete of a message that is not the session's own, or not
// there, or with a bad frame, is refused, with the frame's nonce, and the
// room hears nothing of it.
func TestChangeRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	aliceCk := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	alice.say("mine", "n1")
	mine := alice.MustNextOf(typeMessage)
	bob.say("bob's", "n2")
	bobs := alice.MustNextOf(typeMessage)
	gone := MustGoneMessage(alice, bob)
	alice.MustRefuse(t, []refusal{
		{"another's message", editFrame(bobs.ID, "mine now", "x"), "forbidden"},
		{"a join", editFrame(1, "hi", "x"), "not_found"},
		{"no such id", editFrame(999, "hi", "x"), "not_found"},
		{"a deleted message", editFrame(gone.ID, "back", "x"), "not_found"},
		{"id 0", editFrame(0, "hi", "x"), "invalid"},
		{"no id", map[string]any{"type": "edit", "text": "hi", "nonce": "x"}, "invalid"},
		{"no text", map[string]any{"type": "edit", "id": mine.ID, "nonce": "x"}, "invalid"},
		{"empty text", editFrame(mine.ID, " \n ", "x"), "invalid"},
		{"text not a string", map[string]any{"type": "edit", "id": mine.ID, "text": 3, "nonce": "x"}, "invalid"},
		{"too long", editFrame(mine.ID, strings.Repeat("字", maxTextLen+1), "x"), "too_long"},
		{"the same text", editFrame(mine.ID, " mine ", "x"), "invalid"},
		{"delete another's message", deleteFrame(bobs.ID, "x"), "forbidden"},
		{"delete a join", deleteFrame(1, "x"), "not_found"},
		{"delete no such id", deleteFrame(999, "x"), "not_found"},
		{"delete id 0", deleteFrame(0, "x"), "invalid"},
		{"delete no id", map[string]any{"type": "delete", "nonce": "x"}, "invalid"},
		{"delete id not a number", map[string]any{"type": "delete", "id": "3", "nonce": "x"}, "invalid"},
	}, typeEdit, typeDelete)
	// The name's next holder did not send alice's messages.
	ts.MustLogout(t, aliceCk)
	next, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	for _, f := range []map[string]any{editFrame(mine.ID, "rewritten", "x"), deleteFrame(mine.ID, "x")} {
		next.send(f)
		// (Not waiting for edits or deletes: the replay has alice's.)
		if e := next.MustNextOf(typeError); e.Code != "forbidden" {
			t.Errorf("a later alice changing the earlier one's message with %v: %+v, want forbidden", f, e)
		}
	}
	bob.expectQuiet(300*time.Millisecond, typeMessage, typePresence, typeJoin, typeLeave)
}

// A message older than what the room keeps in memory is read from the
// store to be checked, and edited there; an edit whose commit failed is
// not kept for the next commit: its sender is told, and sends it again.
func TestEditOldMessageAndFailedCommit(t *testing.T) {
	dir := t.TempDir()
	ck, first := MustOldMessage(t, dir, "the frist")
	st := &brokenStore{Store: MustOpenSQLite(t, dir)}
	ts := MustStartStore(t, dir, st)
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	st.broken.Store(true)
	alice.send(editFrame(first.ID, "the first", "e1"))
	if e := alice.MustNextOf(typeError, typeEdit); e.Code != string(codeUnavailable) || e.Nonce != "e1" {
		t.Fatalf("an edit the store refused: %+v, want unavailable for e1", e)
	}
	st.broken.Store(false)
	alice.say("next", "n2")
	if e := alice.MustNextOf(typeMessage, typeEdit); e.Type != typeMessage {
		t.Fatalf("after the store healed: %+v, want the next message, not the failed edit", e)
	}
	alice.send(editFrame(first.ID, "the first", "e2"))
	alice.MustEdited(first.ID, "alice", "the first")
	h := MustHistory(t, ts, ck, "lobby", first.ID-1, first.ID+1)
	if len(h) != 1 || h[0].Text != "the first" || h[0].Edited == "" {
		t.Errorf("history of the old message: %+v", h)
	}
}
