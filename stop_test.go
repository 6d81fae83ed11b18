package main

// The server stopped in the middle of a busy room, the real binary, by a
// crash (SIGKILL: no shutdown at all) or a deploy (SIGTERM): every
// message anyone was shown is in the store afterwards with the id it was
// shown with, because the room commits before it fans out; and senders
// that send again whatever they never saw echoed, as the web client
// does, store nothing twice and lose nothing.

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gorilla/websocket"
)

// crashSender streams messages with nonces, 16 in flight, until its
// socket ends, and keeps what it was shown.
type crashSender struct {
	name   string
	ck     *http.Cookie
	c      *wsClient
	sent   []string         // nonces written to the socket, in order
	after  map[string]int64 // each nonce's after: the newest id seen when it was sent
	echoed map[string]bool  // nonces whose message came back
	shown  map[int64]string // every message the socket was shown, by id
	lastID int64
	// closedWith is the close code that ended the socket, 0 for none
	// (a crash).
	closedWith int
	count      *atomic.Int64 // messages shown to all the sockets
}

func (s *crashSender) stream() {
	inflight, failed := 0, false
	for i := 0; ; {
		for ; inflight < 16 && !failed; i++ {
			nonce := fmt.Sprintf("%s-%d", s.name, i)
			if err := s.c.conn.WriteJSON(crashFrame(nonce, s.lastID)); err != nil {
				failed = true
				break
			}
			s.sent = append(s.sent, nonce)
			s.after[nonce] = s.lastID
			inflight++
		}
		e, ok := <-s.c.events
		if !ok {
			var ce *websocket.CloseError
			if errors.As(s.c.err, &ce) {
				s.closedWith = ce.Code
			}
			return
		}
		if e.Type != typeMessage {
			continue
		}
		s.shown[e.ID] = e.Text
		s.count.Add(1)
		s.lastID = max(s.lastID, e.ID)
		if e.User == s.name {
			s.echoed[e.Nonce] = true
			inflight--
		}
	}
}

func crashFrame(nonce string, after int64) map[string]any {
	return map[string]any{"type": "message", "text": "crash " + nonce, "nonce": nonce, "after": after}
}

func testStopUnderLoad(t *testing.T, bin string, sig syscall.Signal) {
	env := []string{"MSG_RATE=0", "MSG_RATE_PER_IP=0", "LOGIN_RATE=0"}
	dir := t.TempDir()
	srv := MustStartBinary(t, bin, freePort(t), dir, env...)
	watchCk := srv.MustLogin(t, "watcher")
	watcher, _ := srv.MustDial(t, watchCk, "lobby", -1)
	var shownN atomic.Int64
	senders := make([]*crashSender, 3)
	for k := range senders {
		s := &crashSender{name: fmt.Sprintf("s%d", k), after: map[string]int64{}, echoed: map[string]bool{}, shown: map[int64]string{}, count: &shownN}
		s.ck = srv.MustLogin(t, s.name)
		s.c, _ = srv.MustDial(t, s.ck, "lobby", -1)
		senders[k] = s
	}

	var wg sync.WaitGroup
	watcherShown := map[int64]string{}
	wg.Go(func() {
		for e := range watcher.events {
			if e.Type == typeMessage {
				watcherShown[e.ID] = e.Text
				shownN.Add(1)
			}
		}
	})
	for _, s := range senders {
		wg.Go(s.stream)
	}
	ended := make(chan struct{})
	go func() { wg.Wait(); close(ended) }()
	// Mid-stream; or, should every socket have been closed as too slow
	// first (a loaded machine), once they are.
	MustEventually(t, "1000 messages to be shown", func() bool {
		select {
		case <-ended:
			return true
		default:
			return shownN.Load() >= 1000
		}
	})
	srv.cmd.Process.Signal(sig)
	if err := srv.MustExit(t); (err == nil) != (sig == syscall.SIGTERM) {
		t.Errorf("the server stopped by %v exited with %v", sig, err)
	}
	<-ended

	shown := map[int64]string{}
	for _, m := range []map[int64]string{watcherShown, senders[0].shown, senders[1].shown, senders[2].shown} {
		for id, text := range m {
			if was, ok := shown[id]; ok && was != text {
				t.Errorf("id %d was shown as %q and as %q", id, was, text)
			}
			shown[id] = text
		}
	}

	srv = MustStartBinary(t, bin, freePort(t), dir, env...)
	stored := func() []ev {
		return MustHistory(t, srv.testServer, watchCk, "lobby", 0, srv.MustRoomLastID(t, watchCk, "lobby")+1)
	}
	kept := map[int64]string{}
	for _, e := range stored() {
		if e.Type == typeMessage {
			kept[e.ID] = e.Text
		}
	}
	for id, text := range shown {
		if kept[id] != text {
			t.Errorf("message %d (%q) was shown before the stop; after it the store has %q", id, text, kept[id])
		}
	}

	// s0's network lost its last 20 echoes before the stop: those
	// messages are stored, and s0 does not know it.
	lost := 0
	for i := len(senders[0].sent) - 1; i >= 0 && lost < 20; i-- {
		if nonce := senders[0].sent[i]; senders[0].echoed[nonce] {
			delete(senders[0].echoed, nonce)
			lost++
		}
	}
	// Each sender comes back and sends again, all at once, every message
	// it did not see echoed: those stored before the stop are answered
	// with duplicate, the rest are stored now.
	var resent, dups int
	for _, s := range senders {
		c, w := srv.MustDial(t, s.ck, "lobby", -1)
		pending := map[string]bool{}
		for _, nonce := range s.sent {
			if !s.echoed[nonce] {
				pending[nonce] = true
				c.send(crashFrame(nonce, s.after[nonce]))
			}
		}
		resent += len(pending)
		for len(pending) > 0 {
			e := c.MustNextOf(typeMessage, typeDuplicate, typeError)
			switch {
			case e.Type == typeError:
				t.Fatalf("%s's resend: %+v", s.name, e)
			case e.Type == typeDuplicate && pending[e.Nonce]:
				dups++
			case e.Type == typeMessage && (e.User != s.name || e.ID <= w.LastID):
				continue // someone else's, or the fresh socket's history
			}
			delete(pending, e.Nonce)
		}
		c.conn.Close()
	}

	times := map[string]int{}
	var prev int64
	for _, e := range stored() {
		if e.ID != prev+1 {
			t.Errorf("ids go from %d to %d", prev, e.ID)
		}
		prev = e.ID
		if e.Type == typeMessage {
			times[e.Text]++
		}
	}
	var sent int
	for _, s := range senders {
		sent += len(s.sent)
		for _, nonce := range s.sent {
			if n := times["crash "+nonce]; n != 1 {
				t.Errorf("%s's message %s is stored %d times, want once", s.name, nonce, n)
			}
		}
	}
	if dups < lost {
		t.Errorf("%d resent messages were answered with duplicate; at least the %d whose echo was lost should be", dups, lost)
	}
	// A server that stops (rather than crashes) sends the echo of every
	// message it took before it closes the socket, so only those whose
	// echo the network lost are stored already. Unless a socket was too
	// slow before the stop: then the server closed it with 1013, skipping
	// what it had queued.
	if sig == syscall.SIGTERM && !slices.ContainsFunc(senders, func(s *crashSender) bool { return s.closedWith != closeServiceRestart }) && dups != lost {
		t.Errorf("%d resent messages were answered with duplicate after a stop; only the %d whose echo was lost should be", dups, lost)
	}
	t.Logf("%d sent before the stop, %d shown, %d sent again after it, %d of them stored already", sent, len(shown), resent, dups)
}
