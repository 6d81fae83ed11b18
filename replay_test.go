package main

// Resuming with since: gap-free replays from memory or the store, the
// truncation mark, and a slow socket's 1013 and resume.

import (
	"context"
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

// More than maxReplay events to resume: the newest maxReplay, marked
// truncated, whether the room's memory answers or (after a restart) the
// store.
func TestReplayBeyondLimitIsMarked(t *testing.T) {
	dir := t.TempDir()
	// alice is back within the grace however slow the restart, so no
	// leave and join move the last id.
	grace := func(c *Config) { c.PresenceGrace = time.Minute }
	ts := MustStart(t, dir, grace)
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "lobby", -1)
	for i := range maxReplay + 20 {
		c.say(fmt.Sprint(i), "")
	}
	for range maxReplay + 20 {
		c.MustNextOf(typeMessage)
	}
	check := func(t *testing.T, ts *testServer) {
		c2, w := ts.MustDial(t, ck, "lobby", 0)
		defer c2.conn.Close()
		if !w.Truncated || w.LastID != maxReplay+21 {
			t.Fatalf("welcome %+v, want truncated with last_id %d", w, maxReplay+21)
		}
		if first := c2.MustNext(); first.ID != w.LastID-maxReplay+1 {
			t.Errorf("replay starts at %d, want the newest %d (from %d)", first.ID, maxReplay, w.LastID-maxReplay+1)
		}
		// Exactly maxReplay to resume: all of them, not truncated.
		c4, w4 := ts.MustDial(t, ck, "lobby", w.LastID-maxReplay)
		defer c4.conn.Close()
		if w4.Truncated {
			t.Errorf("a resume of exactly %d events marked truncated", maxReplay)
		}
		if first := c4.MustNext(); first.ID != w.LastID-maxReplay+1 {
			t.Errorf("replay of %d starts at %d, want %d", maxReplay, first.ID, w.LastID-maxReplay+1)
		}
		// One more: truncated by one event, as by many.
		c5, w5 := ts.MustDial(t, ck, "lobby", w.LastID-maxReplay-1)
		defer c5.conn.Close()
		if !w5.Truncated {
			t.Errorf("a resume of %d events not marked truncated", maxReplay+1)
		}
		if first := c5.MustNext(); first.ID != w.LastID-maxReplay+1 {
			t.Errorf("replay of %d starts at %d, want the newest %d (from %d)", maxReplay+1, first.ID, maxReplay, w.LastID-maxReplay+1)
		}
		// A fresh connection gets the newest 50.
		c3, w3 := ts.MustDial(t, ck, "lobby", -1)
		defer c3.conn.Close()
		if e := c3.MustNext(); e.ID != w3.LastID-historyOnJoin+1 {
			t.Errorf("fresh history starts at %d, want %d", e.ID, w3.LastID-historyOnJoin+1)
		}
	}
	t.Run("running", func(t *testing.T) { check(t, ts) })
	c.conn.Close()
	ts.MustClose(t)
	t.Run("restarted", func(t *testing.T) { check(t, MustStart(t, dir, grace)) })
}

// A client that stops reading is closed with 1013 once its buffer fills;
// everything it got before is gap-free, and since= brings the rest.
func TestSlowClientClosedWith1013ThenResumes(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.SocketBuffer = 4; c.PresenceGrace = time.Minute })
	// How many frames the kernel buffers hold varies too much to show
	// the queue's length from outside: it is melody's setting.
	if n := ts.hub.m.Config.MessageBufferSize; n != 4 {
		t.Fatalf("melody queues %d frames per socket; want SOCKET_QUEUE's 4", n)
	}
	ck := ts.MustLogin(t, "slow")
	// A small fixed receive buffer (no autotuning) so that a few MB fill
	// the path between server and a client that does not read.
	small := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { setReceiveBuffer(fd, 8192) })
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

// longestText is message i at the longest a message may be: maxTextLen
// characters, nearly all CJK (3 bytes each in UTF-8).
func longestText(i int) string {
	return fmt.Sprint(i) + strings.Repeat("长", maxTextLen-len(fmt.Sprint(i)))
}

