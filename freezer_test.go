package main

// The freezer: a TCP proxy that plays a bad network for the browser tests
// in browser_network_test.go.

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// freezer is a TCP proxy in front of a test server whose connections can
// be frozen: from then on no byte gets through either way and neither end
// is told, as when a phone's network goes away under an open socket. It
// can also hold new connections (accepted, but nothing passes until
// release), as a network that is not there yet. States a test waits for
// then last until it lets them end.
type freezer struct {
	URL    string
	mu     sync.Mutex
	conns  []net.Conn
	ups    []chan struct{} // per connection, closed to freeze browser → server
	downs  []chan struct{} // per connection, closed to freeze server → browser
	pass   chan struct{}   // closed while new connections pass
	done   chan struct{}   // closed by the cleanup
	firsts []string        // each connection's first line, held or not
	refuse bool            // close new WebSocket connections at once (see refuseSockets)
}

// MustAliceBehindFreezer starts a server and has alice's page in its
// lobby, connected through a freezer.
func MustAliceBehindFreezer(t *testing.T) (*testServer, *freezer, context.Context) {
	t.Helper()
	ts := MustStart(t, t.TempDir())
	fz := MustFreezer(t, ts)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, setCookie(ts, ts.MustLogin(t, "alice")), chromedp.Navigate(fz.URL+"/r/lobby"))
	MustWait(t, p, connected)
	return ts, fz, p
}

func MustFreezer(t *testing.T, ts *testServer) *freezer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(ts.URL, "http://")
	f := &freezer{URL: "http://" + ln.Addr().String(), pass: make(chan struct{}), done: make(chan struct{})}
	close(f.pass)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by the cleanup
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			pass := f.pass
			f.mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A browser writes its request at once, so even a held
				// connection tells which request it carries.
				br := bufio.NewReader(c)
				first, err := br.ReadString('\n')
				if err != nil {
					c.Close()
					return
				}
				f.mu.Lock()
				f.firsts = append(f.firsts, first)
				refuse := f.refuse && isSocket(first)
				f.mu.Unlock()
				if refuse {
					c.Close()
					return
				}
				select {
				case <-pass:
				case <-f.done:
					return
				}
				s, err := net.Dial("tcp", target)
				if err != nil {
					c.Close()
					return
				}
				read, _ := br.Peek(br.Buffered())
				if _, err := s.Write(append([]byte(first), read...)); err != nil {
					c.Close()
					s.Close()
					return
				}
				up, down := make(chan struct{}), make(chan struct{})
				f.mu.Lock()
				f.conns, f.ups, f.downs = append(f.conns, s), append(f.ups, up), append(f.downs, down)
				f.mu.Unlock()
				wg.Add(1)
				go func() { defer wg.Done(); pipe(s, c, up) }()
				pipe(c, s, down)
			}()
		}
	}()
	t.Cleanup(func() {
		close(f.done)
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		wg.Wait()
	})
	return f
}

// freeze stops every connection passing now, both ways.
func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	closeGates(f.ups)
	closeGates(f.downs)
}

// freezeUp stops what the browser sends on every connection now; what
// the server sends still gets through.
func (f *freezer) freezeUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	closeGates(f.ups)
}

func closeGates(gates []chan struct{}) {
	for _, g := range gates {
		select {
		case <-g:
		default:
			close(g)
		}
	}
}

// cut closes every connection open now, as a network that resets them.
func (f *freezer) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

// sockets counts the WebSocket handshakes that have reached the proxy.
func (f *freezer) sockets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.firsts {
		if isSocket(l) {
			n++
		}
	}
	return n
}

// isSocket tells a WebSocket handshake by its request line: the page's
// probes name their origin, its sockets do not.
func isSocket(first string) bool {
	return strings.HasPrefix(first, "GET /ws?") && !strings.Contains(first, "origin=")
}

// refuseSockets makes the network drop new WebSocket connections at once
// (or stop doing so), while pages and the history API still load.
func (f *freezer) refuseSockets(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuse = on
}

// freezeDown stops what the server sends on every connection now; what
// the browser sends still gets through.
func (f *freezer) freezeDown() {
	f.mu.Lock()
	defer f.mu.Unlock()
	closeGates(f.downs)
}

// hold makes new connections wait, with what they send, until release.
func (f *freezer) hold() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pass = make(chan struct{})
}

func (f *freezer) release() {
	f.mu.Lock()
	defer f.mu.Unlock()
	close(f.pass)
}

// pipe copies src to dst until src ends, and then ends dst too, unless
// the gate is closed: then what it reads is dropped and an end is not
// passed on.
func pipe(dst, src net.Conn, gate chan struct{}) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-gate:
			if err != nil {
				return
			}
			continue
		default:
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}
