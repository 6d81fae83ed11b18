package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// testClock is the server's clock in tests that skip days: the real time
// plus an offset that the test moves on.
type testClock struct{ skipped atomic.Int64 }

func (c *testClock) now() time.Time       { return time.Now().Add(time.Duration(c.skipped.Load())) }
func (c *testClock) skip(d time.Duration) { c.skipped.Add(int64(d)) }

// MustStartClock starts a server in dir whose clock is c: a testClock, or
// a stoppedClock (typing_test.go).
func MustStartClock(t *testing.T, dir string, c interface{ now() time.Time }, mod ...func(*Config)) *testServer {
	t.Helper()
	return MustRun(t, &Main{Config: testConfig(dir, mod...), Now: c.now})
}

// mustWaitClosed waits until the server has seen all of name's sockets
// close, which is when its session's 30 days start again.
func (ts *testServer) mustWaitClosed(t *testing.T, name string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ts.hub.mu.Lock()
		u := ts.hub.users[name]
		open := u == nil || len(u.clients) > 0 || u.lastClosed.IsZero()
		ts.hub.mu.Unlock()
		if !open {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's sockets are still open on the server", name)
		}
	}
}

// mustSession checks that ck opens the chat page (works) or sends its
// holder to the login page, and the same for the history API.
func (ts *testServer) mustSession(t *testing.T, ck *http.Cookie, works bool) {
	t.Helper()
	resp, _ := ts.get(t, "/r/lobby", ck)
	hist, _ := ts.get(t, "/api/rooms/lobby/messages", ck)
	if got := resp.StatusCode == http.StatusOK && hist.StatusCode == http.StatusOK; got != works {
		t.Fatalf("session works: %v (page %d, history %d); want %v", got, resp.StatusCode, hist.StatusCode, works)
	}
	if !works && resp.Header.Get("Location") != "/?next=%2Fr%2Flobby" {
		t.Errorf("expired session: page redirects to %q, want the login page", resp.Header.Get("Location"))
	}
}

// A session lasts 30 days after its login or its last socket, whichever
// is later, and never ends while a socket is open, however long the
// server has run. The browser's cookie is renewed on every visit so it
// does not run out first.
func TestSessionExpiresWhileServerRuns(t *testing.T) {
	var clock testClock
	ts := MustStartClock(t, t.TempDir(), &clock)
	idle := ts.MustLogin(t, "idle")
	busy := ts.MustLogin(t, "busy")
	c, _ := ts.MustDial(t, busy, "lobby", -1)

	clock.skip(29 * 24 * time.Hour)
	ts.mustSession(t, idle, true)
	clock.skip(24*time.Hour + time.Minute)
	ts.mustSession(t, idle, false)
	ts.MustRefuseDial(t, idle, "lobby", http.StatusUnauthorized, codeUnauthorized)
	// busy logged in 30 days ago too, but has had a socket open since.
	ts.mustSession(t, busy, true)

	c.conn.Close()
	ts.mustWaitClosed(t, "busy")
	clock.skip(29 * 24 * time.Hour)
	ts.mustSession(t, busy, true)
	clock.skip(24*time.Hour + time.Minute)
	ts.mustSession(t, busy, false)

	// An expired name is free, like any name nobody holds.
	ts.MustLogin(t, "idle")
}

// sweepSessions forgets expired sessions in memory and in the store, and
// only those.
func TestSweepForgetsExpiredSessions(t *testing.T) {
	var clock testClock
	dir := t.TempDir()
	ts := MustStartClock(t, dir, &clock)
	old := ts.MustLogin(t, "old")
	clock.skip(20 * 24 * time.Hour)
	fresh := ts.MustLogin(t, "fresh")
	clock.skip(11 * 24 * time.Hour)

	if err := ts.hub.sweepSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.hub.mu.Lock()
	users, sessions := len(ts.hub.users), len(ts.hub.sessions)
	_, kept := ts.hub.users["fresh"]
	ts.hub.mu.Unlock()
	if users != 1 || sessions != 1 || !kept {
		t.Errorf("after the sweep: %d users, %d sessions (fresh kept: %v); want only fresh", users, sessions, kept)
	}
	recs, err := ts.store.Sessions(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Name != "fresh" {
		t.Errorf("stored sessions after the sweep: %+v; want only fresh", recs)
	}
	ts.mustSession(t, old, false)
	ts.mustSession(t, fresh, true)

	// What the sweep kept survives a restart, and the sweep did not
	// record fresh, which has no socket, as seen: its 30 days still run
	// from its login, also after the restart.
	ts.MustClose(t)
	ts = MustStartClock(t, dir, &clock)
	ts.mustSession(t, fresh, true)
	clock.skip(20 * 24 * time.Hour)
	ts.mustSession(t, fresh, false)
}

// The chat page and the socket's handshake both renew the session cookie
// for 30 days, with the same value.
func TestSessionCookieRenewedOnVisit(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	mustRenew := func(what string, resp *http.Response) {
		t.Helper()
		c := sessionCookie(resp)
		if c == nil {
			t.Errorf("%s does not renew the session cookie", what)
		} else if c.Value != ck.Value || c.MaxAge != int(sessionTTL/time.Second) || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("%s renews the cookie as %+v; want the same value, Max-Age %d, HttpOnly, Lax", what, c, int(sessionTTL/time.Second))
		}
	}
	page, _ := ts.get(t, "/r/lobby", ck)
	mustRenew("the chat page", page)
	conn, resp, err := ts.dial(ck, "lobby", -1)
	if err != nil {
		t.Fatal(err)
	}
	newWSClient(t, conn).MustNextOf(typeWelcome)
	mustRenew("the socket's handshake", resp)
}

