package main

// Four people at once, as fast as they can, in a room whose sockets have
// the smallest queue (SOCKET_QUEUE=4): messages, edits, deletes and
// reactions of each other's messages, most of the edits and deletes
// refused. One of them reads slowly, and one loses its socket every
// 50-150 ms. Sockets that fall behind are closed with 1013; they and the
// lost ones resume from the last id they were shown, backfilling
// through the history API when the replay says it was truncated, as the
// web client does. Each applies
// what it is shown to its own copy of the room; in the end every copy
// must be the history API's, with no id skipped or shown twice, and the
// stored events must agree with each other (MustAgreeWithTheirEvents).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chaosFrames bounds what each of the four sends, so the run's length
// does not grow with the machine's speed.
const chaosFrames = 1500

// chaosPerson is one of the four: their copy of the room's messages, and
// the newest id they were shown.
type chaosPerson struct {
	name   string
	ck     *http.Cookie
	ts     *testServer
	rng    *rand.Rand
	msgs   map[int64]*modelMessage
	mu     sync.Mutex
	ids    []int64 // the messages they were shown, to pick from; guarded by mu
	last   int64   // -1 before the first socket
	closes int     // sockets the server closed with 1013
	cut    int     // sockets that ended without a close frame
	sent   int     // frames sent, at most chaosFrames
	upTo   int64   // catching up: the last id there is
	slow   bool    // sleeps 10 ms after each frame it reads, so its queue fills
	flaky  bool    // drops its socket after 50-150 ms, and resumes
	err    error
}

// show applies one stored event to p's copy, as the web client does: a
// message line is the message as it is now, and a change is applied on
// top of it. A replay brings a message and then the changes that made it
// so, applied again: an edit or a delete again changes nothing, and a
// react puts its name last, wherever it was, so that each name ends
// where its newest react put it (withReaction in reactions.js).
func (p *chaosPerson) show(e ev) {
	if e.ID != p.last+1 && p.err == nil {
		p.err = fmt.Errorf("%s was shown id %d after %d", p.name, e.ID, p.last)
	}
	p.last = e.ID
	m := p.msgs[e.Ref]
	switch {
	case e.Type == typeMessage:
		m = &modelMessage{user: e.User, text: e.Text, edited: e.Edited != "", deleted: e.Deleted, reactions: map[string][]string{}}
		for _, r := range e.Reactions {
			m.reactions[r.Emoji] = slices.Clone(r.Users)
		}
		p.msgs[e.ID] = m
		p.mu.Lock()
		p.ids = append(p.ids, e.ID)
		p.mu.Unlock()
	case m == nil:
	case e.Type == typeEdit || e.Type == typeDelete:
		m.change(e.Type, e.Text, e.User)
	case e.Type == typeReact || e.Type == typeUnreact:
		m.change(e.Type, e.Emoji, e.User)
	}
}

// frame handles one frame from the server; false ends the socket.
func (p *chaosPerson) frame(data []byte) bool {
	for line := range bytes.SplitSeq(data, []byte{'\n'}) {
		var e ev
		if err := json.Unmarshal(line, &e); err != nil {
			p.err = err
			return false
		}
		switch {
		case e.Type == typeWelcome && p.last < 0:
			p.last = max(0, e.LastID-historyOnJoin)
		case e.Type == typeWelcome && e.Truncated:
			if !p.backfill(e.LastID - maxReplay) {
				return false
			}
		case e.ID > 0:
			p.show(e)
		}
	}
	// Catching up, it is done once it has been shown the end.
	return p.err == nil && (p.upTo == 0 || p.last < p.upTo)
}

// backfill reads what a truncated replay left out, up to id.
func (p *chaosPerson) backfill(id int64) bool {
	for p.last < id {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/rooms/lobby/messages?after=%d&limit=200", p.ts.URL, p.last), nil)
		req.AddCookie(p.ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			p.err = err
			return false
		}
		var page struct{ Events []ev }
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || len(page.Events) == 0 {
			p.err = fmt.Errorf("%s's backfill after %d: %v, %d events", p.name, p.last, err, len(page.Events))
			return false
		}
		for _, e := range page.Events {
			if e.ID <= id {
				p.show(e)
			}
		}
	}
	return true
}

