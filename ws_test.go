package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSocketRefusedBeforeUpgrade(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	forged := &http.Cookie{Name: cookieName, Value: strings.Split(ck.Value, ".")[0] + ".AAAA"}
	unknown := &http.Cookie{Name: cookieName, Value: signCookie([]byte("another secret!!"), "someid")}
	tests := []struct {
		name string
		ck   *http.Cookie
		room string
		hdr  []string
		want int
	}{
		{"no session", nil, "lobby", nil, 401},
		{"forged signature", forged, "lobby", nil, 401},
		{"foreign secret", unknown, "lobby", nil, 401},
		{"foreign origin", ck, "lobby", []string{"Origin", "http://evil.example"}, 403},
		{"origin on another port", ck, "lobby", []string{"Origin", "http://127.0.0.1:1"}, 403},
		{"invalid room", ck, "no room!", nil, 400},
		{"empty room", ck, "", nil, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, resp, err := ts.dial(tc.ck, tc.room, -1, tc.hdr...)
			if err == nil {
				conn.Close()
				t.Fatal("upgrade succeeded")
			}
			if resp == nil || resp.StatusCode != tc.want {
				t.Fatalf("got %v, want status %d", resp, tc.want)
			}
		})
	}
	if _, resp, _ := ts.dial(ck, "lobby", -1, "Origin", ""); resp == nil || resp.StatusCode != 101 {
		t.Errorf("a non-browser client without Origin is refused")
	}
	if _, resp, err := ts.dial(ck, "lobby", -1); err != nil {
		t.Errorf("same-origin socket refused: %v %v", err, resp)
	}
}

func TestAllowedOrigins(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.AllowedOrigins = []string{"https://chat.example.com"} })
	ck := ts.MustLogin(t, "alice")
	if _, resp, err := ts.dial(ck, "lobby", -1, "Origin", "https://chat.example.com"); err != nil {
		t.Errorf("listed origin refused: %v %v", err, resp)
	}
	if _, resp, _ := ts.dial(ck, "lobby", -1); resp == nil || resp.StatusCode != 403 {
		t.Errorf("the request's own host must not pass once ALLOWED_ORIGINS is set")
	}
}

func TestChatBothWays(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	a, wa := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	if wa.Room != "lobby" || wa.User != "alice" || len(wa.Online) != 1 || wa.LastID != 1 {
		t.Fatalf("welcome %+v", wa)
	}
	if j := a.MustNext(); j.Type != typeJoin || j.ID != 1 || j.User != "alice" {
		t.Fatalf("alice's own join in history: %+v", j)
	}
	b, wb := ts.MustDial(t, ts.MustLogin(t, "bob"), "LOBBY", -1)
	if strings.Join(wb.Online, ",") != "alice,bob" {
		t.Errorf("bob's welcome online = %v", wb.Online)
	}
	if j := a.MustNextOf(typeJoin); j.User != "bob" || j.ID != 2 {
		t.Errorf("alice sees %+v, want bob's join id 2", j)
	}
	if p := a.MustNextOf(typePresence); strings.Join(p.Online, ",") != "alice,bob" {
		t.Errorf("presence %v", p.Online)
	}

	// The user comes from the session, never from the frame.
	a.send(map[string]string{"type": "message", "text": "  hello <b>bob</b>\n ", "nonce": "n1", "user": "mallory"})
	for _, c := range []*wsClient{a, b} {
		m := c.MustNextOf(typeMessage)
		if m.User != "alice" || m.Text != "hello <b>bob</b>" || m.Nonce != "n1" || m.ID != 3 || m.Room != "lobby" {
			t.Errorf("message %+v", m)
		}
		if ts, err := time.Parse(time.RFC3339Nano, m.TS); err != nil || !strings.HasSuffix(m.TS, "Z") || len(m.TS) != len("2006-01-02T15:04:05.000Z") || time.Since(ts) > time.Minute {
			t.Errorf("ts %q is not RFC 3339 UTC with milliseconds", m.TS)
		}
	}
	b.say("你好 👋🏽 ça va?", "")
	if m := a.MustNextOf(typeMessage); m.Text != "你好 👋🏽 ça va?" || m.User != "bob" {
		t.Errorf("CJK/emoji round trip: %+v", m)
	}
}

