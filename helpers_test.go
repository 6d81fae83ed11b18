package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

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
	// A socket a test does not read from for a while still has its
	// frames written by its write pump, but on a loaded machine that
	// goroutine can wait its turn for as long as a room takes to queue
	// eight frames, and the server then rightly closes it with 1013:
	// TestReactions' onlookers were, now and then, with the tests run
	// beside busy loops. The tests of that queue set SocketBuffer.
	cfg.SocketBuffer = 64
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

// MustLogout logs ck's session out, as its own page would.
func (ts *testServer) MustLogout(t testing.TB, ck *http.Cookie) {
	t.Helper()
	if resp := ts.postLogout(t, ck, ts.URL); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: status %d", resp.StatusCode)
	}
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

// gate holds the first store call that reaches it until release: a slow
// disk under that one call, while the server goes on around it. Later
// calls pass. A test registers release with t.Cleanup after starting its
// server (cleanups run last first), so one that fails while the call is
// held does not leave the server's Close waiting on it.
type gate struct {
	once    sync.Once
	entered chan struct{} // closed when the held call arrives
	open    chan struct{}
	release func() // lets the held call go; safe to call again
}

func newGate() *gate {
	g := &gate{entered: make(chan struct{}), open: make(chan struct{})}
	g.release = sync.OnceFunc(func() { close(g.open) })
	return g
}

// hold is called by the store wrapper on the calls the test means.
func (g *gate) hold() {
	first := false
	g.once.Do(func() { first = true; close(g.entered) })
	if first {
		<-g.open
	}
}

// MustEnter waits for the held call; what says which call it is.
func (g *gate) MustEnter(t testing.TB, what string) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never reached the store", what)
	}
}
