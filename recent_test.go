package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// A room's memory stays within recentKeep events and recentBudget bytes
// (each with a quarter more before trimming), keeps at least historyOnJoin
// events whatever their size, holds the newest ones without a gap, and
// drops nothing a store read under way will need.
func TestRecentStaysWithinItsBudget(t *testing.T) {
	long := recentBudget / historyOnJoin * 2 // fifty of these pass the budget
	for _, tc := range []struct {
		name   string
		size   func(id int64) int
		pinned int64 // a store read covering ids up to this is under way
	}{
		{"ordinary messages", func(int64) int { return 200 }, -1},
		{"longest messages", func(int64) int { return 6000 }, -1},
		{"larger than the budget allows fifty of", func(int64) int { return long }, -1},
		{"mixed", func(id int64) int { return []int{90, 6000, 300, 2000}[id%4] }, -1},
		{"during a store read", func(int64) int { return 6000 }, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &room{pinned: -1, pool: &recentPool{limit: 1 << 40}}
			for id := int64(1); id <= 3000; id++ {
				if id == tc.pinned {
					r.pinned = id
				}
				r.remember(id, make([]byte, tc.size(id)))
				size := MustRecentAddUp(t, r, fmt.Sprint("after id ", id))
				switch n := len(r.recent); {
				case int64(size) != r.pool.used.Load():
					t.Fatalf("after id %d: the pool counts %d bytes, the lines add up to %d", id, r.pool.used.Load(), size)
				case n < min(int(id), historyOnJoin):
					t.Fatalf("after id %d: %d events kept, fewer than historyOnJoin", id, n)
				case r.pinned >= 0 && r.recent[0].id > r.pinned+1:
					t.Fatalf("after id %d: recent starts at %d, but a read up to %d needs the rest", id, r.recent[0].id, r.pinned)
				case r.pinned < 0 && n >= recentKeep+recentKeep/4:
					t.Fatalf("after id %d: %d events kept", id, n)
				case r.pinned < 0 && size >= recentBudget+recentBudget/4 && n > historyOnJoin:
					t.Fatalf("after id %d: %d bytes in %d events kept", id, size, n)
				}
			}
			if tc.pinned < 0 && tc.size(1) == 200 && len(r.recent) < recentKeep {
				t.Errorf("ordinary messages: %d kept, want a whole replay (%d)", len(r.recent), recentKeep)
			}
		})
	}
}

// recentAfter answers from memory only what memory holds without a gap:
// a fresh socket's newest historyOnJoin (or the whole room, while memory
// holds it from its first event), or everything after a resume's id (the
// newest maxReplay of them, truncated, when there are more and memory has
// them). Anything else is read from the store.
func TestRecentAfter(t *testing.T) {
	for _, tc := range []struct {
		name         string
		from, last   int64 // memory holds from..last; from 0: nothing
		after        int64
		want         [2]int64 // the ids answered, first and last; {0, 0}: none
		truncated    bool
		fromTheStore bool
	}{
		{name: "a new room", after: -1},
		{name: "fresh, the whole room in memory", from: 1, last: 10, after: -1, want: [2]int64{1, 10}},
		{name: "fresh, memory from the second event", from: 2, last: 10, after: -1, fromTheStore: true},
		{name: "fresh, nothing kept", last: 10, after: -1, fromTheStore: true},
		{name: "fresh, more than a join needs", from: 1, last: 80, after: -1, want: [2]int64{31, 80}},
		{name: "fresh, just what a join needs", from: 31, last: 80, after: -1, want: [2]int64{31, 80}},
		{name: "fresh, less than a join needs", from: 32, last: 80, after: -1, fromTheStore: true},
		{name: "up to date", from: 31, last: 80, after: 80},
		{name: "resume from memory", from: 31, last: 80, after: 30, want: [2]int64{31, 80}},
		{name: "resume one event before memory", from: 31, last: 80, after: 29, fromTheStore: true},
		{name: "resume a whole replay back", from: 1, last: 600, after: 100, want: [2]int64{101, 600}},
		{name: "resume further back than a replay", from: 1, last: 600, after: 10, want: [2]int64{101, 600}, truncated: true},
		{name: "resume further back than memory, which holds less than a replay", from: 31, last: 80, after: 5, fromTheStore: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &room{pinned: -1, pool: &recentPool{limit: 1 << 40}}
			for id := tc.from; tc.from > 0 && id <= tc.last; id++ {
				r.remember(id, []byte("x"))
			}
			r.lastID = tc.last
			lines, truncated, ok := r.recentAfter(tc.after)
			var got [2]int64
			if len(lines) > 0 {
				got = [2]int64{lines[0].id, lines[len(lines)-1].id}
				if n := got[1] - got[0] + 1; int64(len(lines)) != n {
					t.Fatalf("%d lines from %d to %d", len(lines), got[0], got[1])
				}
			}
			if ok != !tc.fromTheStore || (ok && (got != tc.want || truncated != tc.truncated)) {
				t.Errorf("ids %v, truncated %v, from memory %v; want %v, %v, %v", got, truncated, ok, tc.want, tc.truncated, !tc.fromTheStore)
			}
		})
	}
}

