package main

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPresenceGraceAndTabs(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.PresenceGrace = 700 * time.Millisecond })
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
	watcher.MustNextOf(typeJoin)
	ck := ts.MustLogin(t, "alice")

	tab1, _ := ts.MustDial(t, ck, "lobby", -1)
	if j := watcher.MustNextOf(typeJoin); j.User != "alice" {
		t.Fatalf("join %+v", j)
	}
	watcher.MustNextOf(typePresence)
	// A second tab and a reload (close + reopen within the grace) are
	// silent for everyone else.
	tab2, w := ts.MustDial(t, ck, "lobby", -1)
	if strings.Join(w.Online, ",") != "alice,watcher" {
		t.Errorf("online %v", w.Online)
	}
	tab1.conn.Close()
	ts.MustDial(t, ck, "lobby", -1)
	tab2.conn.Close()
	watcher.expectQuiet(1200*time.Millisecond, typePresence)

	// The name is in use while a socket is open.
	if resp := ts.postLogin(t, "ALICE", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("login while connected: %d, want 409", resp.StatusCode)
	}
}

func TestLeaveAfterGrace(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.PresenceGrace = 300 * time.Millisecond })
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
	ck := ts.MustLogin(t, "alice")
	a, _ := ts.MustDial(t, ck, "lobby", -1)
	watcher.MustNextOf(typeJoin) // its own, from history
	watcher.MustNextOf(typeJoin) // alice's, live
	watcher.MustNextOf(typePresence)
	a.conn.Close()
	l := watcher.MustNextOf(typeLeave, typeJoin)
	if l.Type != typeLeave || l.User != "alice" || l.ID != 3 {
		t.Fatalf("got %+v, want alice's leave with id 3", l)
	}
	if p := watcher.MustNextOf(typePresence); strings.Join(p.Online, ",") != "watcher" {
		t.Errorf("presence after leave %v", p.Online)
	}
	// Past the grace the name is free: a new login takes it over and the
	// old cookie stops working.
	ts.MustLogin(t, "Alice")
	if _, resp, _ := ts.dial(ck, "lobby", -1); resp == nil || resp.StatusCode != 401 {
		t.Errorf("old session after takeover: %v, want 401", resp)
	}
	if resp, _ := ts.get(t, "/r/lobby", ck); resp.StatusCode != 303 {
		t.Errorf("old cookie still opens the chat page: %d", resp.StatusCode)
	}
}

// Someone who comes back just as their grace runs out stays: the grace's
// end, already on its way to the room when their new socket was taken,
// is stale and ends nothing, nor the new grace of someone who comes back
// and goes again at once. The room's writer is held in a commit so that
// all of it waits in its queue, the socket first.
func TestReturnAsTheGraceEnds(t *testing.T) {
	const grace = 1500 * time.Millisecond
	for _, tc := range []struct {
		name      string
		goneAgain bool // the new socket closes before the room takes it
	}{
		{name: "back"},
		{name: "back and gone again", goneAgain: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, held := MustStartHeld(t, t.TempDir(), "hold", func(c *Config) { c.PresenceGrace = grace })
			watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
			ck := ts.MustLogin(t, "alice")
			a, _ := ts.MustDial(t, ck, "lobby", -1)
			a.send(typingFrame())
			watcher.MustTyping(1, "alice")
			a.conn.Close()
			// Her typing stops when her last socket is gone: the grace
			// has begun.
			watcher.MustTyping(0)
			began := time.Now()

			watcher.say("hold", "")
			held.MustEnter(t, "the held commit")
			conn, resp, err := ts.dial(ck, "lobby", -1)
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			a = newWSClient(t, conn)
			if tc.goneAgain {
				conn.Close()
			}
			time.Sleep(time.Until(began.Add(grace + 300*time.Millisecond)))
			held.release()
			back := time.Now()

			if !tc.goneAgain {
				if w := a.MustNext(); w.Type != typeWelcome || !slices.Contains(w.Online, "alice") {
					t.Fatalf("first event %+v, want a welcome with alice online", w)
				}
			}
			watcher.say("after", "")
			for e := watcher.MustNext(); e.Text != "after"; e = watcher.MustNext() {
				if e.Type == typeLeave || e.Type == typePresence && !slices.Contains(e.Online, "alice") {
					t.Fatalf("%+v while alice is back or in her new grace", e)
				}
			}
			if tc.goneAgain {
				// Her new grace counts from her new socket's close.
				watcher.MustNextOf(typeLeave)
				if d := time.Since(back); d < grace {
					t.Errorf("she left %v after the room took her close, before her new grace of %v", d, grace)
				}
			}
		})
	}
}

