package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClientAddr(t *testing.T) {
	tests := []struct {
		name, remote, header, value, want string
	}{
		{"peer v4", "203.0.113.7:5555", "", "", "203.0.113.7"},
		{"peer v6 counts by /64", "[2001:db8:1:2:3:4:5:6]:5555", "", "", "2001:db8:1:2::/64"},
		{"header ignored unless configured", "127.0.0.1:5555", "", "198.51.100.1", "127.0.0.1"},
		{"configured header", "127.0.0.1:5555", "Fly-Client-IP", "198.51.100.1", "198.51.100.1"},
		{"list header: the proxy's own entry is last", "127.0.0.1:5555", "X-Forwarded-For", "6.6.6.6, 198.51.100.1", "198.51.100.1"},
		// A client's own header line comes first, the proxy's added one last.
		{"list header on two lines: the last line's last entry", "127.0.0.1:5555", "X-Forwarded-For", "6.6.6.6\n7.7.7.7, 198.51.100.1", "198.51.100.1"},
		{"configured header missing: the peer", "127.0.0.1:5555", "Fly-Client-IP", "", "127.0.0.1"},
		{"v6 in the header", "127.0.0.1:5555", "Fly-Client-IP", "2001:db8::1", "2001:db8::/64"},
		{"v4-mapped v6 is v4", "[::ffff:203.0.113.9]:1", "", "", "203.0.113.9"},
		{"a proxy that writes the port: it does not count", "127.0.0.1:5555", "X-Forwarded-For", "6.6.6.6, 198.51.100.1:51234", "198.51.100.1"},
		{"v6 with a port", "127.0.0.1:5555", "X-Forwarded-For", "[2001:db8::1]:51234", "2001:db8::/64"},
		{"v6 in brackets", "127.0.0.1:5555", "X-Forwarded-For", "[2001:db8::1]", "2001:db8::/64"},
		{"not an address: as written", "127.0.0.1:5555", "X-Forwarded-For", "unknown", "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.value != "" {
				name := tc.header
				if name == "" {
					name = "Fly-Client-IP"
				}
				for _, v := range strings.Split(tc.value, "\n") {
					r.Header.Add(name, v)
				}
			}
			if got := clientAddr(r, tc.header); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
}

// opens reports whether l lets addr open a socket.
func opens(l *addrLimits, addr string) bool {
	ok, _ := l.openSocket(addr)
	return ok
}

// The limiter's arithmetic on an injected clock: bursts, refill, slots
// given back, and idle addresses forgotten.
func TestAddrLimits(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newAddrLimits(Config{LoginRate: 3, SocketsPerAddr: 2}, func() time.Time { return now })
	for i := range 3 {
		if ok, _ := l.login("a"); !ok {
			t.Fatalf("login %d refused within the burst", i+1)
		}
	}
	ok, wait := l.login("a")
	if ok || wait < 19*time.Second || wait > 20*time.Second {
		t.Fatalf("4th login: ok %v, retry after %v; want refused, for 20 s (3 a minute)", ok, wait)
	}
	if ok, _ := l.login("b"); !ok {
		t.Fatal("another address shares a's allowance")
	}
	now = now.Add(wait)
	if ok, _ := l.login("a"); !ok {
		t.Fatalf("login refused after waiting the %v it was told", wait)
	}
	if ok, _ := l.login("a"); ok {
		t.Fatal("a second login after 20 s allowed with 3 a minute")
	}

	for i := range 2 {
		if !opens(l, "a") {
			t.Fatalf("socket %d of 2 refused", i+1)
		}
	}
	if opens(l, "a") {
		t.Fatal("3rd socket allowed with a limit of 2")
	}
	l.closeSocket("a")
	if !opens(l, "a") {
		t.Fatal("a closed socket's slot was not given back")
	}

	// A minute on, b (full bucket, no sockets) is forgotten; a, with
	// sockets open, is kept.
	now = now.Add(2 * time.Minute)
	l.openSocket("c")
	l.mu.Lock()
	_, hasA := l.addrs["a"]
	_, hasB := l.addrs["b"]
	l.mu.Unlock()
	if !hasA || hasB {
		t.Errorf("after pruning: a kept %v (want true), b kept %v (want false)", hasA, hasB)
	}

	// Room loads: a burst, refill, and a check that takes nothing.
	rooms := newAddrLimits(Config{RoomRate: 2}, func() time.Time { return now })
	for i := range 2 {
		if ok, _ := rooms.loadRoom("a", false); !ok {
			t.Fatalf("room load %d refused within the burst", i+1)
		}
	}
	for _, check := range []bool{true, false} {
		if ok, wait := rooms.loadRoom("a", check); ok || wait < 29*time.Second || wait > 30*time.Second {
			t.Fatalf("3rd room load (check %v): ok %v, retry after %v; want refused, for 30 s (2 a minute)", check, ok, wait)
		}
	}
	now = now.Add(30 * time.Second)
	for i, want := range []bool{true, true} {
		if ok, _ := rooms.loadRoom("a", true); ok != want {
			t.Fatalf("check %d after 30 s: %v, want %v (a check takes nothing)", i+1, ok, want)
		}
	}
	if ok, _ := rooms.loadRoom("a", false); !ok {
		t.Fatal("room load refused after 30 s")
	}
	if ok, _ := rooms.loadRoom("a", false); ok {
		t.Fatal("a second room load after 30 s allowed with 2 a minute")
	}

	// Messages: one allowance per address, shared by its sockets and kept
	// while any is open.
	msgs := newAddrLimits(Config{AddrMsgRate: 1}, func() time.Time { return now })
	_, m1 := msgs.openSocket("a")
	_, m2 := msgs.openSocket("a")
	_, mb := msgs.openSocket("b")
	if m1 == nil || m2 != m1 || mb == m1 {
		t.Fatal("the sockets of an address must share one message allowance, and only they")
	}
	msgs.closeSocket("b")
	now = now.Add(2 * time.Minute)
	msgs.openSocket("c") // prunes b, not a
	if _, m3 := msgs.openSocket("a"); m3 != m1 {
		t.Error("an address with sockets open got a new message allowance")
	}
	msgs.mu.Lock()
	_, hasB = msgs.addrs["b"]
	msgs.mu.Unlock()
	if hasB {
		t.Error("an address with no socket and full allowances was kept")
	}

	off := newAddrLimits(Config{}, time.Now)
	for range 1000 {
		if ok, _ := off.login("a"); !ok || !opens(off, "a") {
			t.Fatal("limits of 0 must not limit")
		}
		if ok, _ := off.loadRoom("a", false); !ok {
			t.Fatal("limits of 0 must not limit")
		}
	}
	if len(off.addrs) != 0 {
		t.Error("limits of 0 still keep state per address")
	}
}

// LOGIN_RATE through the real login form: the page says why, in the
// browser's language, with Retry-After; a forged client-address header
// does not help unless the server was told to trust it.
func TestLoginRateLimit(t *testing.T) {
	t.Run("peer address", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) { c.LoginRate = 2 })
		ts.MustLogin(t, "one")
		ts.MustLogin(t, "two")
		resp := ts.postLogin(t, "three", "", "Fly-Client-IP", "198.51.100.1", "Accept-Language", "zh-CN")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("3rd login: status %d, want 429", resp.StatusCode)
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 || s > 30 {
			t.Errorf("Retry-After %q, want 1-30 seconds", resp.Header.Get("Retry-After"))
		}
		if !strings.Contains(string(body), zh["Too many logins from your network; wait a moment and try again."]) || !strings.Contains(string(body), `value="three"`) {
			t.Errorf("page does not explain in Chinese or lost the typed name:\n%s", body)
		}
		if len(resp.Cookies()) != 0 {
			t.Error("a refused login set a cookie")
		}
	})
	t.Run("trusted proxy header", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) { c.LoginRate = 1; c.ClientIPHeader = "Fly-Client-IP" })
		for i, tc := range []struct {
			ip   string
			want int
		}{
			{"198.51.100.1", http.StatusSeeOther},
			{"198.51.100.1", http.StatusTooManyRequests},
			{"198.51.100.2", http.StatusSeeOther},
			{"2001:db8::1", http.StatusSeeOther},
			{"2001:db8::2", http.StatusTooManyRequests}, // the same /64
		} {
			resp := ts.postLogin(t, fmt.Sprintf("user%d", i), "", "Fly-Client-IP", tc.ip)
			if resp.StatusCode != tc.want {
				t.Errorf("login %d from %s: status %d, want %d", i, tc.ip, resp.StatusCode, tc.want)
			}
		}
	})
}

