package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func (ts *testServer) roomLoaded(name string) bool {
	ts.hub.mu.Lock()
	defer ts.hub.mu.Unlock()
	return ts.hub.rooms[name] != nil
}

// queued is how many ops wait for the room's writer (0 when it is not
// loaded).
func (ts *testServer) queued(name string) int {
	ts.hub.mu.Lock()
	defer ts.hub.mu.Unlock()
	if r := ts.hub.rooms[name]; r != nil {
		return len(r.ops)
	}
	return 0
}

// MustUnload waits until the room has unloaded itself.
func (ts *testServer) MustUnload(t *testing.T, name string) {
	t.Helper()
	MustEventually(t, fmt.Sprintf("room %q unloads", name), func() bool { return !ts.roomLoaded(name) })
}

// A room somebody holds (a socket between its checks and its upgrade, a
// restored presence) stays loaded however idle it is, so the op they are
// about to send never reaches a writer that has gone; let go, it unloads.
func TestHeldRoomStaysLoaded(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.RoomIdle = 20 * time.Millisecond })
	// The first holder loads it; the second finds it loaded.
	var held [2]*room
	for i := range held {
		r, err := ts.hub.room(context.Background(), "held", nil)
		if err != nil {
			t.Fatal(err)
		}
		held[i] = r
	}
	if held[0] != held[1] {
		t.Fatal("the second holder got a room of its own")
	}
	for _, r := range held {
		time.Sleep(200 * time.Millisecond) // ten idle ticks
		if !ts.roomLoaded("held") {
			t.Fatal("a held room unloaded")
		}
		ts.hub.release(r)
	}
	ts.MustUnload(t, "held")
}

// An idle room unloads only when nothing can still reach its writer:
// nobody holds it, no op waits in its queue, and the server is not
// stopping (the stop waits for every room it found).
func TestRetire(t *testing.T) {
	for _, tc := range []struct {
		name             string
		holders          int
		queued, stopping bool
		unloads          bool
	}{
		{name: "idle", unloads: true},
		{name: "held", holders: 1},
		{name: "an op queued", queued: true},
		{name: "stopping", stopping: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &room{name: "quiet", ops: make(chan op, 1), holders: tc.holders}
			h := &Hub{rooms: map[string]*room{"quiet": r}}
			if tc.queued {
				r.ops <- op{kind: opPresence}
			}
			h.closing.Store(tc.stopping)
			if got := h.retire(r); got != tc.unloads || (h.rooms["quiet"] == nil) != tc.unloads {
				t.Errorf("retire %v, room loaded %v; want it unloaded: %v", got, h.rooms["quiet"] != nil, tc.unloads)
			}
		})
	}
}

// A frame that reaches the room after its sender was kicked (logged out)
// is refused, and a typing notice ignored: the session has ended, and
// nothing more is said or shown in its name. Only a narrow race gets
// them there: the reader hands on only frames from a socket not yet
// closing, and logout closes the sockets before it kicks. So the test
// hands the room the kick and the frames itself, in that order, with
// alice's socket still open to hear why.
func TestFrameAfterKickIsRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	a, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	bob := ts.MustLogin(t, "bob")
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	a.MustNextOf(typeJoin)
	ts.hub.mu.Lock()
	r := ts.hub.rooms["lobby"]
	r.holders++ // as a socket does, to send ops
	c := ts.hub.users[nameKey("alice")].clients[0]
	ts.hub.mu.Unlock()
	defer ts.hub.release(r)

	r.send(op{kind: opKick, key: c.user.key})
	r.send(op{kind: opTyping, c: c})
	r.send(op{kind: opMessage, c: c, text: "late", nonce: "l", after: -1})
	if e := a.MustNextOf(typeError, typeMessage); e.Type != typeError || e.Code != string(codeUnavailable) || e.Nonce != "l" {
		t.Errorf("alice's frame after the kick: %+v, want unavailable for l", e)
	}
	if e := b.MustNextOf(typeLeave, typeMessage, typeTyping); e.Type != typeLeave || e.User != "alice" {
		t.Errorf("bob got %+v, want alice's leave", e)
	}
	b.expectQuiet(200*time.Millisecond, typePresence)
	for _, e := range MustHistory(t, ts, bob, "lobby", 0, 1<<40) {
		if e.Type == typeMessage && e.Text == "late" {
			t.Errorf("stored %+v", e)
		}
	}
}