func TestBadFramesKeepSocketOpen(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	c, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	c.MustNextOf(typeJoin)
	tests := []struct {
		name  string
		frame string
		code  string
		nonce string
	}{
		{"not json", "hello", "invalid", ""},
		{"json array", "[1,2]", "invalid", ""},
		{"unknown type", `{"type":"dance","nonce":"x1"}`, "invalid", "x1"},
		{"no text", `{"type":"message","nonce":"x2"}`, "invalid", "x2"},
		{"blank text", `{"type":"message","text":" \n\t ","nonce":"x3"}`, "invalid", "x3"},
		{"too long", `{"type":"message","text":"` + strings.Repeat("字", 2001) + `","nonce":"x4"}`, "too_long", "x4"},
		{"long nonce", `{"type":"message","text":"hi","nonce":"` + strings.Repeat("n", 65) + `"}`, "invalid", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte(tc.frame)); err != nil {
				t.Fatal(err)
			}
			e := c.MustNextOf(typeError, typeMessage)
			if e.Type != typeError || e.Code != tc.code || e.Nonce != tc.nonce || e.Text == "" {
				t.Errorf("got %+v, want error %s nonce %q", e, tc.code, tc.nonce)
			}
		})
	}
	c.say(strings.Repeat("字", 2000), "max")
	if m := c.MustNextOf(typeMessage); m.Nonce != "max" || m.ID != 2 {
		t.Errorf("2000 characters must pass and be the only stored message: %+v", m)
	}
}

func TestProtocolViolationsClose(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	tests := []struct {
		name  string
		typ   int
		frame []byte
		want  int
	}{
		{"binary frame", websocket.BinaryMessage, []byte{1, 2, 3}, websocket.CloseUnsupportedData},
		{"frame over 64 KiB", websocket.TextMessage, []byte(`{"type":"message","text":"` + strings.Repeat("x", 70000) + `"}`), websocket.CloseMessageTooBig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := ts.MustDial(t, ck, "lobby", -1)
			// The server closes as soon as it has read 64 KiB, so the tail
			// of an oversized frame may meet the close already answered
			// by our reader (ErrCloseSent); the close code is what counts.
			if err := c.conn.WriteMessage(tc.typ, tc.frame); err != nil && !errors.Is(err, websocket.ErrCloseSent) {
				t.Fatal(err)
			}
			if code, _ := c.MustCloseCode(); code != tc.want {
				t.Errorf("close code %d, want %d", code, tc.want)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.MsgRate, c.MsgBurst = 5, 10 })
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "lobby", -1)
	c.MustNextOf(typeJoin)
	const n = 30
	for i := range n {
		c.say(fmt.Sprint("m", i), fmt.Sprint(i))
	}
	stored, limited := 0, 0
	for range n {
		switch e := c.MustNextOf(typeMessage, typeError); {
		case e.Type == typeMessage:
			stored++
		case e.Code == "rate_limited" && e.Nonce != "":
			limited++
		default:
			t.Fatalf("unexpected %+v", e)
		}
	}
	// A burst of 10 plus what 5/s refills while 30 frames are read.
	if limited == 0 || stored < 10 || stored > 20 {
		t.Errorf("stored %d, rate limited %d", stored, limited)
	}
	resp, body := ts.get(t, "/api/rooms/lobby/messages?limit=200", ck)
	if resp.StatusCode != 200 || strings.Count(body, `"type":"message"`) != stored {
		t.Errorf("history holds %d messages, want %d (rate-limited ones are not stored)", strings.Count(body, `"type":"message"`), stored)
	}
}