// SOCKETS_PER_IP through real sockets: the one over the limit is refused
// before the upgrade with the usual JSON error, and a closed socket frees
// its slot.
func TestSocketsPerAddr(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.SocketsPerAddr = 2 })
	ck := ts.MustLogin(t, "alice")
	first, _ := ts.MustDial(t, ck, "lobby", -1)
	ts.MustDial(t, ck, "games", -1)

	ts.MustRefuseDial(t, ck, "lobby", http.StatusTooManyRequests, codeRateLimited)

	first.conn.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		conn, _, err := ts.dial(ck, "lobby", -1)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed socket's slot never came back: %v", err)
		}
	}
}

// ROOM_RATE through real sockets: a socket that would load a room into
// memory takes one of its address's room loads; sockets to loaded rooms
// take none, and other addresses have their own.
func TestRoomRate(t *testing.T) {
	var clock testClock
	ts := MustStartClock(t, t.TempDir(), &clock, func(c *Config) { c.RoomRate, c.ClientIPHeader = 2, "Fly-Client-IP" })
	ck := ts.MustLogin(t, "alice")
	from := func(ip string) []string { return []string{"Fly-Client-IP", ip} }
	dial := func(ip, room string, status int) {
		t.Helper()
		if status == http.StatusSwitchingProtocols {
			ts.MustDial(t, ck, room, -1, from(ip)...)
			return
		}
		conn, resp, err := ts.dial(ck, room, -1, from(ip)...)
		if err == nil {
			conn.Close()
			t.Fatalf("%s from %s was let in; want %d", room, ip, status)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		MustErrorJSON(t, room+" from "+ip, resp, string(body), status, codeRateLimited)
		if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 30 {
			t.Errorf("Retry-After %q; want 1-30 s", resp.Header.Get("Retry-After"))
		}
	}
	const a, b = "198.51.100.1", "198.51.100.2"
	dial(a, "one", http.StatusSwitchingProtocols)
	dial(a, "two", http.StatusSwitchingProtocols)
	dial(a, "three", http.StatusTooManyRequests)
	// The probe says the same, and takes nothing.
	resp, body := ts.get(t, "/ws?room=three&origin="+url.QueryEscape(ts.URL), ck, from(a)...)
	MustErrorJSON(t, "probe", resp, body, http.StatusTooManyRequests, codeRateLimited)
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 1 || ra > 30 {
		t.Errorf("the probe's Retry-After %q; want 1-30 s", resp.Header.Get("Retry-After"))
	}
	dial(a, "one", http.StatusSwitchingProtocols) // loaded: free
	// The probe for a loaded room says a socket would go.
	resp, body = ts.get(t, "/ws?room=one&origin="+url.QueryEscape(ts.URL), ck, from(a)...)
	MustErrorJSON(t, "probe of a loaded room", resp, body, http.StatusUpgradeRequired, codeUpgrade)
	dial(b, "three", http.StatusSwitchingProtocols)
	dial(a, "three", http.StatusSwitchingProtocols) // b loaded it
	dial(a, "four", http.StatusTooManyRequests)
	clock.skip(30 * time.Second)
	dial(a, "four", http.StatusSwitchingProtocols)
}

// MSG_RATE_PER_IP paces all the sessions behind one address together,
// after each session's own MSG_RATE; other addresses have their own.
func TestAddrMessageRate(t *testing.T) {
	var clock testClock
	// 2 a second, bursts of 4, for the address, and 1 a second, bursts of
	// 3, for each session; the real time the test takes refills next to
	// nothing.
	ts := MustStartClock(t, t.TempDir(), &clock, func(c *Config) {
		c.AddrMsgRate, c.ClientIPHeader = 2, "Fly-Client-IP"
		c.MsgRate, c.MsgBurst = 1, 3
	})
	socket := func(name, ip string) *wsClient {
		t.Helper()
		c, _ := ts.MustDial(t, ts.MustLogin(t, name), "lobby", -1, "Fly-Client-IP", ip)
		return c
	}
	alice, bob := socket("alice", "198.51.100.1"), socket("bob", "198.51.100.1")
	carol := socket("carol", "198.51.100.2")
	says := func(c *wsClient, who string, n int) (stored int) {
		t.Helper()
		for i := range n {
			nonce := fmt.Sprintf("%s%d", who, i)
			c.say("hello", nonce)
			for {
				e := c.MustNextOf(typeMessage, typeError)
				if e.Nonce != nonce {
					continue // another's message
				}
				if e.Type == typeMessage {
					stored++
				} else if e.Code != string(codeRateLimited) {
					t.Fatalf("%s: error %q, want rate_limited", who, e.Code)
				}
				break
			}
		}
		return stored
	}
	if n := says(alice, "alice", 3); n != 3 {
		t.Errorf("alice: %d of 3 stored within the address's burst of 4", n)
	}
	if n := says(bob, "bob", 3); n != 1 {
		t.Errorf("bob, behind the same address: %d of 3 stored; want 1 (what alice left)", n)
	}
	if n := says(carol, "carol", 3); n != 3 {
		t.Errorf("carol, from another address: %d of 3 stored", n)
	}
	// The address refilled 2 and bob's own allowance is back at 3: the
	// two the address refused did not spend it.
	clock.skip(time.Second)
	if n := says(bob, "bob-later", 2); n != 2 {
		t.Errorf("bob a second later: %d of 2 stored", n)
	}
}

// A plain GET of the socket URL is how the web client learns why a socket
// was refused: it meets the same checks and answers with their status, 426
// when a socket would be let in, and never keeps a socket slot.
func TestSocketProbe(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.SocketsPerAddr = 1 })
	ck := ts.MustLogin(t, "alice")
	probe := func(t *testing.T, path string, ck *http.Cookie, status int, cd code, hdr ...string) {
		t.Helper()
		resp, body := ts.get(t, path, ck, hdr...)
		MustErrorJSON(t, "GET "+path, resp, body, status, cd)
	}
	for _, tc := range []struct {
		name, path string
		ck         *http.Cookie
		status     int
		cd         code
		hdr        []string
	}{
		{"no session", "/ws?room=lobby", nil, http.StatusUnauthorized, codeUnauthorized, nil},
		{"bad room", "/ws?room=no%20spaces", ck, http.StatusBadRequest, codeInvalid, nil},
		{"bad since", "/ws?room=lobby&since=-1", ck, http.StatusBadRequest, codeInvalid, nil},
		{"would be accepted", "/ws?room=lobby&since=0", ck, http.StatusUpgradeRequired, codeUpgrade, nil},
		{"the page's own origin", "/ws?room=lobby&origin=" + url.QueryEscape(ts.URL), ck, http.StatusUpgradeRequired, codeUpgrade, nil},
		{"another origin", "/ws?room=lobby&origin=https%3A%2F%2Fevil.example", ck, http.StatusForbidden, codeForbidden, nil},
		// A request that says where it comes from is answered for that,
		// whatever it names.
		{"another site naming this one", "/ws?room=lobby&origin=" + url.QueryEscape(ts.URL), ck, http.StatusForbidden, codeForbidden, []string{"Origin", "https://evil.example"}},
		{"again: the probe gave its slot back", "/ws?room=lobby", ck, http.StatusUpgradeRequired, codeUpgrade, nil},
	} {
		t.Run(tc.name, func(t *testing.T) { probe(t, tc.path, tc.ck, tc.status, tc.cd, tc.hdr...) })
	}
	// The one slot is free after all those probes: a socket takes it,
	// and then the probe says why a second one would be refused.
	ts.MustDial(t, ck, "lobby", -1)
	probe(t, "/ws?room=lobby", ck, http.StatusTooManyRequests, codeRateLimited)
}

