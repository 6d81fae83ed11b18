package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// MustTyping reads up to the next typing event and checks who it names.
func (c *wsClient) MustTyping(count int, users ...string) ev {
	c.t.Helper()
	e := c.MustNextOf(typeTyping)
	if e.Count != count || !slices.Equal(e.Users, users) || e.Users == nil {
		c.t.Fatalf("typing %v (count %d), want %v (count %d)", e.Users, e.Count, users, count)
	}
	return e
}

func typingFrame() map[string]string { return map[string]string{"type": "typing"} }

// typingRoom is a server on a stopped clock (see stoppedClock) with
// alice and bob in the lobby, alice past both their joins.
type typingRoom struct {
	ts         *testServer
	clock      *stoppedClock
	alice, bob *wsClient
	bobCk      *http.Cookie
}

func mustTypingRoom(t *testing.T, mod ...func(*Config)) typingRoom {
	t.Helper()
	clock := newStoppedClock()
	ts := MustStartClock(t, t.TempDir(), clock, mod...)
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	bobCk := ts.MustLogin(t, "bob")
	bob, _ := ts.MustDial(t, bobCk, "lobby", -1)
	alice.MustNextOf(typeJoin)
	alice.MustNextOf(typeJoin)
	return typingRoom{ts, clock, alice, bob, bobCk}
}

// stoppedClock is a server clock that moves only when the test moves it.
// Typing runs on it (notices' time, the coalescing second), so a typing
// event that comes can only be one the test asked for, not one from a
// notice running out meanwhile.
type stoppedClock struct{ ns atomic.Int64 }

func newStoppedClock() *stoppedClock {
	c := &stoppedClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *stoppedClock) now() time.Time       { return time.Unix(0, c.ns.Load()) }
func (c *stoppedClock) skip(d time.Duration) { c.ns.Add(int64(d)) }

func TestTyping(t *testing.T) {
	// A grace of a minute: bob's leave does not end his typing first.
	r := mustTypingRoom(t, func(c *Config) { c.PresenceGrace = time.Minute })
	ts, clock, alice, bob, bobCk := r.ts, r.clock, r.alice, r.bob, r.bobCk

	// The first change goes out at once.
	bob.send(typingFrame())
	alice.MustTyping(1, "bob")

	// Who types now comes with welcome, after the replay, not only from
	// the next change.
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	for e := carol.MustNext(); e.Type != typeTyping; e = carol.MustNext() {
		if e.Type != typeJoin {
			t.Fatalf("carol got %+v before the typing event", e)
		}
	}

	// A message ends its sender's typing, in a typing event at most a
	// second after the previous one (bob's notice has 4 s left).
	bob.say("hi", "n1")
	if m := alice.MustNextOf(typeMessage); m.Text != "hi" || m.ID != 4 {
		t.Fatalf("message %+v, want bob's hi as id 4 (typing is not stored)", m)
	}
	clock.skip(presenceEvery)
	alice.MustTyping(0)

	// Nobody types without a socket: bob's last one closing ends it,
	// not his notice running out. Another tab of his closing does not.
	bob.send(typingFrame())
	clock.skip(presenceEvery)
	alice.MustTyping(1, "bob")
	tab, _ := ts.MustDial(t, bobCk, "lobby", -1)
	tab.conn.Close()
	clock.skip(presenceEvery)
	alice.expectQuiet(500*time.Millisecond, typePresence)
	bob.conn.Close()
	clock.skip(presenceEvery)
	alice.MustTyping(0)

	// A notice counts for typingFor: carol's has run out by the time
	// dave starts.
	carol.send(typingFrame())
	clock.skip(presenceEvery)
	alice.MustTyping(1, "carol")
	clock.skip(typingFor)
	dave, _ := ts.MustDial(t, ts.MustLogin(t, "dave"), "lobby", -1)
	dave.send(typingFrame())
	alice.MustTyping(1, "dave")

	// None of it is history.
	resp, body := ts.get(t, "/api/rooms/lobby/messages", bobCk)
	if resp.StatusCode != 200 || strings.Contains(body, "typing") {
		t.Errorf("history: %d %s", resp.StatusCode, body)
	}
}

