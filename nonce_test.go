package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// A message that repeats its sender's nonce in the room is stored once,
// whichever socket, tab or server process it comes through: the sender
// gets duplicate with the stored id, nobody else hears anything.
func TestNonceStoredOnce(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	alice, bob := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	a, _ := ts.MustDial(t, alice, "lobby", -1)
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	a.say("hello", "n1")
	first := a.MustNextOf(typeMessage)
	b.MustNextOf(typeMessage)

	a2, w := ts.MustDial(t, alice, "lobby", -1) // another tab
	mustCatchUp(a2, w)
	for _, tc := range []struct {
		name string
		c    *wsClient
	}{{"same socket", a}, {"another tab", a2}} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.say("hello again", "n1")
			d := tc.c.MustNextOf(typeDuplicate, typeMessage, typeError)
			if d.Type != typeDuplicate || d.ID != first.ID || d.Nonce != "n1" {
				t.Fatalf("got %+v, want duplicate of id %d with nonce n1", d, first.ID)
			}
		})
	}
	b.expectQuiet(200*time.Millisecond, typePresence)

	// The nonce is the sender's: bob's n1, and alice's n1 in another
	// room, are messages of their own.
	b.say("mine", "n1")
	if m := a.MustNextOf(typeMessage, typeDuplicate); m.User != "bob" || m.Text != "mine" {
		t.Errorf("bob's n1: %+v, want his message", m)
	}
	c, _ := ts.MustDial(t, alice, "kitchen", -1)
	c.say("elsewhere", "n1")
	if m := c.MustNextOf(typeMessage, typeDuplicate); m.Type != typeMessage {
		t.Errorf("n1 in another room: %+v, want a message", m)
	}
	// Nor do a name and a nonce run together: "ab"'s nonce "c1" is not
	// "a"'s "bc1".
	ab, _ := ts.MustDial(t, ts.MustLogin(t, "ab"), "kitchen", -1)
	ab.MustSay("from ab", "c1")
	aTab, _ := ts.MustDial(t, ts.MustLogin(t, "a"), "kitchen", -1)
	aTab.say("from a", "bc1")
	late := aTab.MustNextOf(typeMessage, typeDuplicate)
	for late.Type == typeMessage && late.Nonce != "bc1" { // the room's history first
		late = aTab.MustNextOf(typeMessage, typeDuplicate)
	}
	if late.Type != typeMessage || late.User != "a" {
		t.Errorf("a's bc1 after ab's c1: %+v, want a's message", late)
	}

	// Older than the room remembers, a copy is found in the store if the
	// sender says how far back to look: while the server runs, and after
	// a restart (a room loaded from the store, as after a long absence).
	// Of the 524 messages with a nonce, the room remembers the newest
	// nonceMemory: filler 9 is the newest it has forgotten.
	var f9 ev
	for i := range nonceMemory + 10 {
		b.say(fmt.Sprint("filler ", i), fmt.Sprint("f", i))
	}
	for m := b.MustNextOf(typeMessage); m.Text != fmt.Sprint("filler ", nonceMemory+9); m = b.MustNextOf(typeMessage) {
		if m.Text == "filler 9" {
			f9 = m
		}
	}
	// resend sends c's message m again, saying the newest id its sender
	// had seen before it: the one before it, or 0 (none: look from the
	// room's start).
	resendAfter := func(t *testing.T, c *wsClient, m ev, after int64) {
		t.Helper()
		c.send(map[string]any{"type": "message", "text": m.Text, "nonce": m.Nonce, "after": after})
		for {
			d := c.MustNextOf(typeDuplicate, typeMessage)
			if d.Type == typeDuplicate || d.User == m.User {
				if d.Type != typeDuplicate || d.ID != m.ID {
					t.Fatalf("%+v, want duplicate of %d", d, m.ID)
				}
				return
			}
		}
	}
	resend := func(t *testing.T, c *wsClient, m ev) { t.Helper(); resendAfter(t, c, m, m.ID-1) }
	t.Run("forgotten", func(t *testing.T) { resend(t, a, first) })
	t.Run("forgotten last", func(t *testing.T) { resend(t, b, f9) })
	for _, c := range []*wsClient{a, a2, b, c} {
		c.conn.Close()
	}
	ts.MustClose(t)
	ts = MustStart(t, dir)
	a, w = ts.MustDial(t, alice, "lobby", -1)
	mustCatchUp(a, w)
	t.Run("restarted", func(t *testing.T) { resend(t, a, first) })
	t.Run("restarted, from the start", func(t *testing.T) { resendAfter(t, a, first, 0) })
	a.say("new", "n2")
	m := a.MustNextOf(typeMessage)
	var texts []string
	for _, e := range MustHistory(t, ts, alice, "lobby", 0, m.ID+1) {
		if e.Type == typeMessage && !strings.HasPrefix(e.Text, "filler ") {
			texts = append(texts, e.User+":"+e.Text)
		}
	}
	if want := []string{"alice:hello", "bob:mine", "alice:new"}; !slices.Equal(texts, want) {
		t.Errorf("history %v, want %v", texts, want)
	}
}