// Joins and resumes are answered from the room's memory when it holds what
// they need, else from the store; after a restart the memory holds only the
// newest historyOnJoin, loaded from the store. With the longest messages
// the memory holds fewer events (recentBudget), so more resumes read the
// store while the server runs; with all rooms over HistoryMemory it holds
// none, and every join reads the store.
// Whichever answers, a socket gets exactly the ids it asked for.
func TestReplayFromMemoryAndStoreAgree(t *testing.T) {
	short := func(i int) string { return fmt.Sprint(i) }
	for _, tc := range []struct {
		name   string
		text   func(i int) string
		memory int64 // HistoryMemory
	}{
		{"short", short, defaultConfig().HistoryMemory},
		{"longest", longestText, defaultConfig().HistoryMemory},
		{"no memory left", short, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			grace := func(c *Config) { c.PresenceGrace, c.HistoryMemory = time.Minute, tc.memory }
			ts := MustStart(t, dir, grace)
			ck := ts.MustLogin(t, "alice")
			c, _ := ts.MustDial(t, ck, "lobby", -1)
			// Each echo is read before the next message: 80 of the longest
			// unread would fill the socket's queue, and the server would
			// rightly close it with 1013.
			const n = 80
			for i := range n {
				c.say(tc.text(i), "")
				if e := c.MustNextOf(typeMessage); e.Text != tc.text(i) {
					t.Fatalf("message %d came back as %.20q…", i, e.Text)
				}
			}
			if used := ts.hub.recent.used.Load(); tc.memory == 1 && used != 0 {
				t.Fatalf("with no memory left the room keeps %d bytes", used)
			}
			const last = n + 1 // alice's join is id 1
			check := func(t *testing.T, ts *testServer) {
				// last-53 and last-51 ask for the one event before what
				// the room keeps in memory (from id 30 with the longest
				// messages, from 32 after a restart).
				for _, since := range []int64{-1, 0, 1, 10, last - 70, last - 63, last - 62, last - 53, last - 51, last - 50, last - 49, last - 1, last, last + 5} {
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
							e := c.MustNext()
							if e.ID != want {
								t.Fatalf("replay gave id %d (%s), want %d", e.ID, e.Type, want)
							}
							if i := int(want) - 2; e.Type == typeMessage && e.Text != tc.text(i) {
								t.Fatalf("id %d came back as %.20q…, want message %d", e.ID, e.Text, i)
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
		})
	}
}

// stallingStore holds the first resume read (after > 0) at its gate
// before it reads, the way a long history read on a slow disk would.
type stallingStore struct {
	Store
	*gate
}

// MustRestartStalling restarts the stopped server on dir with a
// stallingStore, whose release runs when the test ends too, so a failed
// run does not leave the read stalled.
func MustRestartStalling(t *testing.T, dir string, mod ...func(*Config)) (*testServer, *stallingStore) {
	t.Helper()
	st := &stallingStore{Store: MustOpenSQLite(t, dir), gate: newGate()}
	ts := MustStartStore(t, dir, st, mod...)
	t.Cleanup(st.release)
	return ts, st
}

func (s *stallingStore) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	if after > 0 {
		s.hold()
	}
	return s.Store.Events(ctx, room, after, before, limit)
}

// A resume from beyond the room's memory (here: after a restart, which
// leaves the room with its newest historyOnJoin) reads the store; the room
// goes on committing and fanning out meanwhile, and the resumed socket
// still gets everything once, in order. With during > recentKeep the room
// must keep more than usual in memory until the read is back.
func TestLongReplayDoesNotHoldUpTheRoom(t *testing.T) {
	for _, tc := range []struct {
		name       string
		during     int
		leaveEarly bool
	}{
		{"one message during the read", 1, false},
		{"more than the room keeps during the read", recentKeep + recentKeep/4 + 5, false},
		{"socket closes during the read", 3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			grace := func(c *Config) { c.PresenceGrace = 200 * time.Millisecond }
			ts := MustStart(t, dir, grace)
			ckA, ckB := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
			a, _ := ts.MustDial(t, ckA, "lobby", -1)
			b, w := ts.MustDial(t, ckB, "lobby", -1)
			seen := w.LastID
			b.conn.Close()
			lastA := a.MustSayMany("before %d", historyOnJoin+20).ID // more than a loaded room holds
			a.conn.Close()
			ts.MustClose(t)

			ts, st := MustRestartStalling(t, dir, grace)
			a, _ = ts.MustDial(t, ckA, "lobby", lastA) // up to date: from memory
			conn, _, err := ts.dial(ckB, "lobby", seen)
			if err != nil {
				t.Fatal(err)
			}
			st.MustEnter(t, "the resume's read")
			if tc.leaveEarly {
				conn.Close()
			} else {
				// Frames sent before the welcome wait for it: their
				// replies and events come after it.
				for _, f := range []string{`{"type":"nope"}`, `{"type":"message","text":"early"}`} {
					if err := conn.WriteMessage(websocket.TextMessage, []byte(f)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// The store read is stalled; alice's messages still go
			// through (MustNextOf fails after 10 s).
			for i := range tc.during {
				a.say(fmt.Sprint("during ", i), "")
				if e := a.MustNextOf(typeMessage); e.Text != fmt.Sprint("during ", i) {
					t.Fatalf("alice got %q", e.Text)
				}
			}
			st.release()

			if tc.leaveEarly {
				// bob's socket closed before his welcome: he still leaves
				// after the grace, so his presence was counted right.
				if e := a.MustNextOf(typeLeave); e.User != "bob" {
					t.Fatalf("leave of %q, want bob", e.User)
				}
				return
			}
			b2 := newWSClient(t, conn)
			w2 := b2.MustNext()
			from := seen + 1
			if w2.Type != typeWelcome || w2.Truncated != (w2.LastID-seen > maxReplay) {
				t.Fatalf("first event %+v, want a welcome truncated only beyond %d events", w2, maxReplay)
			}
			if w2.Truncated {
				from = w2.LastID - maxReplay + 1
			}
			a.say("after", "")
			refused, early, after := false, false, false
			for want := from; !early || !after; {
				e := b2.MustNextOf(typeMessage, typeJoin, typeLeave, typeError)
				if e.Type == typeError {
					refused = refused || e.Code == string(codeInvalid)
					continue
				}
				if e.ID != want {
					t.Fatalf("bob got id %d (%q), want %d", e.ID, e.Text, want)
				}
				want++
				if e.Text == "early" && e.ID <= w2.LastID {
					t.Errorf("bob's early message has id %d, within the replay (last_id %d)", e.ID, w2.LastID)
				}
				early, after = early || e.Text == "early", after || e.Text == "after"
			}
			if !refused {
				t.Error("no invalid error for bob's bad frame")
			}
			b2.expectQuiet(200*time.Millisecond, typePresence)
		})
	}
}

// A socket the server closes while its welcome waits for a store read
// lets go of everything at once: a frame it sent meanwhile was holding
// its reader (see awaitWelcome), and with it the socket's slot under
// SOCKETS_PER_IP, which a new socket from the same address needs.
func TestClosedBeforeWelcomeLetsGo(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	ckA := ts.MustLogin(t, "alice")
	a, w := ts.MustDial(t, ckA, "lobby", -1)
	seen := w.LastID
	a.MustSayMany("before %d", historyOnJoin+20) // more than a loaded room holds
	a.conn.Close()
	ts.MustClose(t)

	ts, st := MustRestartStalling(t, dir, func(c *Config) { c.SocketsPerAddr = 1 })
	ck := ts.MustLogin(t, "bob")
	conn, _, err := ts.dial(ck, "lobby", seen)
	if err != nil {
		t.Fatal(err)
	}
	st.MustEnter(t, "the resume's read")
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"message","text":"early"}`)); err != nil {
		t.Fatal(err)
	}
	ts.MustLogout(t, ck)
	code, got := newWSClient(t, conn).MustCloseCode()
	if code != closeSessionEnded {
		t.Fatalf("closed with %d, want %d", code, closeSessionEnded)
	}
	if len(got) > 0 {
		t.Fatalf("before the close the socket got %d events, the first a %s; its welcome should still be waiting for the store", len(got), got[0].Type)
	}
	// The store read is still stalled; the slot comes back anyway.
	ck = ts.MustLogin(t, "bob")
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, resp, err := ts.dial(ck, "lobby", -1)
		if err == nil {
			conn.Close()
			return
		}
		if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("dial after the close: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the closed socket still holds its slot after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
