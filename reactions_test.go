package main

import (
	"encoding/json"
	"testing"
	"time"
)

func reactFrame(typ string, id int64, emoji, nonce string) map[string]any {
	return map[string]any{"type": typ, "id": id, "emoji": emoji, "nonce": nonce}
}

// MustReacted reads up to the next react or unreact event and checks it.
func (c *wsClient) MustReacted(typ string, ref int64, user, emoji string) ev {
	c.t.Helper()
	e := c.MustNextOf(typeReact, typeUnreact)
	if e.Type != typ || e.Ref != ref || e.User != user || e.Emoji != emoji || e.Text != "" {
		c.t.Fatalf("%+v, want %s %s by %s on %d", e, typ, emoji, user, ref)
	}
	return e
}

// reactionsJSON is reactions as the wire has them, for comparing.
func reactionsJSON(rs []Reaction) string {
	b, _ := json.Marshal(rs)
	return string(b)
}

// Reactions reach everyone at once, and a message carries them as they
// are now wherever it is read, in the same order: from memory, from the
// history API, and from the store after a restart. A delete takes them
// off with the message's text.
func TestReactions(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	alice.say("we shipped it", "n1")
	m := alice.MustNextOf(typeMessage)

	for _, step := range []struct {
		c     *wsClient
		typ   string
		user  string
		emoji string
	}{
		{bob, typeReact, "bob", "🎉"},
		{carol, typeReact, "carol", "🎉"},
		{bob, typeReact, "bob", "👍"},
		{alice, typeReact, "alice", "🎉"},
		{bob, typeUnreact, "bob", "🎉"},
		{carol, typeReact, "carol", "❤️"},
		{bob, typeReact, "bob", "🎉"}, // back on, now after alice
	} {
		step.c.send(reactFrame(step.typ, m.ID, step.emoji, ""))
		alice.MustReacted(step.typ, m.ID, step.user, step.emoji)
	}
	// What is so already stores nothing and answers nothing.
	bob.send(reactFrame(typeReact, m.ID, "👍", "again"))
	bob.send(reactFrame(typeUnreact, m.ID, "😢", "never"))
	bob.send(map[string]string{"type": "ping"})
	for e := bob.MustNextOf(typeReact, typeUnreact, typeError, typePong); e.Type != typePong; e = bob.MustNextOf(typeReact, typeUnreact, typeError, typePong) {
		if e.Nonce != "" || e.Type == typeError {
			t.Errorf("bob got %+v for a reaction that was so already", e)
		}
	}

	// In reactionSet's order; names in the order they reacted.
	want := `[{"emoji":"👍","users":["bob"]},{"emoji":"❤️","users":["carol"]},{"emoji":"🎉","users":["carol","alice","bob"]}]`
	messageIn := func(what string, evs []ev) ev {
		t.Helper()
		for _, e := range evs {
			if e.ID == m.ID {
				return e
			}
		}
		t.Fatalf("%s: no message %d in %+v", what, m.ID, evs)
		return ev{}
	}
	dave, _ := ts.MustDial(t, ts.MustLogin(t, "dave"), "lobby", -1)
	if got := reactionsJSON(messageIn("a fresh socket", []ev{dave.MustNextOf(typeMessage)}).Reactions); got != want {
		t.Errorf("a fresh socket (from memory): %s, want %s", got, want)
	}
	if got := reactionsJSON(messageIn("history", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40)).Reactions); got != want {
		t.Errorf("history: %s, want %s", got, want)
	}
	ts.MustClose(t)
	ts = MustStart(t, dir)
	if got := reactionsJSON(messageIn("history after a restart", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40)).Reactions); got != want {
		t.Errorf("history after a restart: %s, want %s", got, want)
	}
	erin, _ := ts.MustDial(t, ts.MustLogin(t, "erin"), "lobby", -1)
	if got := reactionsJSON(messageIn("a fresh socket after a restart", []ev{erin.MustNextOf(typeMessage)}).Reactions); got != want {
		t.Errorf("a fresh socket after a restart: %s, want %s", got, want)
	}

	alice, _ = ts.MustDial(t, aliceCk, "lobby", -1)
	alice.send(deleteFrame(m.ID, "d"))
	alice.MustDeleted(m.ID, "alice")
	if got := messageIn("history after the delete", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40)); got.Reactions != nil || !got.Deleted {
		t.Errorf("history after the delete: %+v, want it deleted with no reactions", got)
	}
	frank, _ := ts.MustDial(t, ts.MustLogin(t, "frank"), "lobby", -1)
	if got := messageIn("a fresh socket after the delete (from memory)", []ev{frank.MustNextOf(typeMessage)}); got.Reactions != nil || !got.Deleted {
		t.Errorf("a fresh socket after the delete (from memory): %+v, want it deleted with no reactions", got)
	}
	ts.MustClose(t)
	ts = MustStart(t, dir)
	if got := messageIn("the store after the delete", MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40)); got.Reactions != nil {
		t.Errorf("the store after the delete: %+v, want no reactions", got)
	}
}

func TestReactRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	alice.say("here", "n1")
	here := alice.MustNextOf(typeMessage)
	gone := MustGoneMessage(alice, bob)
	bob.MustRefuse(t, []refusal{
		{"an emoji not in the set", reactFrame(typeReact, here.ID, "🍕", "x"), "invalid"},
		{"text for an emoji", reactFrame(typeReact, here.ID, "nice", "x"), "invalid"},
		{"no emoji", map[string]any{"type": "react", "id": here.ID, "nonce": "x"}, "invalid"},
		{"no id", map[string]any{"type": "unreact", "emoji": "👍", "nonce": "x"}, "invalid"},
		{"id 0", reactFrame(typeReact, 0, "👍", "x"), "invalid"},
		{"no such message", reactFrame(typeReact, here.ID+100, "👍", "x"), "not_found"},
		{"a join", reactFrame(typeReact, 1, "👍", "x"), "not_found"},
		{"a deleted message", reactFrame(typeReact, gone.ID, "👍", "x"), "not_found"},
	}, typeReact)
	alice.expectQuiet(200*time.Millisecond, typePresence, typeJoin)
}

func TestWithReaction(t *testing.T) {
	on := func(user, emoji string) Event {
		return Event{Type: typeReact, User: user, UserKey: nameKey(user), Text: emoji}
	}
	off := func(user, emoji string) Event {
		return Event{Type: typeUnreact, User: user, UserKey: nameKey(user), Text: emoji}
	}
	var rs []Reaction
	for _, e := range []Event{on("Bob", "🎉"), on("amy", "👀"), on("cat", "👍"), on("amy", "🎉"), off("bob", "🎉"), off("cat", "👍"), off("zed", "👀")} {
		rs = withReaction(rs, e)
	}
	// Bob's reaction is his name's: "bob" takes it off.
	if got, want := reactionsJSON(rs), `[{"emoji":"🎉","users":["amy"]},{"emoji":"👀","users":["amy"]}]`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if rs = withReaction(withReaction(rs, off("amy", "🎉")), off("amy", "👀")); rs != nil {
		t.Errorf("all taken off: %v, want nil", rs)
	}
}

// A message older than the room's memory is read from the store to be
// reacted to, reactions and all: asking again for what is so stores
// nothing there either.
func TestReactOldMessage(t *testing.T) {
	dir := t.TempDir()
	ck, first := MustOldMessage(t, dir, "an old one")
	ts := MustStart(t, dir)
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	alice.send(reactFrame(typeReact, first.ID, "👀", ""))
	alice.MustReacted(typeReact, first.ID, "alice", "👀")
	alice.send(reactFrame(typeReact, first.ID, "👀", "again"))
	alice.send(map[string]string{"type": "ping"})
	if e := alice.MustNextOf(typeReact, typeError, typePong); e.Type != typePong {
		t.Errorf("a reaction the old message has already: %+v", e)
	}
	h := MustHistory(t, ts, ck, "lobby", first.ID-1, first.ID+1)
	if len(h) != 1 || reactionsJSON(h[0].Reactions) != `[{"emoji":"👀","users":["alice"]}]` {
		t.Errorf("history of the old message: %+v", h)
	}
}
