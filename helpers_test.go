package main

import (
	"bufio"
	"context"
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
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// chromedp's allocator and net/http's idle keep-alive readers
		// outlive individual tests by design; everything of ours must not.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
	)
}

// testServer is a real server on a loopback port with a real SQLite file.
type testServer struct {
	*Main
	URL    string
	closed bool
}

// MustStart runs the server on dir (a t.TempDir() unless a test restarts on
// the same one). mod tweaks the config.
func MustStart(t testing.TB, dir string, mod ...func(*Config)) *testServer {
	t.Helper()
	return MustStartStore(t, dir, nil, mod...)
}

// MustStartStore is MustStart with st as the store (nil: SQLite in dir).
func MustStartStore(t testing.TB, dir string, st Store, mod ...func(*Config)) *testServer {
	t.Helper()
	return MustRun(t, &Main{Config: testConfig(dir, mod...), Store: st})
}

// MustOpenSQLite opens the SQLite store in dir. The test closes it, or
// the server it is given to does (MustStartStore).
func MustOpenSQLite(t testing.TB, dir string) *SQLite {
	t.Helper()
	sq, err := OpenSQLite(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return sq
}

// testConfig is the configuration the tests run with, changed by mod.
func testConfig(dir string, mod ...func(*Config)) Config {
	cfg := defaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dir
	// Tests log in and connect many users from 127.0.0.1; the limits
	// have their own tests.
	cfg.MsgRate, cfg.AddrMsgRate, cfg.LoginRate, cfg.RoomRate, cfg.SocketsPerAddr = 0, 0, 0, 0, 0
	cfg.PresenceGrace = 500 * time.Millisecond
	for _, f := range mod {
		f(&cfg)
	}
	return cfg
}

// MustRun starts m and stops it when the test ends.
func MustRun(t testing.TB, m *Main) *testServer {
	t.Helper()
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("starting server: %v", err)
	}
	ts := &testServer{Main: m, URL: "http://" + m.Addr()}
	t.Cleanup(func() { ts.MustClose(t) })
	return ts
}

func (ts *testServer) MustClose(t testing.TB) {
	t.Helper()
	if ts.closed {
		return
	}
	ts.closed = true
	if err := ts.Close(); err != nil {
		t.Errorf("closing server: %v", err)
	}
}

// releaseLockAsACrashWould lets go of the data directory's lock (see
// lockDataDir) while the server runs on, as the kernel does when a server
// crashes, so that a test can start the next server on the directory.
func (ts *testServer) releaseLockAsACrashWould() {
	sq := ts.store.(*SQLite)
	sq.lock.Close()
	sq.lock = nil
}

var noRedirect = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// postLogin posts the login form as a same-origin browser would.
func (ts *testServer) postLogin(t testing.TB, name, next string, hdr ...string) *http.Response {
	t.Helper()
	form := url.Values{"name": {name}}
	if next != "" {
		form.Set("next", next)
	}
	req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// postLogout posts /logout with ck, as a page from origin would.
func (ts *testServer) postLogout(t testing.TB, ck *http.Cookie, origin string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+"/logout", nil)
	req.AddCookie(ck)
	req.Header.Set("Origin", origin)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// MustLogin logs name in and returns the session cookie.
func (ts *testServer) MustLogin(t testing.TB, name string) *http.Cookie {
	t.Helper()
	resp := ts.postLogin(t, name, "")
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("login %q: status %d: %s", name, resp.StatusCode, b)
	}
	ck := sessionCookie(resp)
	if ck == nil {
		t.Fatalf("login %q: no session cookie", name)
	}
	return ck
}

// sessionCookie is the session cookie resp sets, or nil.
func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

func (ts *testServer) get(t *testing.T, path string, ck *http.Cookie, hdr ...string) (*http.Response, string) {
	t.Helper()
	return ts.request(t, "GET", path, nil, ck, hdr...)
}

// request sends method to path with body, the cookie ck (nil: none) and
// the headers hdr (name, value, ...), and reads the whole answer.
func (ts *testServer) request(t *testing.T, method, path string, body io.Reader, ck *http.Cookie, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, body)
	if ck != nil {
		req.AddCookie(ck)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

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
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
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

// MustSayMany says n messages, fmt.Sprintf(format, i) for i from 0, and
// reads their echoes: it returns the last as stored. Nobody else may be
// saying anything meanwhile.
// MustSay sends a message and returns its echo (the next message the
// socket gets, so the socket's room must be quiet but for it).
func (c *wsClient) MustSay(text, nonce string) ev {
	c.t.Helper()
	c.say(text, nonce)
	return c.MustNextOf(typeMessage)
}

// MustSayMany says format with 0 to n-1, and reads their echoes, a
// hundred at a time: the socket's queue holds no more.
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
