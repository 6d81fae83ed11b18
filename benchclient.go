package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// benchClient is one simulated chat user of `chat bench`: a real login (not
// in raw mode) and a real WebSocket, read by its own goroutine.
type benchClient struct {
	b      *benchRun
	id     int
	idStr  string
	cookie *http.Cookie
	conn   *websocket.Conn
	writeM sync.Mutex

	lastID      int64 // newest event id seen (chat protocol)
	replayUntil int64 // ids up to this came from a resume's replay
	delivered   atomic.Int64
	gaps        atomic.Int64 // ids skipped without a 1013: must stay 0
	resumed     atomic.Int64 // messages that came through a resume
	closes      atomic.Int64 // closed with 1013 and resumed
	abnormal    atomic.Int64 // closed otherwise mid-run and resumed (as the web client does)
	inflight    atomic.Int64 // own messages sent and not yet seen back
	resent      atomic.Int64 // own messages sent again after a resume
	duplicates  atomic.Int64 // of those, the server had stored already
	dropped     atomic.Bool  // ended and could not resume
	hist        histogram
	histMu      sync.Mutex

	// unacked holds the own messages (by seq) not yet seen back. After a
	// resume, those sent on the closed socket that the replay did not
	// bring are sent again, as the web client does: a frame written into a
	// socket the server was closing never reached it, and only its sender
	// can know. Messages sent on the new socket are not: the server takes
	// them after the welcome, so their echo may come after the replay.
	unackedMu        sync.Mutex
	unacked          map[int]unacked
	gen              int  // sockets opened so far; guarded by writeM
	resendAfterFrame bool // reader goroutine only
}

// unacked is an own message not yet seen back, and the socket (by gen) it
// was written to.
type unacked struct {
	frame []byte
	gen   int
}

// histogram is log-linear (HDR-like): 16 sub-buckets per power of two of
// nanoseconds, so percentiles are within about 6%, in constant memory.
type histogram struct {
	counts [64 * 16]uint64
	max    int64
	n      uint64
}

func (h *histogram) add(ns int64) {
	if ns < 1 {
		ns = 1
	}
	e := bits.Len64(uint64(ns)) - 1
	sub := 0
	if e >= 4 {
		sub = int(uint64(ns)>>(e-4)) & 15
	}
	h.counts[e*16+sub]++
	h.n++
	h.max = max(h.max, ns)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	want := uint64(q*float64(h.n) + 0.5)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= want && c > 0 {
			e, sub := i/16, i%16
			if e < 4 {
				return time.Duration(1 << e)
			}
			return time.Duration(min(int64((16+sub+1))<<(e-4), h.max))
		}
	}
	return time.Duration(h.max)
}

// dialer spreads source addresses over 127.0.0.x: one source address has
// about 28k ephemeral ports, fewer than a big idle test needs, and the
// sockets of a previous run linger in TIME_WAIT for a minute. 4000 clients
// per address, and each run (by pid) starts at another address.
func (b *benchRun) dialer(i int) *websocket.Dialer {
	d := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}
	if b.loopback {
		base := 2 + (os.Getpid()%40)*6
		src := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(base+i/4000))}
		nd := &net.Dialer{LocalAddr: src, Timeout: 30 * time.Second}
		d.NetDialContext = nd.DialContext
	}
	return d
}

func (c *benchClient) login(ctx context.Context) error {
	form := url.Values{"name": {fmt.Sprintf("bench%d", c.id)}}
	req, _ := http.NewRequestWithContext(ctx, "POST", c.b.httpBase+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.b.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == cookieName {
			c.cookie = ck
			return nil
		}
	}
	return fmt.Errorf("login: status %d and no session cookie", resp.StatusCode)
}

func (c *benchClient) dial(ctx context.Context) error {
	h := http.Header{}
	u := c.b.wsURL
	if !c.b.raw {
		h.Set("Cookie", c.cookie.String())
		room := c.b.room
		if c.b.mode == "idle" {
			room = fmt.Sprintf("%s-%d", room, c.id/max(c.b.roomSize, 1))
		}
		u += "?room=" + url.QueryEscape(room)
		if c.lastID > 0 {
			u += "&since=" + strconv.FormatInt(c.lastID, 10)
		}
	}
	conn, _, err := c.b.dialer(c.id).DialContext(ctx, u, h)
	if err != nil {
		return err
	}
	c.writeM.Lock()
	c.conn = conn
	c.gen++
	c.writeM.Unlock()
	return nil
}