// Run that fails after the hub started (here: the port is taken) stops
// what the hub started, its sweeper and the rooms it restored with their
// presence, and closes the store, so the data directory is free again.
func TestRunFailureStopsTheHub(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir, func(c *Config) { c.PresenceGrace = time.Minute })
	ck := ts.MustLogin(t, "alice")
	ts.MustDial(t, ck, "cats", -1)
	ts.MustClose(t) // alice is in #cats's grace: the next start restores it

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	before := goleak.IgnoreCurrent()
	m := &Main{Config: testConfig(dir, func(c *Config) { c.Addr = taken.Addr().String() })}
	if err := m.Run(context.Background()); err == nil {
		m.Close()
		t.Fatal("Run on a taken port succeeded")
	}
	if err := goleak.Find(before, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
		t.Errorf("after the failed Run: %v", err)
	}
	MustStart(t, dir).mustSession(t, ck, true)
}

// A session whose socket stays open for longer than its 30 days survives
// a crash: the sweep records it as seen, since a crash skips the write
// that closing its last socket makes.
func TestLongSocketSessionSurvivesACrash(t *testing.T) {
	var clock testClock
	dir := t.TempDir()
	// Neither server writes to the room while both run: the second
	// restores busy's presence in its grace, which outlasts the test.
	grace := func(c *Config) { c.PresenceGrace = time.Minute }
	ts := MustStartClock(t, dir, &clock, grace)
	ck := ts.MustLogin(t, "busy")
	ts.MustDial(t, ck, "lobby", -1)
	clock.skip(31 * 24 * time.Hour)
	if err := ts.hub.sweepSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts.mustSession(t, ck, true)
	lastSeen := func() time.Time {
		t.Helper()
		recs, err := ts.store.Sessions(context.Background(), time.Time{})
		if err != nil || len(recs) != 1 {
			t.Fatalf("stored sessions: %+v, %v; want busy's", recs, err)
		}
		return recs[0].LastSeen
	}
	touched := lastSeen()
	if touched.Before(clock.now().Add(-time.Hour)) {
		t.Fatalf("busy last seen %v by the sweep at %v", touched, clock.now())
	}
	// Once a day, not at every sweep: a second sweep within seenEvery
	// writes nothing.
	clock.skip(23 * time.Hour)
	if err := ts.hub.sweepSessions(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := lastSeen(); !got.Equal(touched) {
		t.Errorf("a second sweep within a day wrote busy's last seen %v; want %v kept", got, touched)
	}

	// What the store holds now is what a restart after a crash reads: a
	// second server on the same data directory reads it while the first
	// still runs (and so has not closed the socket). A crash would also
	// have let go of the directory's lock.
	ts.releaseLockAsACrashWould()
	MustStartClock(t, dir, &clock, grace).mustSession(t, ck, true)
}

// At MAX_SESSIONS a login forgets the sessions idle longest (by their
// login or their last socket's close), in memory and in the store, and
// never one in use. When every session is in use, the login is refused.
func TestMaxSessionsForgetsTheIdlest(t *testing.T) {
	var clock testClock
	ts := MustStartClock(t, t.TempDir(), &clock, func(c *Config) { c.MaxSessions = 4 })
	// With a limit of 4, each login at the limit forgets one session.
	connected := ts.MustLogin(t, "connected")
	ts.MustDial(t, connected, "lobby", -1)
	login := func(name string) *http.Cookie {
		t.Helper()
		ck := ts.MustLogin(t, name)
		clock.skip(time.Hour) // past the hold of a fresh login
		return ck
	}
	a, b, c := login("a"), login("b"), login("c")
	// b was here after c logged in.
	bc, _ := ts.MustDial(t, b, "lobby", -1)
	bc.conn.Close()
	ts.mustWaitClosed(t, "b")
	clock.skip(time.Hour)

	d := login("d") // forgets a
	e := login("e") // forgets c, whose login is older than b's last socket
	for _, s := range []struct {
		name  string
		ck    *http.Cookie
		works bool
	}{{"connected", connected, true}, {"a", a, false}, {"b", b, true}, {"c", c, false}, {"d", d, true}, {"e", e, true}} {
		t.Run(s.name, func(t *testing.T) { ts.mustSession(t, s.ck, s.works) })
	}
	recs, err := ts.store.Sessions(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, r := range recs {
		stored = append(stored, r.Name)
	}
	slices.Sort(stored)
	if !slices.Equal(stored, []string{"b", "connected", "d", "e"}) {
		t.Errorf("stored sessions: %v; want b, connected, d and e", stored)
	}

	// Every session in use: all four have a socket open.
	ts.MustDial(t, b, "lobby", -1)
	ts.MustDial(t, d, "lobby", -1)
	ts.MustDial(t, e, "lobby", -1)
	resp := ts.postLogin(t, "f", "")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "Too many people are logged in") || !strings.Contains(string(body), `value="f"`) {
		t.Errorf("login with every session in use: %d %s; want 503 with the reason and the name kept", resp.StatusCode, body)
	}
	// Logging in again under one's own name keeps one's session, and
	// needs no slot: it goes at the limit too.
	resp = ts.postLogin(t, "B", "", "Cookie", b.Name+"="+b.Value)
	if ck := sessionCookie(resp); resp.StatusCode != http.StatusSeeOther || ck == nil || ck.Value != b.Value {
		t.Errorf("b logging in again at the limit: %d, cookie %v; want 303 with b's session", resp.StatusCode, ck)
	}
}

// A login at MAX_SESSIONS forgets a tenth of the limit, the idlest, so
// that the logins after it do not each look through every session.
func TestMaxSessionsForgetsATenth(t *testing.T) {
	var clock testClock
	ts := MustStartClock(t, t.TempDir(), &clock, func(c *Config) { c.MaxSessions = 20 })
	var cks []*http.Cookie
	for i := range 21 {
		cks = append(cks, ts.MustLogin(t, fmt.Sprint("user", i)))
		clock.skip(time.Hour) // past the hold of a fresh login
	}
	// The 21st login forgot the two idlest, not just the one it needed.
	for i, ck := range cks {
		t.Run(fmt.Sprint("user", i), func(t *testing.T) { ts.mustSession(t, ck, i >= 2) })
	}
}

// MAX_SESSIONS=0 bounds nothing: every login goes, and none is forgotten.
func TestMaxSessionsOff(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.MaxSessions = 0 })
	var cks []*http.Cookie
	for i := range 5 {
		cks = append(cks, ts.MustLogin(t, fmt.Sprintf("user%d", i)))
	}
	for _, ck := range cks {
		ts.mustSession(t, ck, true)
	}
}