// MustSpendHistoryBurst asks for path until the session's HISTORY_RATE
// says no: 200 until its burst is spent (by now or soon: the tests that
// call it asked already), then 429 with Retry-After. The search and
// unread APIs are paced with the history API's allowance.
func MustSpendHistoryBurst(t *testing.T, ts *testServer, ck *http.Cookie, path string) {
	t.Helper()
	for i := 0; ; i++ {
		resp, body := ts.get(t, path, ck)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") != "" {
			return
		}
		if resp.StatusCode != 200 || i > historyBurst {
			t.Fatalf("%s, request %d: %d %s, want 200 until the burst is spent, then 429 with Retry-After", path, i, resp.StatusCode, body)
		}
	}
}

// HISTORY_RATE paces each session's history API requests: a burst of
// historyBurst, then 429 with Retry-After and the usual JSON error until
// the allowance refills. Other sessions are not affected.
func TestHistoryRateLimit(t *testing.T) {
	var clock testClock
	// One request per 100 s: the real time the test takes refills nothing.
	ts := MustStartClock(t, t.TempDir(), &clock, func(c *Config) { c.HistoryRate = 0.01 })
	alice, bob := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	get := func(ck *http.Cookie) (*http.Response, string) {
		t.Helper()
		return ts.get(t, "/api/rooms/lobby/messages?limit=10", ck)
	}
	for i := range historyBurst {
		if resp, body := get(alice); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d of the burst: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := get(alice)
	MustErrorJSON(t, "over the burst", resp, body, http.StatusTooManyRequests, codeRateLimited)
	if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra < 90 || ra > 100 {
		t.Errorf("Retry-After %q, want about 100 s", resp.Header.Get("Retry-After"))
	}
	if resp, _ := get(bob); resp.StatusCode != http.StatusOK {
		t.Errorf("bob's first request: %d; one session's limit reached another", resp.StatusCode)
	}
	clock.skip(100 * time.Second)
	if resp, _ := get(alice); resp.StatusCode != http.StatusOK {
		t.Errorf("after the refill: %d", resp.StatusCode)
	}
	if resp, _ := get(alice); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second request after a one-request refill: %d, want 429", resp.StatusCode)
	}
}