func TestConcurrentSendersSeeGapFreeOrder(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	const senders, each, readers = 6, 60, 4
	var clients []*wsClient
	for i := range senders + readers {
		c, _ := ts.MustDial(t, ts.MustLogin(t, fmt.Sprint("u", i)), "busy", -1)
		clients = append(clients, c)
	}
	// Let all joins settle: every client waits for the last join.
	for _, c := range clients {
		for e := c.MustNext(); !(e.Type == typeJoin && e.User == fmt.Sprint("u", senders+readers-1)); e = c.MustNext() {
		}
	}
	var wg sync.WaitGroup
	for i := range senders {
		wg.Go(func() {
			for j := range each {
				clients[i].say(fmt.Sprintf("%d-%d", i, j), "")
			}
		})
	}
	wg.Wait()
	for ci, c := range clients {
		last := int64(senders + readers) // ids so far are the joins
		perSender := map[string]int{}
		for got := 0; got < senders*each; {
			e := c.MustNext()
			if e.Type == typePresence {
				continue
			}
			if e.ID != last+1 {
				t.Fatalf("client %d: id %d after %d", ci, e.ID, last)
			}
			last = e.ID
			var s, j int
			fmt.Sscanf(e.Text, "%d-%d", &s, &j)
			if key := e.User; perSender[key] != j {
				t.Fatalf("client %d: %s's message %d arrived as #%d", ci, key, j, perSender[key])
			}
			perSender[e.User]++
			got++
		}
		if c.frames.Load() >= int64(senders*each) {
			t.Logf("client %d: no batching happened (%d frames)", ci, c.frames.Load())
		}
	}
}

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

// Shutdown commits what was queued: every message the sender saw echoed is
// stored, and what is stored is gap-free and visible after a restart.
func TestShutdownFlushesQueuedMessages(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "lobby", -1)
	c.MustNextOf(typeJoin)
	go func() {
		for i := range 2000 {
			if c.conn.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"type":"message","text":"m%d","nonce":"%d"}`, i, i))) != nil {
				return
			}
		}
	}()
	var seen []ev
	for len(seen) < 20 {
		seen = append(seen, c.MustNextOf(typeMessage))
	}
	ts.MustClose(t) // while messages are still arriving
	code, rest := c.MustCloseCode()
	seen = append(seen, rest...)
	if code != closeServiceRestart {
		t.Errorf("close code %d", code)
	}
	echoed := map[string]bool{}
	for _, e := range seen {
		if e.Type == typeMessage {
			echoed[e.Nonce] = true
		}
	}
	ts2 := MustStart(t, dir)
	stored := map[string]bool{}
	for i, e := range MustHistory(t, ts2, ck, "lobby", 1, 1<<40) {
		if e.ID != int64(i)+2 {
			t.Fatalf("stored ids have a gap at %d: id %d", i, e.ID)
		}
		stored[e.Nonce] = true
	}
	for n := range echoed {
		if !stored[n] {
			t.Errorf("message %s was delivered but is not stored", n)
		}
	}
	t.Logf("%d delivered before the close, %d stored", len(echoed), len(stored))
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

// A burst of refused frames gets one error each and keeps the socket: the
// read pause after each refusal keeps the replies within its small queue.
func TestBurstOfBadFramesKeepsSocket(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	c, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	c.MustNextOf(typeJoin)
	const n = 100 // many times the socket's queue
	for i := range n {
		c.send(map[string]any{"type": "message", "text": " ", "nonce": fmt.Sprint(i)})
	}
	for i := range n {
		if e := c.MustNextOf(typeError); e.Code != "invalid" || e.Nonce != fmt.Sprint(i) {
			t.Fatalf("reply %d is %+v, want invalid with nonce %d", i, e, i)
		}
	}
	c.say("still here", "ok")
	if e := c.MustNextOf(typeMessage); e.Nonce != "ok" {
		t.Errorf("after the burst got %+v", e)
	}
}
