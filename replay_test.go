package main

// Resuming with since: gap-free replays from memory or the store, the
// truncation mark, and a slow socket's 1013 and resume.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestResumeSinceHasNoGapOrDuplicate(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.PresenceGrace = time.Minute })
	ackA := ts.MustLogin(t, "alice")
	a, _ := ts.MustDial(t, ackA, "lobby", -1)
	b, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	a.say("before", "")
	seen := a.MustNextOf(typeMessage).ID
	a.conn.Close()

	for i := range 5 {
		b.say(fmt.Sprint("missed ", i), "")
	}
	// While alice resumes, bob keeps talking: replay and live must meet
	// exactly.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 40 {
			b.say(fmt.Sprint("live ", i), "")
		}
	}()
	a2, w := ts.MustDial(t, ackA, "lobby", seen)
	if w.Truncated {
		t.Error("replay of 45 events marked truncated")
	}
	<-done
	want := seen + 1
	for want <= seen+45 {
		e := a2.MustNext()
		if e.Type == typePresence {
			continue
		}
		if e.ID != want {
			t.Fatalf("after resume got id %d (%s %q), want %d", e.ID, e.Type, e.Text, want)
		}
		if e.Type != typeMessage {
			t.Fatalf("resume produced a %s event: reconnect within grace must not join again", e.Type)
		}
		want++
	}
	a2.expectQuiet(300*time.Millisecond, typePresence)
}

func TestReplayBeyondLimitIsMarked(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "lobby", -1)
	for i := range maxReplay + 20 {
		c.say(fmt.Sprint(i), "")
	}
	for range maxReplay + 20 {
		c.MustNextOf(typeMessage)
	}
	c2, w := ts.MustDial(t, ck, "lobby", 0)
	if !w.Truncated || w.LastID != maxReplay+21 {
		t.Fatalf("welcome %+v, want truncated with last_id %d", w, maxReplay+21)
	}
	first := c2.MustNext()
	if first.ID != w.LastID-maxReplay+1 {
		t.Errorf("replay starts at %d, want the newest %d (from %d)", first.ID, maxReplay, w.LastID-maxReplay+1)
	}
	// A fresh connection gets the newest 50.
	c3, w3 := ts.MustDial(t, ck, "lobby", -1)
	if e := c3.MustNext(); e.ID != w3.LastID-historyOnJoin+1 {
		t.Errorf("fresh history starts at %d, want %d", e.ID, w3.LastID-historyOnJoin+1)
	}
}