// mustCatchUp reads a fresh socket's history, up to the welcome's last id.
func mustCatchUp(c *wsClient, w ev) {
	c.t.Helper()
	for w.LastID > 0 && c.MustNext().ID != w.LastID {
	}
}

// heldStore holds the first commit of a message text at its gate, so that
// the frames sent meanwhile queue and the writer takes them as one batch,
// and counts the messages of each commit after it.
type heldStore struct {
	Store
	*gate
	text    string
	mu      sync.Mutex
	commits []int // messages per commit, once the held one was made
}

func (h *heldStore) AppendEvents(ctx context.Context, room string, evs []Event) error {
	held := slices.ContainsFunc(evs, func(e Event) bool { return e.Text == h.text })
	if held {
		h.hold()
	}
	err := h.Store.AppendEvents(ctx, room, evs)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !held && h.commits != nil {
		h.commits = append(h.commits, countMessages(evs))
	}
	if held {
		h.commits = []int{}
	}
	return err
}

// MustStartHeld starts a server on dir, configured by mod, whose store
// holds the first commit of an event with text (a message, or an edit's
// new text) at its gate; the gate opens when the test ends too, so a
// failed test does not leave the commit held.
func MustStartHeld(t *testing.T, dir, text string, mod ...func(*Config)) (*testServer, *heldStore) {
	t.Helper()
	h := &heldStore{Store: MustOpenSQLite(t, dir), gate: newGate(), text: text}
	ts := MustStartStore(t, dir, h, mod...)
	t.Cleanup(h.release)
	return ts, h
}

func countMessages(evs []Event) int {
	n := 0
	for _, e := range evs {
		if e.Type == typeMessage {
			n++
		}
	}
	return n
}

// Copies inside one batch, and a copy of a stored message in the middle of
// one, leave the rest of the batch numbered without a gap.
func TestNonceCopiesInABatch(t *testing.T) {
	dir := t.TempDir()
	ts, h := MustStartHeld(t, dir, "hold")
	alice, bob := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	a, _ := ts.MustDial(t, alice, "lobby", -1)
	a2, _ := ts.MustDial(t, alice, "lobby", -1)
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	// bob's join puts the presence event off for up to a second (see
	// addPresence): once it is out, no timer can queue an op between the
	// frames below.
	for !slices.Contains(b.MustNextOf(typePresence).Online, "bob") {
	}
	a.say("old", "old")
	old := b.MustNextOf(typeMessage)

	b.say("hold", "")
	h.MustEnter(t, "the commit of hold")
	// Frames from one socket keep their order, from several they may not:
	// alice's first socket sends a copy of a stored message between two
	// new ones, her second tab the same "x" as the first.
	a.say("one", "x")
	a.say("old", "old")
	a.say("three", "y")
	a2.say("one", "x")
	b.say("two", "")
	// All five frames wait behind the held commit.
	MustEventually(t, "five frames queued for the room", func() bool { return ts.queued("lobby") == 5 })
	h.release()

	var got []string
	ids := map[string]int64{}
	next := old.ID + 1
	for len(got) < 4 {
		m := b.MustNextOf(typeMessage)
		if m.ID != next {
			t.Fatalf("bob got id %d (%s), want %d: ids must have no gap", m.ID, m.Text, next)
		}
		next++
		got = append(got, m.Text)
		ids[m.Text] = m.ID
	}
	if slices.Sort(got); !slices.Equal(got, []string{"hold", "one", "three", "two"}) {
		t.Errorf("stored %v, want hold, one, two and three once each", got)
	}
	b.expectQuiet(200*time.Millisecond, typePresence)
	h.mu.Lock()
	if !slices.Equal(h.commits, []int{3}) {
		t.Errorf("messages per commit after the held one: %v, want one commit of the three new ones", h.commits)
	}
	h.mu.Unlock()
	// Each copy's sender is told which message it repeats.
	dups := map[string]int64{}
	for _, c := range []*wsClient{a, a2} {
		for {
			e, err := c.next(500 * time.Millisecond)
			if err != nil {
				break
			}
			if e.Type == typeDuplicate {
				dups[e.Nonce] = e.ID
			}
		}
	}
	if dups["old"] != old.ID || dups["x"] != ids["one"] || len(dups) != 2 {
		t.Errorf("duplicates %v, want old→%d and x→%d", dups, old.ID, ids["one"])
	}
}

