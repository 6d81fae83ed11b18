package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestSocketRefusedBeforeUpgrade(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	forged := &http.Cookie{Name: cookieName, Value: strings.Split(ck.Value, ".")[0] + ".AAAA"}
	unknown := &http.Cookie{Name: cookieName, Value: signCookie([]byte("another secret!!"), "someid")}
	// bob's session id with alice's signature: a signature is good for
	// the one id it was made for.
	bobID, _, _ := strings.Cut(ts.MustLogin(t, "bob").Value, ".")
	_, aliceMAC, _ := strings.Cut(ck.Value, ".")
	swapped := &http.Cookie{Name: cookieName, Value: bobID + "." + aliceMAC}
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
		{"another session's signature", swapped, "lobby", nil, 401},
		{"foreign origin", ck, "lobby", []string{"Origin", "http://evil.example"}, 403},
		{"origin on another port", ck, "lobby", []string{"Origin", "http://127.0.0.1:1"}, 403},
		{"origin of another scheme", ck, "lobby", []string{"Origin", "ftp://" + ts.Addr()}, 403},
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
	// Behind a proxy that ends TLS the page is https on the same host.
	if _, resp, err := ts.dial(ck, "lobby", -1, "Origin", "https://"+ts.Addr()); err != nil {
		t.Errorf("same-host socket from an https page refused: %v %v", err, resp)
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
		{"negative after", `{"type":"message","text":"hi","nonce":"x5","after":-1}`, "invalid", "x5"},
		{"after without nonce", `{"type":"message","text":"hi","after":3}`, "invalid", ""},
		// A field of the wrong type is refused as such, and the rest
		// of the frame is still read: its nonce comes back.
		{"after not a number", `{"type":"message","text":"hi","nonce":"x6","after":"3"}`, "invalid", "x6"},
		{"text not a string", `{"type":"message","text":5,"nonce":"x7"}`, "invalid", "x7"},
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
	// The longest text and the longest nonce, counted in characters.
	longest := strings.Repeat("号", maxNonceLen)
	c.say(strings.Repeat("字", 2000), longest)
	if m := c.MustNextOf(typeMessage); m.Nonce != longest || m.ID != 2 {
		t.Errorf("2000 characters and a nonce of %d must pass and be the only stored message: %+v", maxNonceLen, m)
	}
}

// A ping is answered with a pong, stores nothing and needs no text; the
// web client uses it to tell a live socket from one that died without a
// close.
func TestPingPong(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	// The server's own WebSocket pings keep an idle socket open through
	// proxies that close one quiet for 30-60 s; 25 s is too long to wait
	// for here, so it is melody's setting that is checked.
	if cfg := ts.hub.m.Config; cfg.PingPeriod != 25*time.Second || cfg.PongWait <= cfg.PingPeriod {
		t.Errorf("pings every %v, a pong awaited %v; want every 25 s, awaited longer", cfg.PingPeriod, cfg.PongWait)
	}
	c, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	c.MustNextOf(typeJoin) // id 1
	for range 3 {
		c.send(map[string]string{"type": "ping"})
		if e := c.MustNextOf(typeMessage, typePong, typeError); e.Type != typePong || e.ID != 0 {
			t.Fatalf("got %+v, want a pong", e)
		}
	}
	c.say("after", "n1")
	if m := c.MustNextOf(typeMessage, typeError); m.Type != typeMessage || m.ID != 2 {
		t.Errorf("got %+v, want the message with id 2: a ping stores nothing", m)
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

// MSG_RATE paces a session, not a socket: alice's two sockets (two tabs,
// two rooms) share one allowance, and bob's is his own.
func TestRateLimit(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.MsgRate, c.MsgBurst = 5, 10 })
	ck := ts.MustLogin(t, "alice")
	tabs := []*wsClient{}
	for _, room := range []string{"lobby", "cats"} {
		c, _ := ts.MustDial(t, ck, room, -1)
		c.MustNextOf(typeJoin)
		tabs = append(tabs, c)
	}
	const n = 60
	for i := range n {
		tabs[i%2].say(fmt.Sprint("m", i), fmt.Sprint(i))
	}
	stored, limited := 0, 0
	for i := range n {
		switch e := tabs[i%2].MustNextOf(typeMessage, typeError); {
		case e.Type == typeMessage:
			stored++
		case e.Code == "rate_limited" && e.Nonce != "":
			limited++
		default:
			t.Fatalf("unexpected %+v", e)
		}
	}
	// One burst of 10 for both sockets, plus what 5/s refills while
	// the frames are read (each refused one pauses its socket 5 ms). Per
	// socket it would be 20 and more.
	if limited == 0 || stored < 10 || stored > 16 {
		t.Errorf("stored %d, rate limited %d", stored, limited)
	}
	inHistory := 0
	for _, room := range []string{"lobby", "cats"} {
		resp, body := ts.get(t, "/api/rooms/"+room+"/messages?limit=200", ck)
		if resp.StatusCode != 200 {
			t.Fatalf("history of %s: %d", room, resp.StatusCode)
		}
		inHistory += strings.Count(body, `"type":"message"`)
	}
	if inHistory != stored {
		t.Errorf("history holds %d messages, want %d (rate-limited ones are not stored)", inHistory, stored)
	}
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	bob.say("my own allowance", "b")
	for {
		// The replay of alice's messages comes first.
		if e := bob.MustNextOf(typeMessage, typeError); e.Nonce == "b" {
			if e.Type != typeMessage || e.User != "bob" {
				t.Errorf("bob's first message: %+v; alice's rate reached him", e)
			}
			break
		}
	}
}

// Refused messages spend no allowance: a user whose client sent an empty
// or too long message, or a bad after, still has their burst for what
// they meant to say.
func TestInvalidMessagesSpendNoAllowance(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.MsgRate, c.MsgBurst, c.AddrMsgRate = 0.01, 2, 1 })
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	for _, c := range []struct {
		nonce string
		frame map[string]any
		code  string
	}{
		{"blank", map[string]any{"text": "  "}, "invalid"},
		{"no text", map[string]any{}, "invalid"},
		{"too long", map[string]any{"text": strings.Repeat("x", maxTextLen+1)}, "too_long"},
		{"bad after", map[string]any{"text": "hi", "after": -1}, "invalid"},
	} {
		c.frame["type"], c.frame["nonce"] = "message", c.nonce
		alice.send(c.frame)
		if e := alice.MustNextOf(typeError); e.Code != c.code || e.Nonce != c.nonce {
			t.Errorf("%s: %s %q, want %s", c.nonce, e.Code, e.Text, c.code)
		}
	}
	for _, text := range []string{"one", "two"} {
		alice.say(text, text)
		if e := alice.MustNextOf(typeMessage, typeError); e.Type != typeMessage || e.Text != text {
			t.Errorf("%q after the refused ones: %+v, want it stored", text, e)
		}
	}
	alice.say("three", "three")
	if e := alice.MustNextOf(typeMessage, typeError); e.Code != "rate_limited" {
		t.Errorf("a third message over a burst of 2: %+v, want rate_limited", e)
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

// A frame that arrives once the stop has begun is not taken. Its sender
// gets no echo and sends it again after reconnecting; taken, it would be
// committed only after its socket closed, and stored twice if it carried
// no nonce. Here the stop waits for a commit held at the gate, so the
// frame arrives after the stop queued its flush and before the socket
// closes.
func TestShutdownTakesNoFrameAfterItBegins(t *testing.T) {
	dir := t.TempDir()
	ts, h := MustStartHeld(t, dir, "before")
	ck := ts.MustLogin(t, "alice")
	conn, _, err := ts.dial(ck, "lobby", -1)
	if err != nil {
		t.Fatal(err)
	}
	pong := make(chan struct{}, 1)
	conn.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
	c := newWSClient(t, conn)
	c.MustNextOf(typeWelcome)
	c.say("before", "b")
	h.MustEnter(t, "the commit of before")
	stopped := make(chan struct{})
	go func() { ts.MustClose(t); close(stopped) }()
	MustEventually(t, "the stop to queue its flush", func() bool { return ts.queued("lobby") == 1 })
	c.send(map[string]string{"type": "message", "text": "after"})
	// The server reads a socket's frames in order, so its pong says it
	// has read the message.
	if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-pong:
	case <-time.After(10 * time.Second):
		t.Fatal("no pong")
	}
	h.release()
	<-stopped
	code, got := c.MustCloseCode()
	var echoed []string
	for _, e := range got {
		if e.Type == typeMessage {
			echoed = append(echoed, e.Text)
		}
	}
	if code != closeServiceRestart || !slices.Equal(echoed, []string{"before"}) {
		t.Errorf("closed with %d after the echoes of %q; want %d after before's alone", code, echoed, closeServiceRestart)
	}
	var stored []string
	for _, e := range MustHistory(t, MustStart(t, dir), ck, "lobby", 0, 1<<40) {
		if e.Type == typeMessage {
			stored = append(stored, e.Text)
		}
	}
	if !slices.Equal(stored, []string{"before"}) {
		t.Errorf("stored %q, want before alone", stored)
	}
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