// An empty room unloads itself; the next socket loads it again with its
// history and numbering intact.
func TestIdleRoomUnloadsAndReloads(t *testing.T) {
	// The grace is longer than the idle time: a room stays through it.
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.RoomIdle = 20 * time.Millisecond; c.PresenceGrace = 300 * time.Millisecond })
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "quiet", -1)
	c.say("before", "n1")
	c.MustNextOf(typeMessage)
	// While someone is in it, the room stays.
	time.Sleep(100 * time.Millisecond)
	if !ts.roomLoaded("quiet") {
		t.Fatal("room unloaded with a socket open")
	}
	c.conn.Close()
	ts.MustUnload(t, "quiet") // after the grace: alice's leave is committed first
	var stored []string
	evs, err := ts.store.Events(context.Background(), "quiet", 0, 0, 10)
	for _, e := range evs {
		stored = append(stored, e.Type)
	}
	if strings.Join(stored, " ") != "join message leave" || err != nil {
		t.Fatalf("stored when the room unloaded: %v, %v; want alice's leave among them", stored, err)
	}

	c2, w := ts.MustDial(t, ck, "quiet", 0)
	if w.LastID != 4 {
		t.Fatalf("welcome after reload has last_id %d, want 4 (join, message, leave, and this join)", w.LastID)
	}
	for i, want := range []string{typeJoin, typeMessage, typeLeave, typeJoin} {
		if e := c2.MustNext(); e.Type != want || e.ID != int64(i+1) {
			t.Fatalf("event %d is %s %d, want %s %d", i, e.Type, e.ID, want, i+1)
		}
	}
	c2.say("after", "n2")
	if e := c2.MustNextOf(typeMessage); e.ID != 5 || e.Text != "after" {
		t.Errorf("message after reload %+v, want id 5", e)
	}
}

