package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// ev is any server event, decoded loosely.
type ev struct {
	Type      string     `json:"type"`
	ID        int64      `json:"id"`
	Room      string     `json:"room"`
	User      string     `json:"user"`
	Text      string     `json:"text"`
	TS        string     `json:"ts"`
	Nonce     string     `json:"nonce"`
	Online    []string   `json:"online"`
	Ref       int64      `json:"ref"`     // edit, delete
	Deleted   bool       `json:"deleted"` // a deleted message
	Edited    string     `json:"edited"`  // an edited message
	ReplyTo   int64      `json:"reply_to"`
	Emoji     string     `json:"emoji"`
	Reactions []Reaction `json:"reactions"`
	Users     []string   `json:"users"` // typing
	Count     int        `json:"count"` // typing
	LastID    int64      `json:"last_id"`
	Topic     *topicInfo `json:"topic"`
	Image     *imageInfo `json:"image"` // a message's picture
	Code      string     `json:"code"`
	Truncated bool       `json:"truncated"`
}

// wsClient is a real WebSocket client. A goroutine reads frames and splits
// them into events, so tests can wait with timeouts without touching the
// connection's read deadline (gorilla's connection is dead after one).
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	events chan ev
	err    error // why the socket ended; valid once events is closed
	frames atomic.Int64
}

func newWSClient(t *testing.T, conn *websocket.Conn) *wsClient {
	c := &wsClient{t: t, conn: conn, events: make(chan ev, 100000)}
	go func() {
		defer close(c.events)
		for {
			typ, r, err := conn.NextReader()
			if err != nil {
				c.err = err
				return
			}
			if typ != websocket.TextMessage {
				c.err = errors.New("non-text frame from server")
				return
			}
			c.frames.Add(1)
			sc := bufio.NewScanner(r)
			sc.Buffer(nil, 1<<22)
			for sc.Scan() {
				var e ev
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					c.err = err
					return
				}
				c.events <- e
			}
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		for range c.events {
		}
	})
	return c
}

func (ts *testServer) dial(ck *http.Cookie, room string, since int64, hdr ...string) (*websocket.Conn, *http.Response, error) {
	return ts.dialWith(newDialer(), ck, room, since, hdr...)
}

func (ts *testServer) dialWith(d *websocket.Dialer, ck *http.Cookie, room string, since int64, hdr ...string) (*websocket.Conn, *http.Response, error) {
	q := url.Values{"room": {room}}
	if since >= 0 {
		q.Set("since", strconv.FormatInt(since, 10))
	}
	return ts.dialQuery(d, ck, q, hdr...)
}

// dialQuery opens a socket with the query q.
func (ts *testServer) dialQuery(d *websocket.Dialer, ck *http.Cookie, q url.Values, hdr ...string) (*websocket.Conn, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws?" + q.Encode()
	h := http.Header{}
	if ck != nil {
		h.Set("Cookie", ck.String())
	}
	h.Set("Origin", ts.URL)
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return d.Dial(u, h)
}

// MustRefuseDial expects the socket to room to be refused before the
// upgrade with status and the JSON error body of code.
func (ts *testServer) MustRefuseDial(t *testing.T, ck *http.Cookie, room string, status int, cd code) {
	t.Helper()
	ts.MustRefuseQuery(t, ck, url.Values{"room": {room}}, status, cd)
}

// MustRefuseQuery is MustRefuseDial for a socket with the query q.
func (ts *testServer) MustRefuseQuery(t *testing.T, ck *http.Cookie, q url.Values, status int, cd code) {
	t.Helper()
	conn, resp, err := ts.dialQuery(newDialer(), ck, q)
	if err == nil {
		conn.Close()
		t.Fatalf("dial %s was not refused", q.Encode())
	}
	if resp == nil {
		t.Fatalf("dial %s: %v, and no HTTP answer; want status %d", q.Encode(), err, status)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	MustErrorJSON(t, "dial "+q.Encode(), resp, string(body), status, cd)
}

// newDialer is the tests' WebSocket client.
func newDialer() *websocket.Dialer { return &websocket.Dialer{HandshakeTimeout: 5 * time.Second} }

// MustRoomLastID is the newest id stored in room, from a welcome.
func (ts *testServer) MustRoomLastID(t *testing.T, ck *http.Cookie, room string) int64 {
	t.Helper()
	c, w := ts.MustDial(t, ck, room, -1)
	c.conn.Close()
	return w.LastID
}

// MustErrorJSON checks an error answer: the status, and the JSON body
// {"error":{"code":cd,"message":...}} with a message for the user.
func MustErrorJSON(t testing.TB, what string, resp *http.Response, body string, status int, cd code) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != status || e.Error.Code != string(cd) || e.Error.Message == "" {
		t.Errorf("%s: %d %s; want %d with code %q and a message", what, resp.StatusCode, body, status, cd)
	}
}