// MustRecentAddUp checks that r's recent holds its newest events without a
// gap and that recentSize is their bytes, and returns those.
func MustRecentAddUp(t *testing.T, r *room, when string) int {
	t.Helper()
	size := 0
	for i, l := range r.recent {
		size += len(l.raw)
		if l.id != r.lastID-int64(len(r.recent)-1-i) {
			t.Fatalf("%s: recent[%d] is id %d, not the newest without a gap", when, i, l.id)
		}
	}
	if size != r.recentSize {
		t.Fatalf("%s: recentSize %d, the lines add up to %d", when, r.recentSize, size)
	}
	return size
}

// All rooms together stay within the pool's limit. A room that finds the
// pool over keeps at most its share (the limit over the rooms loaded),
// except what a store read under way needs; a room with no traffic trims
// to its share at its next idle tick if a room was squeezed since, and
// keeps what it has if none was; a room within its share is not touched.
// The pool's count is always the sum of the rooms' bytes, and once the
// pressure is gone rooms keep their whole budget again.
func TestRecentPoolBoundsAllRooms(t *testing.T) {
	const limit = 100 << 10
	pool := &recentPool{limit: limit}
	rooms := make([]*room, 5)
	for i := range rooms {
		rooms[i] = &room{pinned: -1, pool: pool}
	}
	pool.rooms.Store(int64(len(rooms)))
	share := pool.share() // 20 KB: three of the longest messages
	MustAddUp := func(when string) {
		t.Helper()
		sum := 0
		for _, r := range rooms {
			sum += MustRecentAddUp(t, r, when)
		}
		if used := pool.used.Load(); used != int64(sum) {
			t.Fatalf("%s: the pool counts %d bytes, the rooms hold %d", when, used, sum)
		}
	}
	remember := func(r *room, size int) {
		t.Helper()
		r.remember(r.lastID+1, make([]byte, size))
		MustAddUp(fmt.Sprintf("after id %d", r.lastID))
		unread := len(r.recent) // events no store read needs
		if r.pinned >= 0 {
			unread -= int(r.lastID - r.pinned)
		}
		switch used := pool.used.Load(); {
		case unread < 0:
			t.Fatalf("id %d: recent holds %d events, a store read needs the %d after %d", r.lastID, len(r.recent), r.lastID-r.pinned, r.pinned)
		case used > limit && unread > 0 && r.recentSize > share:
			t.Fatalf("id %d: the rooms hold %d bytes, over the limit, and this room kept %d, over its share of %d, in events nobody reads", r.lastID, used, r.recentSize, share)
		}
	}
	MustIdleTick := func(r *room, want int) {
		t.Helper()
		r.followSqueeze()
		MustAddUp("after an idle tick")
		if len(r.recent) != want {
			t.Fatalf("after its idle tick the room keeps %d events, want %d", len(r.recent), want)
		}
	}

	// Room 0 fills up to most of the limit, then has no traffic.
	for range 12 {
		remember(rooms[0], 6000)
	}
	if len(rooms[0].recent) != 12 || pool.squeezes.Load() != 0 {
		t.Fatalf("under the limit: room 0 keeps %d of 12 events, %d squeezes", len(rooms[0].recent), pool.squeezes.Load())
	}
	// Room 1 has a store read under way from id 3 on.
	for range 3 {
		remember(rooms[1], 6000)
	}
	rooms[1].pinned = 3
	// The others take turns with the longest messages, far past the limit.
	for i := range 400 {
		remember(rooms[1+i%4], 6000)
	}
	if pool.squeezes.Load() == 0 {
		t.Fatal("2.4 MB of events in 100 KB: no room was squeezed")
	}
	if n := len(rooms[1].recent); n != 100 {
		t.Errorf("room 1 keeps %d events, want the 100 its store read needs", n)
	}
	// Room 0 had no traffic and still holds its events; its idle tick
	// trims it to three quarters of its share: two of them.
	if len(rooms[0].recent) != 12 {
		t.Fatalf("room 0 keeps %d events before its idle tick", len(rooms[0].recent))
	}
	MustIdleTick(rooms[0], 2)

	// The read is back: the room trims to its share with its next event,
	// which finds the pool over.
	rooms[1].pinned = -1
	remember(rooms[1], 100)
	if n := rooms[1].recentSize; n > share {
		t.Errorf("room 1 keeps %d bytes after its read, over its share of %d", n, share)
	}

	// The pressure is gone: rooms keep their events again, room 0 past
	// its share, and with no squeeze since its last tick, its next one
	// keeps them.
	for _, r := range rooms {
		r.trim(0, 0, 0)
	}
	MustAddUp("all trimmed")
	MustIdleTick(rooms[0], 0)
	for range 100 {
		remember(rooms[2], 200) // within its share
	}
	for range 30 {
		remember(rooms[0], 1000)
	}
	if n := len(rooms[2].recent); n != 100 {
		t.Errorf("after the pressure: room 2 keeps %d of 100 ordinary messages", n)
	}
	MustIdleTick(rooms[0], 30)
	// Room 3 takes the pool over again: it trims to its share while the
	// pool is over (remember checks), room 0 trims to its own at its next
	// idle tick, and room 2, within its share, keeps all it has.
	before := pool.squeezes.Load()
	for range 60 {
		remember(rooms[3], 1000)
	}
	if pool.squeezes.Load() == before {
		t.Fatalf("room 3 was not squeezed (the rooms hold %d bytes)", pool.used.Load())
	}
	MustIdleTick(rooms[0], (share-share/4)/1000)
	MustIdleTick(rooms[2], 100)
	if used := pool.used.Load(); used > limit {
		t.Errorf("after the idle ticks the rooms hold %d bytes, over the limit", used)
	}
}