// socket connects (resuming from p.last), sends random frames until the
// socket ends or until is past, and reads everything the server sends.
// With a zero until it only catches up, until nothing comes for a second.
func (p *chaosPerson) socket(until time.Time) {
	conn, _, err := p.ts.dial(p.ck, "lobby", p.last)
	if err != nil {
		p.err = err
		return
	}
	defer conn.Close()
	read := make(chan error, 1)
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				read <- err
				return
			}
			if !p.frame(data) {
				read <- nil
				return
			}
			if p.slow {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}()
	emoji := []string{"👍", "🎉"}
	pick := func() int64 {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.ids) == 0 {
			return 1
		}
		return p.ids[p.rng.IntN(len(p.ids))]
	}
	if p.flaky && !until.IsZero() {
		if drop := time.Now().Add(time.Duration(50+p.rng.IntN(100)) * time.Millisecond); drop.Before(until) {
			until = drop
		}
	}
	for ; p.sent < chaosFrames && time.Now().Before(until); p.sent++ {
		step := p.sent
		var f map[string]any
		switch k := p.rng.IntN(10); {
		case k < 4:
			f = map[string]any{"type": "message", "text": fmt.Sprint(p.name, " ", step)}
		case k < 5:
			f = map[string]any{"type": "edit", "id": pick(), "text": fmt.Sprint(p.name, " edited ", step)}
		case k < 6:
			f = map[string]any{"type": "delete", "id": pick()}
		default:
			f = map[string]any{"type": []string{"react", "unreact"}[p.rng.IntN(2)], "id": pick(), "emoji": emoji[p.rng.IntN(2)]}
		}
		if conn.WriteJSON(f) != nil {
			break
		}
		// About a thousand frames a second each: fast enough to fill
		// queues, not so fast that the kernel's buffers hold seconds of
		// them when a socket is closed.
		time.Sleep(time.Millisecond)
		select {
		case err := <-read:
			p.ended(err)
			return
		default:
		}
	}
	if p.flaky && !until.IsZero() {
		conn.Close() // the network went away: whatever was in flight is lost
		<-read
		return
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if err := <-read; !isTimeout(err) {
		p.ended(err)
	}
}

// ended counts a socket the server closed. With 1013 it was too slow; a
// socket too slow to take even the close frame is cut without one
// (1006), and resumes all the same.
func (p *chaosPerson) ended(err error) {
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code == closeTryAgainLater:
		p.closes++
	case err != nil:
		p.cut++
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

func TestConcurrentChangesAgreeAfterResumes(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir, func(c *Config) { c.SocketBuffer, c.PresenceGrace, c.HistoryRate = 4, time.Minute, 0 })
	people := make([]*chaosPerson, 4)
	for i := range people {
		name := []string{"ann", "ben", "cat", "dan"}[i]
		people[i] = &chaosPerson{name: name, ck: ts.MustLogin(t, name), ts: ts, rng: rand.New(rand.NewPCG(uint64(i), 1)), msgs: map[int64]*modelMessage{}, last: -1, slow: i == 3, flaky: i == 2}
	}
	until := time.Now().Add(1500 * time.Millisecond)
	var wg sync.WaitGroup
	for _, p := range people {
		wg.Go(func() {
			for p.err == nil && p.sent < chaosFrames && time.Now().Before(until) {
				p.socket(until)
			}
		})
	}
	wg.Wait()

	// Every frame the four sent has been handed to the room once their
	// sockets are gone on the server's side too (a socket's reader hands
	// each frame on before it reads the next), so a message sent after
	// that is handled after all of them: its echo marks the end.
	MustEventually(t, "the server to close every socket", func() bool { return ts.hub.m.Len() == 0 })
	zed := ts.MustLogin(t, "zed")
	end, _ := ts.MustDial(t, zed, "lobby", -1)
	end.say("the end", "end")
	var last int64
	for last == 0 {
		if e := end.MustNextOf(typeMessage); e.Nonce == "end" {
			last = e.ID
		}
	}
	end.conn.Close()
	// Nobody sends now: each catches up with what the others sent last.
	for _, p := range people {
		p.upTo = last
		for try := 0; p.err == nil && p.last < last && try < 10; try++ {
			p.socket(time.Time{})
		}
	}
	history := map[int64]ev{}
	for _, e := range MustHistory(t, ts, zed, "lobby", 0, last+1) {
		history[e.ID] = e
	}
	for _, p := range people {
		t.Logf("%s: sent %d frames, shown up to %d of %d, %d messages, %d sockets closed with 1013, %d cut", p.name, p.sent, p.last, last, len(p.msgs), p.closes, p.cut)
		if p.err != nil {
			t.Fatal(p.err)
		}
		if p.last != last {
			t.Errorf("%s was shown up to id %d of %d", p.name, p.last, last)
		}
		for id, m := range p.msgs {
			e := history[id]
			got, want := reactionList(e.Reactions), m.reactionList()
			if e.Text != m.text || e.Deleted != m.deleted || (e.Edited != "") != m.edited || !slices.Equal(got, want) {
				t.Errorf("%s's copy of message %d: %q, deleted %v, edited %v, %v; the history API: %q, deleted %v, edited %q, %v",
					p.name, id, m.text, m.deleted, m.edited, want, e.Text, e.Deleted, e.Edited, got)
			}
		}
	}
	ts.MustClose(t)
	MustAgreeWithTheirEvents(t, dir, "lobby")
}