// heldLoginStore holds the store write of a login for the name "slow" at
// its gate, and fails the second write for "broken".
type heldLoginStore struct {
	Store
	*gate
	broken atomic.Int32
}

func (s *heldLoginStore) PutSession(ctx context.Context, r SessionRecord) error {
	switch {
	case r.Name == "slow":
		s.hold()
	case r.Name == "broken" && s.broken.Add(1) == 2:
		return errors.New("disk on fire")
	}
	return s.Store.PutSession(ctx, r)
}

// A login writes its session to the store without holding up the rest of
// the server, while its name stays claimed; a failed write leaves the
// session it would have taken over as it was.
func TestLoginWriteStallsNobodyElse(t *testing.T) {
	dir := t.TempDir()
	sq := MustOpenSQLite(t, dir)
	st := &heldLoginStore{Store: sq, gate: newGate()}
	// LoginHold 0: a session that has not connected does not hold its
	// name, so "broken" can be taken over at once.
	ts := MustStartStore(t, dir, st, func(c *Config) { c.LoginHold = 0 })
	t.Cleanup(st.release)
	bob := ts.MustLogin(t, "bob")

	slow := make(chan *http.Response, 1)
	go func() {
		form := url.Values{"name": {"slow"}}
		resp, err := noRedirect.PostForm(ts.URL+"/login", form)
		if err != nil {
			t.Error(err)
		}
		slow <- resp
	}()
	st.MustEnter(t, "the login of slow")
	// While the write is held: others' pages and sockets work, and the
	// name is claimed.
	ts.mustSession(t, bob, true)
	ts.MustDial(t, bob, "lobby", -1)
	if resp := ts.postLogin(t, "slow", ""); resp.StatusCode != http.StatusConflict {
		t.Errorf("a second login of slow while the first is written: %d, want 409", resp.StatusCode)
	}
	st.release()
	resp := <-slow
	if resp == nil {
		t.FailNow()
	}
	resp.Body.Close()
	ck := sessionCookie(resp)
	if resp.StatusCode != http.StatusSeeOther || ck == nil {
		t.Fatalf("the held login: %d, cookie %v; want 303 with a session", resp.StatusCode, ck)
	}
	ts.mustSession(t, ck, true)

	old := ts.MustLogin(t, "broken")
	if resp := ts.postLogin(t, "broken", ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a takeover whose write failed: %d, want 503", resp.StatusCode)
	}
	ts.mustSession(t, old, true)
	ts.MustLogin(t, "broken") // the store works again: the takeover happens
	ts.mustSession(t, old, false)
}