// countingStore counts the history reads of each room.
type countingStore struct {
	Store
	mu    sync.Mutex
	reads map[string]int
}

func (s *countingStore) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	s.mu.Lock()
	s.reads[room]++
	s.mu.Unlock()
	return s.Store.Events(ctx, room, after, before, limit)
}

func (s *countingStore) readsOf(room string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads[room]
}

// On a real server, rooms share HistoryMemory: a busy room that takes
// them over keeps its share, an idle room trims to its share at its idle
// tick, and both still answer joins and resumes exactly, from memory or
// the store.
func TestHistoryMemoryIsSharedByAllRooms(t *testing.T) {
	const limit = 64 << 10
	dir := t.TempDir()
	sq := MustOpenSQLite(t, dir)
	st := &countingStore{Store: sq, reads: map[string]int{}}
	ts := MustStartStore(t, dir, st, func(c *Config) {
		c.HistoryMemory, c.RoomIdle, c.PresenceGrace = limit, 50*time.Millisecond, time.Minute
	})
	used := ts.hub.recent.used.Load
	say := func(c *wsClient, n int) {
		t.Helper()
		for i := range n {
			c.say(longestText(i), "")
			if e := c.MustNextOf(typeMessage); e.Text != longestText(i) {
				t.Fatalf("message %d came back as %.20q…", i, e.Text)
			}
		}
	}

	alice := ts.MustLogin(t, "alice")
	quiet, _ := ts.MustDial(t, alice, "quiet", -1)
	say(quiet, 8) // about 48 KB, under the limit
	if held := used(); held < 8*6000 || held > limit {
		t.Fatalf("the quiet room keeps %d bytes, want all 8 messages", held)
	}
	// With all its events in memory, the quiet room answers a fresh
	// socket without reading the store.
	loads := st.readsOf("quiet") // the room's load
	c, _ := ts.MustDial(t, alice, "quiet", -1)
	c.conn.Close()
	if n := st.readsOf("quiet"); n != loads {
		t.Fatalf("under the limit, a fresh socket read the store (%d reads, want %d)", n, loads)
	}

	bob := ts.MustLogin(t, "bob")
	busy, _ := ts.MustDial(t, bob, "busy", -1)
	say(busy, 60) // 360 KB more
	if ts.hub.recent.squeezes.Load() == 0 {
		t.Fatal("no room was squeezed")
	}
	// The busy room squeezed itself to its share (half the limit) while
	// the quiet one held its events; at its next idle tick the quiet one
	// trims to its share too, which leaves it fewer than a join needs, so
	// a fresh socket there is answered from the store.
	deadline := time.Now().Add(10 * time.Second)
	for st.readsOf("quiet") == loads {
		if time.Now().After(deadline) {
			t.Fatalf("the quiet room still answers from memory; it should have trimmed to its share (the rooms keep %d bytes)", used())
		}
		time.Sleep(20 * time.Millisecond)
		c, _ := ts.MustDial(t, alice, "quiet", -1)
		c.conn.Close()
	}
	if u := used(); u > limit {
		t.Errorf("the rooms keep %d bytes, over the limit of %d", u, limit)
	}

	for _, tc := range []struct {
		room     string
		since    int64
		from, to int64 // ids: each room starts with a join
	}{
		{"quiet", -1, 1, 9},
		{"quiet", 3, 4, 9},
		// bob's join, his 60 messages, alice's join; a fresh socket gets
		// the newest historyOnJoin of them, from the store too.
		{"busy", -1, 62 - historyOnJoin + 1, 62},
		{"busy", 20, 21, 62},
	} {
		t.Run(fmt.Sprintf("%s since=%d", tc.room, tc.since), func(t *testing.T) {
			c, w := ts.MustDial(t, alice, tc.room, tc.since)
			defer c.conn.Close()
			if w.LastID != tc.to {
				t.Fatalf("welcome last_id %d, want %d", w.LastID, tc.to)
			}
			for want := max(tc.from, 1); want <= tc.to; want++ {
				e := c.MustNext()
				if e.ID != want {
					t.Fatalf("replay gave id %d (%s), want %d", e.ID, e.Type, want)
				}
				if e.Type == typeMessage && e.Text != longestText(int(e.ID)-2) {
					t.Fatalf("id %d came back as %.20q…", e.ID, e.Text)
				}
			}
		})
	}
}

