package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
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

	// A restarted server (a room loaded from the store, as after a long
	// absence) still knows.
	for _, c := range []*wsClient{a, a2, b, c} {
		c.conn.Close()
	}
	ts.MustClose(t)
	ts = MustStart(t, dir)
	a, w = ts.MustDial(t, alice, "lobby", -1)
	mustCatchUp(a, w)
	a.say("hello", "n1")
	if d := a.MustNextOf(typeDuplicate, typeMessage); d.Type != typeDuplicate || d.ID != first.ID {
		t.Fatalf("after a restart: %+v, want duplicate of %d", d, first.ID)
	}
	a.say("new", "n2")
	m := a.MustNextOf(typeMessage)
	var texts []string
	for _, e := range MustHistory(t, ts, alice, "lobby", 0, m.ID+1) {
		if e.Type == typeMessage {
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

// heldStore holds the first AppendEvents of a message text until open is
// closed, so that the frames sent meanwhile queue and the writer takes
// them as one batch.
type heldStore struct {
	Store
	text    string
	started chan struct{}
	open    chan struct{}
	once    sync.Once
}

func (h *heldStore) AppendEvents(ctx context.Context, room string, evs []Event) error {
	if slices.ContainsFunc(evs, func(e Event) bool { return e.Text == h.text }) {
		h.once.Do(func() { close(h.started); <-h.open })
	}
	return h.Store.AppendEvents(ctx, room, evs)
}

// Copies inside one batch, and a copy of a stored message in the middle of
// one, leave the rest of the batch numbered without a gap.
func TestNonceCopiesInABatch(t *testing.T) {
	dir := t.TempDir()
	sq, err := OpenSQLite(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	h := &heldStore{Store: sq, text: "hold", started: make(chan struct{}), open: make(chan struct{})}
	ts := MustStartStore(t, dir, h)
	openGate := sync.OnceFunc(func() { close(h.open) })
	t.Cleanup(openGate)
	alice, bob := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	a, _ := ts.MustDial(t, alice, "lobby", -1)
	a2, _ := ts.MustDial(t, alice, "lobby", -1)
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	a.say("old", "old")
	old := b.MustNextOf(typeMessage)

	b.say("hold", "")
	<-h.started
	// Frames from one socket keep their order, from several they may not:
	// alice's first socket sends a copy of a stored message between two
	// new ones, her second tab the same "x" as the first.
	a.say("one", "x")
	a.say("old", "old")
	a.say("three", "y")
	a2.say("one", "x")
	b.say("two", "")
	time.Sleep(100 * time.Millisecond) // let them queue behind the held commit
	openGate()

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

// The upgrade that adds the nonce index keeps every stored copy a database
// from before holds, taking the nonce off all but the first.
func TestNonceMigrationKeepsOldCopies(t *testing.T) {
	dir := t.TempDir()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(migrations[0] + `; PRAGMA user_version = 1`); err != nil {
		t.Fatal(err)
	}
	rows := []struct {
		room, user, nonce string
	}{{"r", "alice", "a"}, {"r", "alice", "a"}, {"r", "bob", "a"}, {"s", "alice", "a"}, {"r", "alice", ""}, {"r", "alice", ""}, {"r", "alice", "a"}}
	ids := map[string]int64{}
	for _, r := range rows {
		ids[r.room]++
		if _, err := raw.Exec(`INSERT INTO events (room, id, type, user, text, nonce, ts) VALUES (?, ?, 'message', ?, 'hi', ?, 0)`, r.room, ids[r.room], r.user, r.nonce); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	st, err := OpenSQLite(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var got []string
	for _, room := range []string{"r", "s"} {
		evs, err := st.Events(context.Background(), room, 0, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			got = append(got, fmt.Sprintf("%s%d:%s:%s", room, e.ID, e.User, e.Nonce))
		}
	}
	want := []string{"r1:alice:a", "r2:alice:", "r3:bob:a", "r4:alice:", "r5:alice:", "r6:alice:", "s1:alice:a"}
	if !slices.Equal(got, want) {
		t.Errorf("after the upgrade %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name string
		evs  []Event
		idx  int
	}{
		{"alone", []Event{{ID: 7, Type: typeMessage, User: "alice", Text: "again", Nonce: "a"}}, 0},
		{"in a batch", []Event{{ID: 7, Type: typeMessage, User: "bob", Text: "new", Nonce: "b"}, {ID: 8, Type: typeMessage, User: "alice", Text: "again", Nonce: "a"}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := st.AppendEvents(context.Background(), "r", tc.evs)
			var d *DuplicateError
			if !errors.As(err, &d) || d.Index != tc.idx || d.ID != 1 {
				t.Fatalf("AppendEvents: %v, want a duplicate of 1 at %d", err, tc.idx)
			}
			if evs, _ := st.Events(context.Background(), "r", 6, 0, 10); len(evs) != 0 {
				t.Errorf("stored %+v despite the copy", evs)
			}
		})
	}
}
