package main

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// MustWatch opens a socket to room that watches the rooms named for news.
func (ts *testServer) MustWatch(t *testing.T, ck *http.Cookie, room string, watch ...string) *wsClient {
	t.Helper()
	conn, resp, err := ts.dialQuery(newDialer(), ck, url.Values{"room": {room}, "watch": watch})
	c, _ := mustWelcome(t, room, conn, resp, err)
	return c
}

// MustNews is the next news event, skipping the socket's own room's.
func (c *wsClient) MustNews(room string, id int64, count int) {
	c.t.Helper()
	if e := c.MustNextOf(typeNews); e.Room != room || e.ID != id || e.Count != count {
		c.t.Fatalf("news %+v, want %d in #%s up to %d", e, count, room, id)
	}
}

// A socket hears of others' new messages in the rooms it watches, and of
// nothing else: not its own room's (those it gets whole), not one's own
// messages elsewhere, not joins, edits, deletes or reactions, and not
// rooms it does not watch.
func TestNews(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice := ts.MustWatch(t, aliceCk, "lobby", "dev", "OPS", "lobby", "dev") // cased, its own, twice
	bob, _ := ts.MustDial(t, bobCk, "dev", -1)
	aliceInDev, _ := ts.MustDial(t, aliceCk, "dev", -1)
	bobInOps, _ := ts.MustDial(t, bobCk, "ops", -1)
	bobInQuiet, _ := ts.MustDial(t, bobCk, "quiet", -1)
	bobInLobby, _ := ts.MustDial(t, bobCk, "lobby", -1)

	one := bob.MustSay("one", "1")
	alice.MustNews("dev", one.ID, 1)

	aliceInDev.say("mine", "m")
	bob.MustNextOf(typeMessage)
	bob.send(editFrame(one.ID, "one, edited", "e"))
	bob.MustEdited(one.ID, "bob", "one, edited")
	bob.send(reactFrame(typeReact, one.ID, "👍", "r"))
	bob.MustNextOf(typeReact)
	bob.send(deleteFrame(one.ID, "d"))
	bob.MustDeleted(one.ID, "bob")
	bobInQuiet.MustSay("unwatched", "q")
	bobInLobby.MustSay("in alice's own room", "l")
	ops := bobInOps.MustSay("ops", "o")
	// The next news is the one from #ops: none of the rest was news.
	alice.MustNews("ops", ops.ID, 1)

	// A commit of several messages is one event that counts them.
	bob.MustSayMany("busy %d", 5)
	var n int
	var last int64
	for n < 5 {
		e := alice.MustNextOf(typeNews)
		if e.Room != "dev" || e.ID <= last || e.Count < 1 {
			t.Fatalf("news %+v after %d up to %d", e, n, last)
		}
		n, last = n+e.Count, e.ID
	}
	if n != 5 || last != ts.MustRoomLastID(t, bobCk, "dev") {
		t.Errorf("news counted %d up to %d, want 5 up to the newest", n, last)
	}
	alice.expectQuiet(100*time.Millisecond, typePresence, typeMessage, typeJoin)
}

// A socket that watches too many rooms, or a name that is not a room's,
// is refused before the upgrade; a closed socket is forgotten.
func TestNewsRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	eleven := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}
	for _, c := range []struct {
		name  string
		watch []string
	}{
		{"eleven rooms", eleven},
		{"a name with a space", []string{"dev", "a b"}},
		{"an empty name", []string{""}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts.MustRefuseQuery(t, ck, url.Values{"room": {"lobby"}, "watch": c.watch}, http.StatusBadRequest, codeInvalid)
		})
	}

	ten := ts.MustWatch(t, ck, "lobby", eleven[:10]...)
	if ts.hub.watchers.n.Load() != 1 {
		t.Fatalf("%d sockets watching, want 1", ts.hub.watchers.n.Load())
	}
	ten.conn.Close()
	MustEventually(t, "the closed socket is forgotten", func() bool {
		ts.hub.watchers.mu.Lock()
		defer ts.hub.watchers.mu.Unlock()
		return ts.hub.watchers.n.Load() == 0 && len(ts.hub.watchers.rooms) == 0 && len(ts.hub.watchers.of) == 0
	})
}

// A socket whose welcome waits for a store read (a resume from before
// what its room keeps in memory, after a restart) hears no news before
// it: the welcome is always a socket's first event.
func TestNoNewsBeforeWelcome(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	alice := ts.MustLogin(t, "alice")
	a, _ := ts.MustDial(t, alice, "lobby", -1)
	a.MustSayMany("before %d", historyOnJoin+20) // more than a loaded room holds
	a.conn.Close()
	ts.MustClose(t)

	ts, st := MustRestartStalling(t, dir)
	conn, _, err := ts.dialQuery(newDialer(), ts.MustLogin(t, "bob"), url.Values{"room": {"lobby"}, "since": {"1"}, "watch": {"kitchen"}})
	if err != nil {
		t.Fatal(err)
	}
	b := newWSClient(t, conn)
	st.MustEnter(t, "bob's resume")
	k, _ := ts.MustDial(t, alice, "kitchen", -1)
	k.MustSay("news for bob", "")
	st.release()
	if e := b.MustNext(); e.Type != typeWelcome {
		t.Fatalf("bob's first event: %+v, want his welcome", e)
	}
}