// MustDial opens a socket to room (since < 0: a fresh connection), with
// the request headers hdr (name, value, ...), and checks that welcome
// comes first.
func (ts *testServer) MustDial(t *testing.T, ck *http.Cookie, room string, since int64, hdr ...string) (*wsClient, ev) {
	t.Helper()
	conn, resp, err := ts.dial(ck, room, since, hdr...)
	return mustWelcome(t, room, conn, resp, err)
}

// MustEventually waits up to 10 s for ok to hold, checking every 5 ms.
func MustEventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	// As long as MustWait waits: a browser under CI's load (a service
	// worker showing a notification) once took more than 10 s.
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 20 s", what)
		}
	}
}

// mustWelcome checks that a socket opened and that welcome came first.
func mustWelcome(t *testing.T, room string, conn *websocket.Conn, resp *http.Response, err error) (*wsClient, ev) {
	t.Helper()
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", room, err, status)
	}
	c := newWSClient(t, conn)
	w := c.MustNext()
	if w.Type != typeWelcome {
		t.Fatalf("first event is %q, want welcome", w.Type)
	}
	return c, w
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *wsClient) say(text, nonce string) {
	c.t.Helper()
	c.send(map[string]string{"type": "message", "text": text, "nonce": nonce})
}

// MustSay sends a message and returns its echo (the next message the
// socket gets, so the socket's room must be quiet but for it).
func (c *wsClient) MustSay(text, nonce string) ev {
	c.t.Helper()
	c.say(text, nonce)
	return c.MustNextOf(typeMessage)
}

// MustSayMany says n messages, fmt.Sprintf(format, i) for i from 0, and
// reads their echoes, a hundred at a time (the socket's queue holds no
// more): it returns the last as stored. Nobody else may be saying
// anything meanwhile.
func (c *wsClient) MustSayMany(format string, n int) ev {
	c.t.Helper()
	var last ev
	for from := 0; from < n; from += 100 {
		to := min(n, from+100)
		for i := from; i < to; i++ {
			c.say(fmt.Sprintf(format, i), "")
		}
		for range to - from {
			last = c.MustNextOf(typeMessage)
		}
	}
	return last
}

// errTimeout is next's error when nothing arrived in time.
var errTimeout = errors.New("timed out waiting for an event")

// next returns the next event, or the error that ended the socket.
func (c *wsClient) next(timeout time.Duration) (ev, error) {
	select {
	case e, ok := <-c.events:
		if !ok {
			return ev{}, c.err
		}
		return e, nil
	case <-time.After(timeout):
		return ev{}, errTimeout
	}
}

// MustReplayUpTo reads the socket's events up to id last and returns
// those with an id.
func (c *wsClient) MustReplayUpTo(last int64) []ev {
	c.t.Helper()
	var evs []ev
	for e := c.MustNext(); ; e = c.MustNext() {
		if e.ID > 0 {
			evs = append(evs, e)
		}
		if e.ID >= last {
			return evs
		}
	}
}

func (c *wsClient) MustNext() ev {
	c.t.Helper()
	e, err := c.next(10 * time.Second)
	if err != nil {
		c.t.Fatalf("reading event: %v", err)
	}
	return e
}

// MustNextOf skips events not of the given types (presence, mostly).
func (c *wsClient) MustNextOf(types ...string) ev {
	c.t.Helper()
	for {
		e := c.MustNext()
		for _, ty := range types {
			if e.Type == ty {
				return e
			}
		}
	}
}

// MustClose returns the close code the server ended the socket with,
// reading (and returning) whatever events came before it.
func (c *wsClient) MustCloseCode() (int, []ev) {
	c.t.Helper()
	var seen []ev
	for {
		e, err := c.next(10 * time.Second)
		if err == nil {
			seen = append(seen, e)
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, seen
		}
		c.t.Fatalf("socket ended without a close frame: %v", err)
	}
}

// quiet asserts nothing but the given types arrives within d.
func (c *wsClient) expectQuiet(d time.Duration, allowed ...string) {
	c.t.Helper()
	for {
		e, err := c.next(d)
		if err == errTimeout {
			return
		}
		if err != nil {
			c.t.Fatalf("socket error while expecting quiet: %v", err)
		}
		ok := false
		for _, a := range allowed {
			ok = ok || e.Type == a
		}
		if !ok {
			c.t.Fatalf("unexpected %s event: %+v", e.Type, e)
		}
	}
}

// refusal is a frame the server must refuse with code, answering its
// nonce "x".
type refusal struct {
	name  string
	frame map[string]any
	code  string
}

// MustRefuse sends each frame and checks the error it gets, skipping any
// events of the types in skip that come first.
func (c *wsClient) MustRefuse(t *testing.T, cases []refusal, skip ...string) {
	t.Helper()
	for _, r := range cases {
		t.Run(r.name, func(t *testing.T) {
			c.send(r.frame)
			if e := c.MustNextOf(append([]string{typeError}, skip...)...); e.Code != r.code || e.Nonce != "x" || e.Text == "" {
				t.Errorf("got %+v, want error %s with the nonce and a reason", e, r.code)
			}
		})
	}
}