func TestFreshLoginHoldsNameUntilItConnects(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.LoginHold = 400 * time.Millisecond })
	old := ts.MustLogin(t, "alice")
	if resp := ts.postLogin(t, "alice", ""); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second login during hold: %d, want 409", resp.StatusCode)
	}
	time.Sleep(500 * time.Millisecond)
	ts.MustLogin(t, "alice")
	if resp, _ := ts.get(t, "/api/rooms/lobby/messages", old); resp.StatusCode != 401 {
		t.Errorf("taken-over session still works: %d", resp.StatusCode)
	}
}

func TestLogout(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir, func(c *Config) { c.PresenceGrace = time.Minute })
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
	ck := ts.MustLogin(t, "alice")
	a1, _ := ts.MustDial(t, ck, "lobby", -1)
	a2, _ := ts.MustDial(t, ck, "other", -1)
	watcher.MustNextOf(typeJoin)
	watcher.MustNextOf(typeJoin)

	resp := ts.postLogout(t, ck, ts.URL)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if c := resp.Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Errorf("logout does not clear the cookie: %v", c)
	}
	for _, c := range []*wsClient{a1, a2} {
		if code, _ := c.MustCloseCode(); code != closeSessionEnded {
			t.Errorf("socket closed with %d, want 4001", code)
		}
	}
	// Leave at once, not after the minute of grace.
	if l := watcher.MustNextOf(typeLeave); l.User != "alice" {
		t.Errorf("leave %+v", l)
	}
	if _, resp, _ := ts.dial(ck, "lobby", -1); resp == nil || resp.StatusCode != 401 {
		t.Errorf("socket with the ended session: %v, want 401", resp)
	}
	// It stays ended after a restart: the store forgot it too. (Checked
	// before alice logs in again, whose session would replace its row.)
	ts.MustClose(t)
	ts = MustStart(t, dir)
	if resp, _ := ts.get(t, "/r/lobby", ck); resp.StatusCode != 303 {
		t.Errorf("after a restart the logged-out cookie opens the chat page: %d", resp.StatusCode)
	}
	ts.MustLogin(t, "alice") // the name is free
}

// Someone who left, came back within the grace and was there when the
// server stopped gets the grace counted from the stop, not from when they
// first left: reconnecting to the new process in time shows no leave.
func TestRestartAfterAReturn(t *testing.T) {
	dir, clock := t.TempDir(), &testClock{}
	grace := func(c *Config) { c.PresenceGrace = 5 * time.Second }
	ts := MustStartClock(t, dir, clock, grace)
	ckW, ckA := ts.MustLogin(t, "watcher"), ts.MustLogin(t, "alice")
	ts.MustDial(t, ckW, "lobby", -1)
	a, _ := ts.MustDial(t, ckA, "lobby", -1)
	a.conn.Close()
	// Her room counts her gone (the hand-off follows the detach at once;
	// the next socket's takes a handshake longer).
	MustEventually(t, "the server to see her socket close", func() bool {
		ts.hub.mu.Lock()
		defer ts.hub.mu.Unlock()
		u := ts.hub.users[nameKey("alice")]
		return u != nil && len(u.clients) == 0
	})
	a, _ = ts.MustDial(t, ckA, "lobby", -1) // back within the grace
	clock.skip(time.Hour)                   // long after she first left
	said := a.MustSay("before the stop", "n1")
	ts.MustClose(t)

	ts = MustStartClock(t, dir, clock, grace)
	a, _ = ts.MustDial(t, ckA, "lobby", said.ID)
	w, _ := ts.MustDial(t, ckW, "lobby", said.ID)
	a.say("after the restart", "n2")
	if e := w.MustNextOf(typeMessage, typeJoin, typeLeave); e.Type != typeMessage || e.Text != "after the restart" {
		t.Errorf("after the restart the watcher got %+v, want alice's message with no leave or join", e)
	}
}