// A room that unloads gives its events' bytes back to the pool, and its
// share to the other rooms. What it keeps is counted as it changes (an
// edit that grows a message, a reaction, a delete that empties it and
// its edits): a count that drifted would squeeze rooms for memory nobody
// holds, or let them pass HISTORY_MEMORY_MB.
func TestUnloadedRoomGivesBackItsMemory(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) {
		c.RoomIdle, c.PresenceGrace = 50*time.Millisecond, 10*time.Millisecond
	})
	c, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "brief", -1)
	kept := c.MustSay("short", "n1")
	other := c.MustSay("another", "n2")
	longer := strings.Repeat("much longer now, ", 20) + "the end"
	c.send(editFrame(kept.ID, longer, "e1"))
	c.MustEdited(kept.ID, "alice", longer)
	c.send(reactFrame(typeReact, kept.ID, "👍", "r1"))
	c.MustNextOf(typeReact)
	c.send(editFrame(other.ID, "another, edited", "e2"))
	c.MustEdited(other.ID, "alice", "another, edited")
	c.send(deleteFrame(other.ID, "d1"))
	c.MustNextOf(typeDelete)
	if ts.hub.recent.used.Load() == 0 {
		t.Fatal("the room keeps nothing in memory")
	}
	c.conn.Close()
	ts.MustUnload(t, "brief")
	// The writer returns after it is taken out of the rooms.
	MustEventually(t, "the pool counts nothing once the room has gone", func() bool {
		return ts.hub.recent.used.Load() == 0 && ts.hub.recent.rooms.Load() == 0
	})
}