// Sockets coming and going while their room keeps unloading and loading
// again: every message is stored once, in order, with no gap.
func TestRoomUnloadRacesWithSockets(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.RoomIdle = time.Millisecond; c.PresenceGrace = time.Millisecond })
	const users, rounds = 2, 20
	var wg sync.WaitGroup
	for u := range users {
		ck := ts.MustLogin(t, fmt.Sprint("u", u))
		wg.Go(func() {
			for i := range rounds {
				c, _ := ts.MustDial(t, ck, "flaky", -1)
				nonce := fmt.Sprint(u, "-", i)
				c.say(nonce, nonce)
				for c.MustNextOf(typeMessage).Nonce != nonce {
				}
				c.conn.Close()
				// Pauses around the unload time (grace, then two idle
				// ticks), so sockets meet rooms unloading and reloading.
				time.Sleep(time.Duration(i%4) * 2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	// Every closed socket is forgotten by the hub too.
	MustEventually(t, "the hub holds no closed socket", func() bool {
		ts.hub.connsMu.RLock()
		defer ts.hub.connsMu.RUnlock()
		return len(ts.hub.conns) == 0
	})
	ck := ts.MustLogin(t, "reader")
	c, w := ts.MustDial(t, ck, "flaky", 0)
	messages := 0
	for id := int64(1); id <= w.LastID; id++ {
		e := c.MustNext()
		if e.ID != id {
			t.Fatalf("replay gave id %d, want %d", e.ID, id)
		}
		if e.Type == typeMessage {
			messages++
		}
	}
	if messages != users*rounds {
		t.Errorf("%d messages stored, want %d", messages, users*rounds)
	}
}

// gatedStore holds every history read of one room until open is closed, and
// fails the first read of another.
type gatedStore struct {
	Store
	slow, broken string
	started      chan struct{} // a value per held read, when it begins
	open         chan struct{}
	slowReads    atomic.Int32
	failed       atomic.Bool
}

func (g *gatedStore) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	switch {
	case room == g.slow:
		g.slowReads.Add(1)
		g.started <- struct{}{}
		<-g.open
	case room == g.broken && g.failed.CompareAndSwap(false, true):
		return nil, errors.New("disk on fire")
	}
	return g.Store.Events(ctx, room, after, before, limit)
}

// A room whose history is slow to read holds up only the sockets that want
// it: logins and other rooms go on meanwhile, a second socket to it waits
// for the same read, and a failed read leaves nothing behind.
func TestSlowRoomLoadStallsNobodyElse(t *testing.T) {
	dir := t.TempDir()
	sq := MustOpenSQLite(t, dir)
	g := &gatedStore{Store: sq, slow: "slow", broken: "broken", started: make(chan struct{}, 2), open: make(chan struct{})}
	ts := MustStartStore(t, dir, g)
	if len(ts.Config.SessionSecret) < 16 {
		t.Fatal("with a store of the caller's, the session key was not loaded from the data directory")
	}
	// On failure, let the held read go before the server is closed.
	openGate := sync.OnceFunc(func() { close(g.open) })
	t.Cleanup(openGate)
	alice := ts.MustLogin(t, "alice")

	type dialed struct {
		conn *websocket.Conn
		err  error
	}
	slow := make(chan dialed, 2)
	for range 2 {
		go func() {
			conn, _, err := ts.dial(alice, "slow", -1)
			slow <- dialed{conn, err}
		}()
	}
	select {
	case <-g.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow room's history was never read")
	}

	// While that read is held: a login, and a socket to another room.
	// When the read ran under the hub's lock, this login timed out.
	bob := ts.MustLogin(t, "bob")
	fast, _ := ts.MustDial(t, bob, "fast", -1)
	fast.say("not waiting", "n1")
	if e := fast.MustNextOf(typeMessage); e.Text != "not waiting" {
		t.Fatalf("got %+v", e)
	}

	openGate()
	for range 2 {
		d := <-slow
		if d.err != nil {
			t.Fatalf("dial slow: %v", d.err)
		}
		if w := newWSClient(t, d.conn).MustNext(); w.Type != typeWelcome {
			t.Fatalf("first event %q, want welcome", w.Type)
		}
	}
	if n := g.slowReads.Load(); n != 1 {
		t.Errorf("the slow room was read %d times, want once", n)
	}

	// A failed read: the socket gets a 503 with the usual JSON error, no
	// half-made room stays behind, and the next socket loads the room.
	ts.MustRefuseDial(t, alice, "broken", http.StatusServiceUnavailable, codeUnavailable)
	ts.hub.mu.Lock()
	left := ts.hub.rooms["broken"] != nil || len(ts.hub.loading) != 0
	ts.hub.mu.Unlock()
	if left {
		t.Error("a failed load left a room or a pending load behind")
	}
	ts.MustDial(t, alice, "broken", -1)
}

// A room keeps its batch arrays while batches stay big, lets go of them
// after a storm (a small batch in a large array), and never keeps what a
// flushed batch referred to.
func TestBatchArraysGoAfterAStorm(t *testing.T) {
	r := &room{}
	fill := func(n int) {
		for i := range n {
			r.add(Event{Type: typeJoin, User: fmt.Sprint("u", i)}, &client{})
		}
	}
	fill(maxBatch)
	r.resetBatch()
	if cap(r.batch) < maxBatch || cap(r.lines) < maxBatch || cap(r.origins) < maxBatch {
		t.Fatalf("after a full batch: capacities %d %d %d, want the arrays kept", cap(r.batch), cap(r.lines), cap(r.origins))
	}
	if e, o := r.batch[:1][0], r.origins[:1][0]; e.User != "" || o.c != nil {
		t.Fatalf("a flushed batch is still referred to: %+v, %+v", e, o)
	}
	fill(maxBatch / 2)
	r.resetBatch()
	if cap(r.batch) < maxBatch {
		t.Fatalf("after half a batch: capacity %d, want the array kept", cap(r.batch))
	}
	fill(3)
	r.resetBatch()
	if cap(r.batch) > 64 || cap(r.lines) > 64 || cap(r.origins) > 64 {
		t.Fatalf("after a small batch: capacities %d %d %d, want the large arrays gone", cap(r.batch), cap(r.lines), cap(r.origins))
	}
}

// Sockets arriving together at a room that is not loaded share one load,
// and only the socket that starts it is asked whether it may (ROOM_RATE):
// a crowd behind one address costs that address one load.
func TestCrowdCostsOneRoomLoad(t *testing.T) {
	dir := t.TempDir()
	sq := MustOpenSQLite(t, dir)
	g := &gatedStore{Store: sq, slow: "crowd", started: make(chan struct{}, 1), open: make(chan struct{})}
	ts := MustStartStore(t, dir, g)
	openGate := sync.OnceFunc(func() { close(g.open) })
	t.Cleanup(openGate)

	var asked atomic.Int32
	mayLoad := func() bool { asked.Add(1); return true }
	const crowd = 50
	rooms := make(chan *room, crowd)
	for range crowd {
		go func() {
			r, err := ts.hub.room(context.Background(), "crowd", mayLoad)
			if err != nil {
				t.Error(err)
			}
			rooms <- r
		}()
	}
	<-g.started
	// Give the others time to reach the load under way (without it
	// they would find the room loaded, and the test would prove less),
	// then let it finish.
	time.Sleep(100 * time.Millisecond)
	openGate()
	for range crowd {
		if r := <-rooms; r != nil {
			ts.hub.release(r)
		}
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("mayLoad asked %d times for one load; want 1", n)
	}
	if n := g.slowReads.Load(); n != 1 {
		t.Errorf("%d store reads for one room; want 1", n)
	}
}

// brokenStore fails the writes of events, sessions and pictures, and the
// reads of events, while broken is set, as a full or failing disk does.
type brokenStore struct {
	Store
	broken  atomic.Bool
	refused atomic.Int64 // commits failed
}

// failing is the disk's error while the store is broken, else nil.
func (s *brokenStore) failing() error {
	if s.broken.Load() {
		return errors.New("disk I/O error")
	}
	return nil
}

func (s *brokenStore) AppendEvents(ctx context.Context, room string, evs []Event) error {
	if err := s.failing(); err != nil {
		s.refused.Add(1)
		return err
	}
	return s.Store.AppendEvents(ctx, room, evs)
}

func (s *brokenStore) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	if err := s.failing(); err != nil {
		return nil, err
	}
	return s.Store.Events(ctx, room, after, before, limit)
}

func (s *brokenStore) PutSession(ctx context.Context, r SessionRecord) error {
	if err := s.failing(); err != nil {
		return err
	}
	return s.Store.PutSession(ctx, r)
}

func (s *brokenStore) PutImage(ctx context.Context, r ImageRecord) error {
	if err := s.failing(); err != nil {
		return err
	}
	return s.Store.PutImage(ctx, r)
}

// A failed commit loses nothing. The senders of its messages are told,
// and send them again; its joins and leaves, which nobody sends again, go
// with the next commit, in order and with no gap in the ids, or at the
// room's idle tick when nothing else comes.
func TestFailedCommitLosesNothing(t *testing.T) {
	dir := t.TempDir()
	sq := MustOpenSQLite(t, dir)
	st := &brokenStore{Store: sq}
	ts := MustStartStore(t, dir, st, func(c *Config) { c.RoomIdle = 200 * time.Millisecond })
	a, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	if e := a.MustNextOf("join"); e.ID != 1 {
		t.Fatalf("alice's join: %+v", e)
	}
	// Logged in while the store still writes: a login is a write too.
	bob, carol := ts.MustLogin(t, "bob"), ts.MustLogin(t, "carol")

	st.broken.Store(true)
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	a.say("not stored", "n1")
	if e := a.MustNextOf("error", "join", "message"); e.Type != "error" || e.Code != string(codeUnavailable) || e.Nonce != "n1" {
		t.Fatalf("a message the store refused: %+v, want error unavailable for n1", e)
	}
	st.broken.Store(false)
	a.say("sent again", "n1")
	for _, want := range []ev{{Type: "join", ID: 2, User: "bob"}, {Type: "message", ID: 3, User: "alice", Text: "sent again"}} {
		if e := a.MustNextOf("join", "message"); e.Type != want.Type || e.ID != want.ID || e.User != want.User || e.Text != want.Text {
			t.Fatalf("after the store healed: %+v, want %+v", e, want)
		}
	}

	// With nothing else happening, the idle tick commits a kept join. The
	// store stays broken for longer than presenceEvery, so that the
	// coalesced presence event, the one op still due, fails too.
	st.broken.Store(true)
	ts.MustDial(t, carol, "lobby", -1)
	time.Sleep(presenceEvery + 500*time.Millisecond)
	st.broken.Store(false)
	if e := a.MustNextOf("join", "message"); e.Type != "join" || e.ID != 4 || e.User != "carol" {
		t.Fatalf("carol's join: %+v, want join 4", e)
	}

	// bob's leave, when his grace is over, fails too; it goes with the
	// next message.
	st.broken.Store(true)
	refused := st.refused.Load()
	b.conn.Close()
	MustEventually(t, "bob's leave refused by the store", func() bool { return st.refused.Load() > refused })
	st.broken.Store(false)
	a.say("after bob left", "n2")
	for _, want := range []ev{{Type: "leave", ID: 5, User: "bob"}, {Type: "message", ID: 6, User: "alice", Text: "after bob left"}} {
		if e := a.MustNextOf("leave", "message"); e.Type != want.Type || e.ID != want.ID || e.User != want.User || e.Text != want.Text {
			t.Fatalf("after the store healed again: %+v, want %+v", e, want)
		}
	}

	evs, err := sq.Events(context.Background(), "lobby", 0, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%d %s %s", e.ID, e.Type, e.User))
	}
	if want := []string{"1 join alice", "2 join bob", "3 message alice", "4 join carol", "5 leave bob", "6 message alice"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stored %q, want %q", got, want)
	}
	rows, err := sq.Presence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Errorf("presence rows %+v, want alice and carol", rows)
	}
}