// send writes one message carrying the send time in nanoseconds.
func (c *benchClient) send(seq int) error {
	text := "b " + c.idStr + " " + strconv.Itoa(seq) + " " + strconv.FormatInt(time.Now().UnixNano(), 10)
	var frame []byte
	if c.b.raw {
		frame = []byte(text)
	} else {
		// A nonce, as the web client sends: the server stores each once.
		frame = []byte(`{"type":"message","text":"` + text + `","nonce":"` + strconv.Itoa(seq) + `"}`)
	}
	c.writeM.Lock()
	defer c.writeM.Unlock()
	if !c.b.raw {
		c.unackedMu.Lock()
		if c.unacked == nil {
			c.unacked = map[int]unacked{}
		}
		c.unacked[seq] = unacked{frame, c.gen}
		c.unackedMu.Unlock()
	}
	return c.conn.WriteMessage(websocket.TextMessage, frame)
}

// resend writes again the own messages written to an earlier socket and
// still unacknowledged after a resume's replay.
func (c *benchClient) resend() {
	c.writeM.Lock()
	defer c.writeM.Unlock()
	c.unackedMu.Lock()
	frames := make([][]byte, 0, len(c.unacked))
	for seq, u := range c.unacked {
		if u.gen < c.gen {
			frames = append(frames, u.frame)
			c.unacked[seq] = unacked{u.frame, c.gen}
		}
	}
	c.unackedMu.Unlock()
	for _, f := range frames {
		if c.conn.WriteMessage(websocket.TextMessage, f) != nil {
			return // closed again: the next resume sends them
		}
		c.resent.Add(1)
	}
}

// read counts deliveries until the socket ends or ctx is done. On 1013 it
// resumes with since, as the protocol asks, and counts what comes back.
func (c *benchClient) read(ctx context.Context) {
	// One buffer per client, reused for every frame: the load generator
	// shares the CPUs with the server, and its garbage collections would
	// show up as latency of whichever server is measured.
	var buf bytes.Buffer
	for {
		if buf.Cap() > 64<<10 {
			buf = bytes.Buffer{} // a big replay frame: don't keep its buffer
		}
		buf.Reset()
		_, r, err := c.conn.NextReader()
		if err == nil {
			_, err = buf.ReadFrom(r)
		}
		data := buf.Bytes()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code == closeTryAgainLater {
				c.closes.Add(1)
			} else {
				c.abnormal.Add(1)
			}
			// In fanout mode a chat client resumes after any close, as
			// the web client does; idle mode counts every close as a drop.
			if !c.b.raw && c.b.mode == "fanout" {
				if c.dial(ctx) == nil {
					continue
				}
			}
			c.dropped.Store(true)
			return
		}
		now := time.Now().UnixNano()
		if c.b.raw {
			c.count(data, now, false)
			continue
		}
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			c.event(ctx, line, now)
		}
		if c.resendAfterFrame {
			c.resendAfterFrame = false
			c.resend()
		}
	}
}