// Nobody need say they stopped: a notice runs out by itself, on the
// room's timer.
func TestTypingRunsOut(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	bob.send(typingFrame())
	alice.MustTyping(1, "bob")
	start := time.Now()
	alice.MustTyping(0)
	if waited := time.Since(start); waited < typingFor/2 {
		t.Errorf("bob's notice was forgotten after %v; it counts for %v", waited, typingFor)
	}
}

// A crowd starting to type at once is told as a few events, not one per
// typist, each naming typingShown of them, with the count.
func TestTypingCoalesced(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
	const n = 12
	var names []string
	var typists []*wsClient
	for i := range n {
		name := fmt.Sprintf("typist%02d", i)
		names = append(names, name)
		c, _ := ts.MustDial(t, ts.MustLogin(t, name), "lobby", -1)
		typists = append(typists, c)
	}
	for _, c := range typists {
		c.send(typingFrame())
	}
	var events []ev
	for {
		e := watcher.MustNextOf(typeTyping)
		events = append(events, e)
		if e.Count == n {
			break
		}
	}
	if len(events) > 3 {
		t.Errorf("%d typing events for %d typists starting together, want at most 3 (one a second): %+v", len(events), n, events)
	}
	last := events[len(events)-1].Users
	if len(last) != typingShown || len(slices.Compact(slices.Sorted(slices.Values(last)))) != typingShown {
		t.Errorf("typing names %v, want %d of them", last, typingShown)
	}
	for _, name := range last {
		if !slices.Contains(names, name) {
			t.Errorf("typing names %v: %q is not typing", last, name)
		}
	}
}

// The typists named are those typing longest: someone who just started
// does not push out who was first.
func TestTypingLineOrder(t *testing.T) {
	r := &room{name: "lobby"}
	r.typing.who = map[string]*typist{}
	for i, name := range []string{"eve", "zed", "dan", "cat", "bob", "amy"} {
		r.typing.who[name] = &typist{name: name, start: uint64(i + 1)}
	}
	for _, c := range []struct {
		shown int
		want  string
	}{
		{5, `{"type":"typing","room":"lobby","users":["eve","zed","dan","cat","bob"],"count":6}`},
		{1, `{"type":"typing","room":"lobby","users":["eve"],"count":6}`},
	} {
		if got := string(r.typingLine(c.shown)); got != c.want {
			t.Errorf("typingLine(%d) = %s, want %s", c.shown, got, c.want)
		}
	}
	r.typing.who = nil
	if got, want := string(r.typingLine(typingShown)), `{"type":"typing","room":"lobby","users":[],"count":0}`; got != want {
		t.Errorf("nobody typing: %s, want %s", got, want)
	}
}

// On a real server too, typists are named in the order they started,
// whatever their names, and one who types on keeps their place.
func TestTypingNamedInTheOrderStarted(t *testing.T) {
	clock := newStoppedClock()
	ts := MustStartClock(t, t.TempDir(), clock)
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
	names := []string{"zoe", "yan", "xia", "wu", "vic", "uma"}
	typists := map[string]*wsClient{}
	for _, name := range names {
		typists[name], _ = ts.MustDial(t, ts.MustLogin(t, name), "lobby", -1)
	}
	for i, name := range names {
		if i > 0 {
			clock.skip(presenceEvery) // so that each event goes out at once
		}
		if i == 3 {
			// zoe types on (her notice would run out before the last
			// typist starts): she keeps her place, and no event says so.
			typists["zoe"].send(typingFrame())
		}
		typists[name].send(typingFrame())
		watcher.MustTyping(i+1, names[:min(i+1, typingShown)]...)
	}
}