func TestSQLiteFindNonce(t *testing.T) {
	st := MustOpenSQLite(t, t.TempDir())
	defer st.Close()
	evs := []Event{
		{ID: 1, Type: typeMessage, User: "alice", Text: "a", Nonce: "n"},
		{ID: 2, Type: typeMessage, User: "bob", Text: "b", Nonce: "m"},
		{ID: 3, Type: typeMessage, User: "alice", Text: "c", Nonce: "m"},
	}
	if err := st.AppendEvents(context.Background(), "r", evs); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		room, user, nonce string
		after, upTo       int64
		want              int64
	}{
		{"r", "alice", "n", 0, 3, 1},
		{"r", "alice", "m", 0, 3, 3},
		{"r", "bob", "m", 0, 3, 2},
		{"r", "alice", "n", 1, 3, 0}, // after is exclusive
		{"r", "alice", "m", 0, 2, 0}, // upTo is inclusive, 3 is beyond it
		{"r", "carol", "n", 0, 3, 0},
		{"s", "alice", "n", 0, 3, 0},
	} {
		if id, err := st.FindNonce(context.Background(), tc.room, tc.user, tc.nonce, tc.after, tc.upTo); err != nil || id != tc.want {
			t.Errorf("FindNonce(%+v) = %d, %v; want %d", tc, id, err, tc.want)
		}
	}
}

// A client that sends again, all at once, many messages the room has
// stored (after a lost socket or a restart) gets each one's duplicate,
// and so do the copies among them and the edits it may not make: the
// room's answers to one socket go out together, not one frame each, so
// they cannot fill its queue (SOCKET_QUEUE frames) and get it closed as
// too slow.
func TestBurstOfAnswersFitsTheQueue(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.SocketBuffer = defaultConfig().SocketBuffer })
	alice := ts.MustLogin(t, "alice")
	a, _ := ts.MustDial(t, alice, "lobby", -1)
	const n = 40
	ids := map[string]int64{}
	for i := range n {
		nonce := fmt.Sprint("b", i)
		ids[nonce] = a.MustSay(fmt.Sprint("burst ", i), nonce).ID
	}
	bob := ts.MustLogin(t, "bob")
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	for i := range n {
		nonce := fmt.Sprint("b", i)
		b.send(map[string]any{"type": "edit", "id": ids[nonce], "text": "not yours", "nonce": "e" + nonce})
		a.say(fmt.Sprint("burst ", i), nonce)
	}
	for i := range n {
		nonce := fmt.Sprint("b", i)
		if d := a.MustNextOf(typeDuplicate, typeMessage, typeError); d.Type != typeDuplicate || d.ID != ids[nonce] || d.Nonce != nonce {
			t.Fatalf("answer %d: %+v, want duplicate of %d with nonce %s", i, d, ids[nonce], nonce)
		}
		if e := b.MustNextOf(typeError, typeEdit); e.Type != typeError || e.Code != string(codeForbidden) || e.Nonce != "e"+nonce {
			t.Fatalf("bob's edit %d: %+v, want forbidden", i, e)
		}
	}
}

// A room remembers the nonces of its newest nonceMemory messages however
// many it stores: each one past that forgets the oldest, and the floor
// is the newest forgotten, round after round of the ring.
func TestNonceMemoryBounded(t *testing.T) {
	n := nonces{ids: map[uint64]int64{}}
	const total = 3*nonceMemory + 5
	for id := int64(1); id <= total; id++ {
		n.remember(uint64(id)*7919, id)
	}
	if len(n.ids) != nonceMemory || n.floor != total-nonceMemory {
		t.Fatalf("after %d messages: %d nonces remembered, floor %d; want %d, floor %d", total, len(n.ids), n.floor, nonceMemory, total-nonceMemory)
	}
	for id := int64(1); id <= total; id++ {
		got, ok := n.ids[uint64(id)*7919]
		if want := id > total-nonceMemory; ok != want || ok && got != id {
			t.Fatalf("message %d: remembered %v as %d; want remembered %v", id, ok, got, want)
		}
	}
}