// Logging in again from a browser that has a session: under the same name
// (in any case) it keeps that session and its sockets; under another name
// the old session ends as a logout would: its sockets close with 4001, its
// user leaves at once, and its cookie and name are free.
func TestLoginAgainWhileLoggedIn(t *testing.T) {
	t.Run("same name", func(t *testing.T) {
		ts := MustStart(t, t.TempDir())
		ck := ts.MustLogin(t, "alice")
		a, _ := ts.MustDial(t, ck, "lobby", -1)
		resp := ts.postLogin(t, "ALICE", "", "Cookie", ck.Name+"="+ck.Value)
		if again := sessionCookie(resp); resp.StatusCode != http.StatusSeeOther || again == nil || again.Value != ck.Value {
			t.Fatalf("logging in again as ALICE: %d, cookie %v; want 303 and the same session", resp.StatusCode, again)
		}
		if m := a.MustSay("still here", "n1"); m.User != "alice" {
			t.Errorf("the open socket says %+v", m)
		}
	})
	t.Run("another name", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) { c.PresenceGrace = time.Minute })
		w, _ := ts.MustDial(t, ts.MustLogin(t, "watcher"), "lobby", -1)
		ck := ts.MustLogin(t, "alice")
		a, _ := ts.MustDial(t, ck, "lobby", -1)
		w.MustNextOf(typeJoin)
		resp := ts.postLogin(t, "bob", "", "Cookie", ck.Name+"="+ck.Value)
		bob := sessionCookie(resp)
		if resp.StatusCode != http.StatusSeeOther || bob == nil || bob.Value == ck.Value {
			t.Fatalf("logging in as bob: %d, cookie %v; want 303 and a new session", resp.StatusCode, bob)
		}
		if code, _ := a.MustCloseCode(); code != closeSessionEnded {
			t.Errorf("alice's socket closed with %d, want 4001", code)
		}
		if l := w.MustNextOf(typeLeave); l.User != "alice" {
			t.Errorf("leave %+v, want alice's at once", l)
		}
		if resp, _ := ts.get(t, "/api/rooms/lobby/messages", ck); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("alice's cookie still works: %d", resp.StatusCode)
		}
		if _, wb := ts.MustDial(t, bob, "lobby", -1); wb.User != "bob" {
			t.Errorf("bob's socket is %q's", wb.User)
		}
		ts.MustLogin(t, "alice") // the name is free
	})
}

// A login whose form is still arriving when the server stops (it outlasted
// the stop's wait for requests) is told the server is restarting, not
// written to a store that is closing.
func TestLoginWhileStopping(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.ShutdownWait = 200 * time.Millisecond })
	conn, err := net.Dial("tcp", ts.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const form = "name=alice"
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		ts.Addr(), ts.URL, len(form))
	// The server says to go on once the handler reads the form: the
	// request is under way, and http.Server's Shutdown waits ShutdownWait
	// for it without cutting it; then the hub stops.
	br := bufio.NewReader(conn)
	if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, " 100 ") {
		t.Fatalf("before the form: %q, %v; want 100 Continue", line, err)
	}
	if line, _ := br.ReadString('\n'); line != "\r\n" {
		t.Fatalf("100 Continue ends with %q", line)
	}
	ts.closed = true
	closed := make(chan error, 1)
	go func() { closed <- ts.Close() }()
	MustEventually(t, "the hub to stop", ts.hub.closing.Load)
	conn.Write([]byte(form))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "The server is restarting") || sessionCookie(resp) != nil {
		t.Errorf("a login during the stop: %d, cookie %v:\n%s", resp.StatusCode, sessionCookie(resp), body)
	}
	if err := <-closed; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the stop: %v, want the wait for the login's request to run out", err)
	}
}