// A client sending notices in a loop changes nothing for the others, and
// its socket and messages go on working. Notices are paced per session:
// one a typingGap reaches a room, whichever socket sends it.
func TestTypingFloodIsPaced(t *testing.T) {
	r := mustTypingRoom(t)
	ts, clock, alice, bob, bobCk := r.ts, r.clock, r.alice, r.bob, r.bobCk
	for range 300 {
		bob.send(typingFrame())
	}
	bob.say("after the flood", "n1")
	alice.MustTyping(1, "bob")
	if m := alice.MustNextOf(typeMessage, typeTyping); m.Type != typeMessage || m.Text != "after the flood" {
		t.Fatalf("got %+v, want bob's message and no other typing event first", m)
	}
	clock.skip(presenceEvery)
	alice.MustTyping(0)

	// Right after bob's notice in the kitchen, one from his socket in the
	// lobby is dropped, until typingGap has passed. (Its pong says the
	// lobby socket has read the notice.)
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "kitchen", -1)
	bob2, _ := ts.MustDial(t, bobCk, "kitchen", -1)
	bob2.send(typingFrame())
	carol.MustTyping(1, "bob")
	bob.send(typingFrame())
	bob.send(map[string]string{"type": "ping"})
	bob.MustNextOf(typePong)
	clock.skip(presenceEvery)
	alice.expectQuiet(2*presenceEvery, typePresence)
	bob.send(typingFrame())
	alice.MustTyping(1, "bob")
}

func TestTypingAllowed(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	u := &user{}
	for _, c := range []struct {
		at   time.Duration
		want bool
	}{
		{0, true},
		{typingGap / 2, false},
		{typingGap - time.Nanosecond, false},
		{typingGap, true},
		{typingGap + time.Millisecond, false},
		{3 * typingGap, true},
	} {
		if got := typingAllowed(u, t0.Add(c.at)); got != c.want {
			t.Errorf("notice at +%v: allowed %v, want %v", c.at, got, c.want)
		}
	}
}

// A typist who clears their draft says so, and goes off the list then,
// not when their notice runs out. Stops are paced by the notices: one
// per notice passed on, the rest dropped.
func TestTypingStopped(t *testing.T) {
	r := mustTypingRoom(t)
	clock, alice, bob := r.clock, r.alice, r.bob
	stopped := map[string]any{"type": "typing", "stopped": true}

	bob.send(typingFrame())
	alice.MustTyping(1, "bob")
	for range 50 {
		bob.send(stopped)
	}
	clock.skip(presenceEvery) // the coalescing second, not typingFor
	alice.MustTyping(0)

	// The 49 other stops were dropped: they do not undo the next notice.
	clock.skip(typingGap)
	bob.send(typingFrame())
	alice.MustTyping(1, "bob")
	bob.send(map[string]string{"type": "ping"})
	bob.MustNextOf(typePong) // the notice is read; no stop came after it
	clock.skip(presenceEvery)
	alice.expectQuiet(2*presenceEvery, typePresence)
}

func TestTypingStopAllowed(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	u := &user{}
	if typingStopAllowed(u) {
		t.Errorf("a stop before any notice was allowed")
	}
	typingAllowed(u, t0)
	if !typingStopAllowed(u) || typingStopAllowed(u) {
		t.Errorf("after one notice, want one stop allowed and the next dropped")
	}
	typingAllowed(u, t0.Add(typingGap/2)) // dropped: no stop for it
	if typingStopAllowed(u) {
		t.Errorf("a stop after a dropped notice was allowed")
	}
}

// Logging out ends a typist's typing with their leave, not when their
// notice runs out.
func TestTypingEndsWithLogout(t *testing.T) {
	r := mustTypingRoom(t)
	ts, clock, alice, bob, bobCk := r.ts, r.clock, r.alice, r.bob, r.bobCk
	bob.send(typingFrame())
	alice.MustTyping(1, "bob")
	ts.MustLogout(t, bobCk)
	if e := alice.MustNextOf(typeLeave); e.User != "bob" {
		t.Fatalf("leave of %q, want bob", e.User)
	}
	clock.skip(presenceEvery) // the coalescing second, not typingFor
	alice.MustTyping(0)
}