// A client that stops reading is closed with 1013 once its buffer fills;
// everything it got before is gap-free, and since= brings the rest.
func TestSlowClientClosedWith1013ThenResumes(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.SocketBuffer = 4; c.PresenceGrace = time.Minute })
	ck := ts.MustLogin(t, "slow")
	// A small fixed receive buffer (no autotuning) so that a few MB fill
	// the path between server and a client that does not read.
	small := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 8192) })
	}}
	conn, _, err := ts.dialWith(&websocket.Dialer{NetDialContext: small.DialContext}, ck, "lobby", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fast, _ := ts.MustDial(t, ts.MustLogin(t, "fast"), "lobby", -1)
	big := strings.Repeat("x", 1900)
	const n = 3000 // ~6 MB: more than the kernel buffers between us
	// The sender waits for each echo, so its own socket never holds more
	// than one frame: only the client that does not read falls behind.
	var lastFast int64
	for i := range n {
		if err := fast.conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"message","text":"%d %s"}`, i, big))); err != nil {
			t.Fatal(err)
		}
		lastFast = fast.MustNextOf(typeMessage).ID
	}
	// Only now does the slow client read.
	slow := newWSClient(t, conn)
	var last int64
	for {
		e, err := slow.next(10 * time.Second)
		if err != nil {
			ce, ok := err.(*websocket.CloseError)
			if !ok || ce.Code != 1013 {
				t.Fatalf("slow client ended with %v after id %d of %d, want close 1013", err, last, lastFast)
			}
			break
		}
		if e.ID != 0 {
			if last != 0 && e.ID != last+1 {
				t.Fatalf("gap before close: %d after %d", e.ID, last)
			}
			last = e.ID
		}
	}
	if last >= lastFast {
		t.Fatalf("slow client got everything (%d); the test did not overflow its buffer", last)
	}
	// Resume as the web client does: replay, and if the replay was cut
	// to the newest 500, the history API fills in before it.
	resumed, w := ts.MustDial(t, ck, "lobby", last)
	first := resumed.MustNextOf(typeMessage)
	if w.Truncated != (first.ID > last+1) {
		t.Fatalf("welcome truncated=%v but replay starts at %d after %d", w.Truncated, first.ID, last)
	}
	got := MustHistoryRange(t, ts, ck, "lobby", last, first.ID)
	got = append(got, first.ID)
	for e := first; e.ID < lastFast; {
		e = resumed.MustNextOf(typeMessage)
		got = append(got, e.ID)
	}
	for i, id := range got {
		if id != last+1+int64(i) {
			t.Fatalf("resumed ids not contiguous at %d: %v", i, got[max(0, i-3):i+1])
		}
	}
}

// MustHistoryRange returns the ids after..before (exclusive) from the
// history API, paging backwards as a client would.
func MustHistoryRange(t *testing.T, ts *testServer, ck *http.Cookie, room string, after, before int64) []int64 {
	t.Helper()
	var ids []int64
	for _, e := range MustHistory(t, ts, ck, room, after, before) {
		ids = append(ids, e.ID)
	}
	return ids
}

// MustHistory pages backwards through the history API and returns the
// events with after < id < before, oldest first.
func MustHistory(t *testing.T, ts *testServer, ck *http.Cookie, room string, after, before int64) []ev {
	t.Helper()
	var out []ev
	for before > after+1 {
		resp, body := ts.get(t, fmt.Sprintf("/api/rooms/%s/messages?before=%d&limit=200", room, before), ck)
		var page struct{ Events []ev }
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &page) != nil || len(page.Events) == 0 {
			t.Fatalf("history before %d: %d %s", before, resp.StatusCode, body)
		}
		var chunk []ev
		for _, e := range page.Events {
			if e.ID > after {
				chunk = append(chunk, e)
			}
		}
		out = append(chunk, out...)
		before = page.Events[0].ID
		if before == 1 {
			break
		}
	}
	return out
}

// Joins and short resumes are answered from the room's memory, longer ones
// from the store; after a restart the memory is loaded from the store.
// Whichever answers, a socket gets exactly the ids it asked for.
func TestReplayFromMemoryAndStoreAgree(t *testing.T) {
	dir := t.TempDir()
	grace := func(c *Config) { c.PresenceGrace = time.Minute }
	ts := MustStart(t, dir, grace)
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "lobby", -1)
	const n = 80
	for i := range n {
		c.say(fmt.Sprint(i), "")
	}
	for range n {
		c.MustNextOf(typeMessage)
	}
	const last = n + 1 // alice's join is id 1
	check := func(t *testing.T, ts *testServer) {
		for _, since := range []int64{-1, 0, 1, 10, last - 70, last - 63, last - 62, last - 50, last - 49, last - 1, last, last + 5} {
			t.Run(fmt.Sprint("since=", since), func(t *testing.T) {
				from := since + 1
				if since < 0 || since > last {
					from = last - historyOnJoin + 1
				}
				c, w := ts.MustDial(t, ck, "lobby", since)
				defer c.conn.Close()
				if w.LastID != last || w.Truncated {
					t.Fatalf("welcome %+v, want last_id %d, not truncated", w, last)
				}
				for want := from; want <= last; want++ {
					if e := c.MustNext(); e.ID != want {
						t.Fatalf("replay gave id %d (%s), want %d", e.ID, e.Type, want)
					}
				}
				c.expectQuiet(50 * time.Millisecond)
			})
		}
	}
	t.Run("running", func(t *testing.T) { check(t, ts) })
	c.conn.Close()
	ts.MustClose(t)
	t.Run("restarted", func(t *testing.T) { check(t, MustStart(t, dir, grace)) })
}