// event handles one line of the chat protocol without a full JSON decode:
// the load generator shares the machine with the server, so it must be
// cheap. Ids tell replayed events (after a 1013) from live ones and reveal
// any gap, which the protocol promises never happens.
func (c *benchClient) event(ctx context.Context, line []byte, now int64) {
	switch {
	case bytes.HasPrefix(line, []byte(`{"type":"welcome"`)):
		if c.lastID == 0 {
			return // first connection: the history is from before the run
		}
		var w welcomeEvent
		json.Unmarshal(line, &w)
		c.replayUntil = w.LastID
		if w.Truncated {
			c.backfill(ctx, w.LastID)
		}
		// The replay comes in the welcome's frame; resend once it is read.
		c.resendAfterFrame = true
	case bytes.HasPrefix(line, []byte(`{"type":"duplicate"`)):
		// A message sent again that the server had already stored: its
		// outcome is known, as with an echo, so its slot is free. The
		// bench sends again only what no replay or backfill brought back,
		// so this should not happen; the report counts it to show that.
		c.duplicates.Add(1)
		c.inflight.Add(-1)
		if seq, w := leadingDigits(jsonNonce(line)); w > 0 {
			c.unackedMu.Lock()
			delete(c.unacked, int(seq))
			c.unackedMu.Unlock()
		}
	case bytes.HasPrefix(line, []byte(`{"type":"message"`)), bytes.HasPrefix(line, []byte(`{"type":"join"`)), bytes.HasPrefix(line, []byte(`{"type":"leave"`)):
		id := jsonInt(line, `"id":`)
		if id <= c.lastID {
			return
		}
		if c.lastID != 0 && id != c.lastID+1 {
			c.gaps.Add(id - c.lastID - 1)
		}
		c.lastID = id
		if line[9] == 'm' {
			c.count(jsonText(line), now, id <= c.replayUntil)
		}
	}
}

func (c *benchClient) count(text []byte, now int64, resumed bool) {
	if !bytes.HasPrefix(text, []byte("b ")) {
		return
	}
	c.delivered.Add(1)
	if c.b.recordFrom.Load() <= now && now <= c.b.recordTo.Load() {
		c.b.inWindow.Add(1)
	}
	// "b <sender> <seq> <ns>": our own message back frees a send slot.
	if rest := text[2:]; len(rest) > 0 {
		if j := bytes.IndexByte(rest, ' '); j > 0 && string(rest[:j]) == c.idStr {
			if !resumed {
				c.inflight.Add(-1)
			}
			rest = rest[j+1:]
			if seq, w := leadingDigits(rest); w > 0 && w < len(rest) && rest[w] == ' ' {
				c.unackedMu.Lock()
				delete(c.unacked, int(seq))
				c.unackedMu.Unlock()
			}
		}
	}
	if resumed {
		c.resumed.Add(1)
		return
	}
	if i := bytes.LastIndexByte(text, ' '); i > 0 {
		if sent, w := leadingDigits(text[i+1:]); w > 0 && w == len(text)-i-1 {
			c.histMu.Lock()
			c.hist.add(now - sent)
			c.histMu.Unlock()
		}
	}
}

// backfill fetches through the history API what a truncated replay left
// out, as the web client does.
func (c *benchClient) backfill(ctx context.Context, lastID int64) {
	before := lastID - maxReplay + 1
	for before > c.lastID+1 && ctx.Err() == nil {
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/rooms/%s/messages?before=%d&limit=200", c.b.httpBase, url.PathEscape(c.b.room), before), nil)
		req.AddCookie(c.cookie)
		resp, err := c.b.http.Do(req)
		if err != nil {
			return
		}
		var page struct{ Events []json.RawMessage }
		json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if len(page.Events) == 0 {
			return
		}
		for _, raw := range page.Events {
			if id := jsonInt(raw, `"id":`); id > c.lastID && raw[9] == 'm' {
				c.count(jsonText(raw), 0, true)
			}
		}
		before = jsonInt(page.Events[0], `"id":`)
	}
	c.lastID = lastID - maxReplay
}

// leadingDigits parses the decimal number b starts with, without
// allocating; width is how many bytes it took (0: b starts otherwise).
func leadingDigits(b []byte) (n int64, width int) {
	for width < len(b) && '0' <= b[width] && b[width] <= '9' {
		n = n*10 + int64(b[width]-'0')
		width++
	}
	return n, width
}

func jsonInt(line []byte, key string) int64 {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return 0
	}
	n, _ := leadingDigits(line[i+len(key):])
	return n
}

// jsonText returns the raw "text" value; bench texts need no unescaping.
func jsonText(line []byte) []byte { return jsonString(line, `"text":"`) }

func jsonNonce(line []byte) []byte { return jsonString(line, `"nonce":"`) }

func jsonString(line []byte, key string) []byte {
	i := bytes.Index(line, []byte(key))
	if i < 0 {
		return nil
	}
	rest := line[i+len(key):]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		return rest[:j]
	}
	return nil
}
