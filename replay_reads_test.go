package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// gatedReads holds each replay read from the store whose after the test
// named (see hold) until the test lets it go, so that several reads can
// be under way at once and come back in the order the test chooses.
type gatedReads struct {
	Store
	mu    sync.Mutex
	gates map[int64]*gate
}

// hold makes the read of the events after id wait for its gate.
func (s *gatedReads) hold(t *testing.T, after int64) *gate {
	g := newGate()
	t.Cleanup(g.release)
	s.mu.Lock()
	s.gates[after] = g
	s.mu.Unlock()
	return g
}

func (s *gatedReads) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	s.mu.Lock()
	g := s.gates[after]
	s.mu.Unlock()
	if g != nil {
		g.hold()
	}
	return s.Store.Events(ctx, room, after, before, limit)
}

// While several sockets' replays are read from the store at once, the
// room keeps in memory what each of them will need when its read comes
// back: the events committed since the earliest read still under way
// began. When that read comes back first, what the next earliest needs
// is still kept, however much the room is told meanwhile; its socket
// gets every event, once and in order, instead of a 1011 ("history
// unavailable").
func TestReplayReadsUnderWayAtOnce(t *testing.T) {
	dir := t.TempDir()
	grace := func(c *Config) { c.PresenceGrace = 200 * time.Millisecond }
	ts := MustStart(t, dir, grace)
	ckA := ts.MustLogin(t, "alice")
	names := []string{"bob", "carol", "dave"}
	cks := map[string]*http.Cookie{}
	seen := map[string]int64{}
	for _, n := range names {
		cks[n] = ts.MustLogin(t, n)
		c, w := ts.MustDial(t, cks[n], "lobby", -1)
		seen[n] = w.LastID
		c.conn.Close()
	}
	a, _ := ts.MustDial(t, ckA, "lobby", -1)
	lastA := a.MustSayMany("before %d", historyOnJoin+20).ID // more than a loaded room holds
	a.conn.Close()
	ts.MustClose(t)

	st := &gatedReads{Store: MustOpenSQLite(t, dir), gates: map[int64]*gate{}}
	ts = MustStartStore(t, dir, st, grace)
	a, _ = ts.MustDial(t, ckA, "lobby", lastA)
	// Each read begins a few messages after the one before: the room's
	// pin on its memory is the first read's until that comes back.
	reads := map[string]*gate{}
	socks := map[string]*wsClient{}
	for i, n := range names {
		reads[n] = st.hold(t, seen[n])
		conn, _, err := ts.dial(cks[n], "lobby", seen[n])
		if err != nil {
			t.Fatal(err)
		}
		socks[n] = newWSClient(t, conn)
		reads[n].MustEnter(t, n+"'s replay read")
		for j := range 5 {
			a.MustSay(fmt.Sprintf("while %d of %s", j, names[:i+1]), "")
		}
	}
	mustWhole := func(n string) {
		t.Helper()
		w := socks[n].MustNext()
		if w.Type != typeWelcome || w.Truncated {
			t.Fatalf("%s's first event: %+v, want a welcome, not truncated", n, w)
		}
		evs := socks[n].MustReplayUpTo(w.LastID)
		for i, e := range evs {
			if want := seen[n] + 1 + int64(i); e.ID != want {
				t.Fatalf("%s's replay has id %d (%q) where %d belongs", n, e.ID, e.Text, want)
			}
		}
		if len(evs) == 0 || evs[len(evs)-1].ID != w.LastID {
			t.Fatalf("%s's replay ends before last_id %d", n, w.LastID)
		}
	}
	reads["bob"].release()
	mustWhole("bob")
	// Longer than the room's byte budget for its memory (recentBudget and
	// a quarter), so that it trims down to what the reads under way need.
	for i := range (recentBudget+recentBudget/4)/len(longestText(0)) + 5 {
		a.MustSay(longestText(i), "")
	}
	for _, n := range names[1:] {
		reads[n].release()
		mustWhole(n)
	}
}

// A fresh socket whose replay is read from the store (here: the rooms are
// over HISTORY_MEMORY, so the room keeps nothing but what a read needs)
// gets the newest historyOnJoin events, those committed while its read
// was under way among them, and no more.
func TestFreshReplayReadFromStore(t *testing.T) {
	dir := t.TempDir()
	st := &gatedReads{Store: MustOpenSQLite(t, dir), gates: map[int64]*gate{}}
	ts := MustStartStore(t, dir, st, func(c *Config) { c.HistoryMemory = 1 })
	a, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	a.MustSayMany("before %d", historyOnJoin+20)
	// Held from now on: the room is loaded, and this is bob's read.
	read := st.hold(t, 0)
	conn, _, err := ts.dial(ts.MustLogin(t, "bob"), "lobby", -1)
	if err != nil {
		t.Fatal(err)
	}
	read.MustEnter(t, "bob's replay read")
	for i := range 5 {
		a.MustSay(fmt.Sprint("during ", i), "")
	}
	read.release()
	b := newWSClient(t, conn)
	w := b.MustNext()
	if w.Type != typeWelcome || w.Truncated {
		t.Fatalf("bob's first event: %+v, want a welcome, not truncated", w)
	}
	evs := b.MustReplayUpTo(w.LastID)
	if len(evs) != historyOnJoin || evs[0].ID != w.LastID-historyOnJoin+1 || evs[len(evs)-1].Text != "during 4" {
		t.Fatalf("bob's replay: %d events from id %d, the last %q; want the newest %d, to %d (during 4)",
			len(evs), evs[0].ID, evs[len(evs)-1].Text, historyOnJoin, w.LastID)
	}
}