func TestRestartKeepsHistoryIdsSessionsAndGrace(t *testing.T) {
	dir := t.TempDir()
	grace := func(c *Config) { c.PresenceGrace = 5 * time.Second }
	ts := MustStart(t, dir, grace)
	ckA, ckB := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	a, _ := ts.MustDial(t, ckA, "lobby", -1)
	b, _ := ts.MustDial(t, ckB, "lobby", -1)
	for _, s := range []string{"one", "two", "three"} {
		a.say(s, s)
	}
	var last int64
	for range 3 {
		last = b.MustNextOf(typeMessage).ID
	}
	ts.MustClose(t)
	for _, c := range []*wsClient{a, b} {
		if code, _ := c.MustCloseCode(); code != closeServiceRestart {
			t.Errorf("shutdown close code %d, want 1012", code)
		}
	}

	ts2 := MustStart(t, dir, grace)
	if resp := ts2.postLogin(t, "alice", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("alice's name is free right after a restart: %d, want 409 (grace)", resp.StatusCode)
	}
	b2, wb := ts2.MustDial(t, ckB, "lobby", last) // the cookie survived
	if wb.LastID != last || strings.Join(wb.Online, ",") != "alice,bob" {
		t.Errorf("welcome after restart %+v (last %d)", wb, last)
	}
	a2, _ := ts2.MustDial(t, ckA, "lobby", last)
	a2.say("four", "")
	if m := b2.MustNextOf(typeMessage, typeJoin, typeLeave); m.Type != typeMessage || m.ID != last+1 || m.Text != "four" {
		t.Errorf("after restart got %+v, want message id %d with no leave/join", m, last+1)
	}
}

// Whoever was in a room when the server stopped and does not come back
// leaves once the grace is over, counted from the stop, or from the
// restart if the stop's recorded time is later (the clock went back
// between the two): a wrong clock keeps nobody online for long.
func TestRestartLeavesThoseWhoDoNotReturn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		leftAt time.Duration // the stop's time as recorded, from now; 0: as the server recorded it
		grace  time.Duration // 0: 400 ms
	}{
		{name: "left at the stop"},
		{name: "the clock went back since", leftAt: time.Hour},
		// Down for longer than the grace: ghost leaves at once.
		{name: "down longer than the grace", leftAt: -time.Hour},
		// Down for all but a second of an hour's grace: ghost has that
		// second left, not another hour.
		{name: "down for most of the grace", leftAt: -time.Hour + time.Second, grace: time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			grace := func(c *Config) { c.PresenceGrace = cmp.Or(tc.grace, 400*time.Millisecond) }
			ts := MustStart(t, dir, grace)
			ckW := ts.MustLogin(t, "watcher")
			ts.MustDial(t, ts.MustLogin(t, "ghost"), "lobby", -1)
			w, _ := ts.MustDial(t, ckW, "lobby", -1)
			ts.MustClose(t)
			w.MustCloseCode()
			if tc.leftAt != 0 {
				sq := MustOpenSQLite(t, dir)
				if err := sq.SavePresence(context.Background(), []PresenceRecord{{Room: "lobby", Key: nameKey("ghost"), Name: "ghost", LeftAt: time.Now().Add(tc.leftAt)}}); err != nil {
					t.Fatal(err)
				}
				sq.Close()
			}

			ts2 := MustStart(t, dir, grace, func(c *Config) { c.RoomIdle = 20 * time.Millisecond })
			w2, _ := ts2.MustDial(t, ckW, "lobby", 2)
			if l := w2.MustNextOf(typeLeave, typeJoin, typeMessage); l.Type != typeLeave || l.User != "ghost" || l.ID != 3 {
				t.Errorf("got %+v, want ghost's leave id 3", l)
			}
			// The restore let go of the room it loaded: once the
			// watcher has gone too (logged out: no grace), it unloads.
			ts2.MustLogout(t, ckW)
			ts2.MustUnload(t, "lobby")
		})
	}
}

// Someone who left shortly before a stop, within the grace, keeps the
// time they left through it: their grace counts from then, not from the
// stop, which would keep them online for as long again. Those still
// there at the stop left then.
func TestStopKeepsWhenSomeoneLeft(t *testing.T) {
	dir := t.TempDir()
	clock := &testClock{}
	ts := MustStartClock(t, dir, clock, func(c *Config) { c.PresenceGrace = time.Hour })
	ghost, _ := ts.MustDial(t, ts.MustLogin(t, "ghost"), "lobby", -1)
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
	// The room has taken ghost's close when ghost stops typing for it.
	ghost.send(typingFrame())
	watcher.MustTyping(1, "ghost")
	left := clock.now()
	ghost.conn.Close()
	watcher.MustTyping(0)
	leftBy := clock.now()
	clock.skip(20 * time.Minute)
	stopped := clock.now()
	ts.MustClose(t)
	watcher.MustCloseCode()

	sq := MustOpenSQLite(t, dir)
	defer sq.Close()
	ps, err := sq.Presence(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, p := range ps {
		got[p.Name] = p.LeftAt
	}
	if at := got["ghost"]; at.Before(left.Truncate(time.Millisecond)) || at.After(leftBy) {
		t.Errorf("ghost left at %v as stored, want between %v and %v, when the socket closed", at, left, leftBy)
	}
	if at := got["watcher"]; at.Before(stopped.Truncate(time.Millisecond)) {
		t.Errorf("watcher left at %v as stored, want the stop, %v or after", at, stopped)
	}
}
