package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"
	"golang.org/x/time/rate"
)

const (
	maxFrame    = 64 << 10 // bytes per inbound frame; larger closes with 1009
	maxTextLen  = 2000     // characters per message
	maxNonceLen = 64
	// refusePause is how long a socket's reads wait after one of its
	// frames was answered directly (refused with an error event, or a
	// ping), or was a typing notice. Replies to a burst of such frames
	// then cannot outrun the socket's small queue (which would close it
	// with 1013), and a client sending garbage gets at most 200 replies
	// a second. Messages never wait, and a client that pings or types
	// now and then does not notice.
	refusePause = 5 * time.Millisecond
)

// clientKey carries a socketOf from serveWS to melody's connect handler.
type clientKey struct{}

// socketOf is what serveWS learned of a socket before its upgrade: its
// client, and the rooms it watches for news (see news.go).
type socketOf struct {
	c     *client
	watch []string
}

// client is one WebSocket connection of a user to a room.
type client struct {
	s     *melody.Session
	user  *user
	room  *room
	since int64
	// addrMessages paces what all sockets from the client's address say
	// (MSG_RATE_PER_IP); nil when unlimited.
	addrMessages *rate.Limiter
	// upgraded is closed once melody has the socket or the upgrade
	// failed (see serveWS), then dropped; only runSocket's goroutine
	// touches it after serveWS started it.
	upgraded chan struct{}
	// closing holds the close code once we decided to close the socket.
	// From then on nothing more is written to it, so a client that missed
	// an event is always a client that was closed and must resume.
	closing atomic.Int32
	// gate is closed by whichever comes first: the room queueing the
	// socket's welcome, or the socket closing (see awaitWelcome). One
	// channel for both events instead of one each saves 96 bytes per
	// socket, and with them the struct fits a smaller size class.
	gateOpen atomic.Bool
	gate     chan struct{}
}

// openGate releases the socket's frames (see awaitWelcome).
func (c *client) openGate() {
	if c.gateOpen.CompareAndSwap(false, true) {
		close(c.gate)
	}
}

// awaitWelcome holds a socket's frames until its welcome is queued: welcome
// is then always the socket's first event, even before the error for a
// bad frame, and a message is always taken by a room the socket is in
// (a replay read from the store can take a while). False: the socket is
// closing, or the room stopped before its welcome.
func (c *client) awaitWelcome() bool {
	select {
	case <-c.gate:
		return c.closing.Load() == 0
	default:
	}
	select {
	case <-c.gate:
		return c.closing.Load() == 0
	case <-c.room.done:
		return false
	}
}

// write queues a frame. If melody's buffer for this socket is full, melody
// calls our error handler, which closes the socket with 1013.
func (c *client) write(frame []byte) {
	if c.closing.Load() == 0 {
		c.s.Write(frame)
	}
}

func (c *client) sendError(cd code, text, nonce string) {
	c.write(errorFrame(cd, text, nonce))
}

// close sends a close frame after whatever is already queued.
func (c *client) close(code int, reason string) {
	if c.closing.CompareAndSwap(0, int32(code)) {
		c.openGate()
		c.s.CloseWithMsg(websocket.FormatCloseMessage(code, reason))
	}
}

// closeNow writes the close frame directly on the connection, skipping the
// full queue, and drops the connection. gorilla allows WriteControl and
// Close concurrently with the write pump; they never call back into melody,
// which matters because melody may call us with its hub lock held.
func (c *client) closeNow(code int, reason string) {
	if c.closing.CompareAndSwap(0, int32(code)) {
		c.openGate()
	} else {
		code = int(c.closing.Load())
	}
	conn := c.s.WebsocketConnection()
	go func() {
		// The socket's kernel buffer is likely full too: give the client
		// a few seconds to read what is in flight so the close frame (and
		// its code) reaches it, then cut the connection either way.
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(5*time.Second))
		time.Sleep(100 * time.Millisecond)
		conn.Close()
	}()
}

func (h *Hub) newMelody() *melody.Melody {
	m := melody.New()
	m.Config.MaxMessageSize = maxFrame
	m.Config.PingPeriod = 25 * time.Second // under the usual 30-60 s idle timeouts of proxies
	m.Config.PongWait = 60 * time.Second
	m.Config.MessageBufferSize = h.cfg.SocketBuffer
	m.Upgrader.CheckOrigin = h.originAllowed
	// Buffers per socket (see serveWS for the rest of its memory). Reads
	// go through 128 bytes: inbound frames are small chat messages, and
	// larger ones are read straight into the message. Writes use a 256-byte
	// buffer of the socket's own, gorilla's 14 header bytes included: a
	// typical event fits, and a larger frame is still written whole in one
	// writev. gorilla's WriteBufferPool would save those 256 bytes but
	// allocates on every write (it boxes the buffer to put it back), and
	// at 1000 deliveries per message that garbage made GC cycles, and the
	// latency tail with them, several times more frequent.
	m.Upgrader.ReadBufferSize = 128
	m.Upgrader.WriteBufferSize = 256 - 14

	m.HandleConnect(func(s *melody.Session) {
		// serveWS passed the client in the request's context; melody is
		// done with the request, so don't keep its headers per socket.
		of := s.Request.Context().Value(clientKey{}).(socketOf)
		c := of.c
		s.Request = nil
		c.s = s
		close(c.upgraded)
		c.upgraded = nil
		if !h.attach(c) {
			c.close(closeSessionEnded, "session ended")
			return
		}
		h.watchers.add(c, of.watch)
		if !c.room.send(op{kind: opSubscribe, c: c, since: c.since}) {
			c.close(closeServiceRestart, "server restarting; reconnect shortly")
		}
	})
	m.HandleDisconnect(func(s *melody.Session) {
		c := h.clientOf(s)
		if c == nil {
			return // never attached
		}
		h.detach(c)
		h.watchers.remove(c)
		c.room.send(op{kind: opUnsubscribe, c: c})
	})
	m.HandleMessage(func(s *melody.Session, data []byte) {
		c := h.clientOf(s)
		// Frames that arrive once we decided to close the socket are not
		// taken (awaitWelcome is false): the client has no echo for them
		// and sends them again after reconnecting, so taking them could
		// store a message twice.
		if c == nil || !c.awaitWelcome() {
			return
		}
		// Nor once the server is stopping (see shutdown).
		h.frames.RLock()
		if h.closing.Load() {
			h.frames.RUnlock()
			return
		}
		taken := h.receive(c, data)
		h.frames.RUnlock()
		if !taken {
			time.Sleep(refusePause)
		}
	})
	m.HandleMessageBinary(func(s *melody.Session, _ []byte) {
		if c := h.clientOf(s); c != nil {
			c.close(closeUnsupported, "binary frames are not supported")
		}
	})
	m.HandleError(func(s *melody.Session, err error) {
		if errors.Is(err, websocket.ErrReadLimit) {
			// gorilla has sent close 1009. Closing the socket now, with
			// the rest of the oversized frame unread, makes the kernel
			// send a reset that can destroy that close frame before the
			// client reads it. Swallow the rest first (briefly).
			nc := s.WebsocketConnection().UnderlyingConn()
			nc.SetReadDeadline(time.Now().Add(time.Second))
			io.Copy(io.Discard, io.LimitReader(nc, 4*maxFrame))
			return
		}
		if errors.Is(err, melody.ErrMessageBufferFull) {
			// This may run under melody's hub lock: clientOf's lock is
			// never held around melody calls, so it cannot deadlock.
			c := h.clientOf(s)
			if c == nil {
				s.WebsocketConnection().Close()
				return
			}
			if h.closing.Load() {
				c.closeNow(closeServiceRestart, "server restarting; reconnect shortly")
			} else {
				c.closeNow(closeTryAgainLater, "too slow; reconnect with since")
			}
		}
	})
	return m
}

// serveWS checks everything it can before the upgrade, so that a refused
// socket gets a plain HTTP status instead of an open-then-close.
func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	if h.closing.Load() {
		writeJSONError(w, errorf(codeUnavailable, "The server is restarting."))
		return
	}
	probe := !websocket.IsWebSocketUpgrade(r)
	origin := r.Header.Get("Origin")
	if origin == "" && probe {
		// A probe (see below). A same-origin fetch sends no Origin, so the
		// page names its own, to learn whether its sockets are refused
		// for it. This only answers the question; sockets are checked by
		// their header.
		origin = r.URL.Query().Get("origin")
	}
	if !h.originOK(origin, r.Host) {
		writeJSONError(w, errorf(codeForbidden, "Origin not allowed."))
		return
	}
	u := h.loggedIn(w, r)
	if u == nil {
		return
	}
	q := r.URL.Query()
	name, ok := normalizeRoom(q.Get("room"))
	if !ok {
		writeJSONError(w, errorf(codeInvalid, "Invalid room name."))
		return
	}
	since := int64(-1)
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeJSONError(w, errorf(codeInvalid, "since must be a message id (a whole number >= 0)."))
			return
		}
		since = n
	}
	watch, err := watchRooms(q["watch"], name)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	addr := clientAddr(r, h.cfg.ClientIPHeader)
	ok, addrMessages := h.limits.openSocket(addr)
	if !ok {
		writeJSONError(w, errorf(codeRateLimited, "Too many connections from your network; close some tabs and try again."))
		return
	}
	// The slot is given back on every way out but the socket's own, which
	// runSocket gives back when the socket ends.
	kept := false
	defer func() {
		if !kept {
			h.limits.closeSocket(addr)
		}
	}()
	// A room nobody has been in for minutes is loaded from the store, and
	// then stays in memory for minutes after its last socket closed; one
	// client opening sockets to new rooms in a loop loaded thousands a
	// second. ROOM_RATE bounds the loads an address starts; sockets to a
	// room that is loaded, or being loaded, are free.
	var wait time.Duration
	mayLoad := func() bool {
		ok, d := h.limits.loadRoom(addr, probe)
		wait = d
		return ok
	}
	// Browsers hide a refused handshake's status from the page, so after a
	// refused socket the web client fetches this same URL without the
	// upgrade to learn why. Every check above has answered it by now, and
	// the probe asks whether a load would be allowed without taking one;
	// 426 says a socket would be let in. (A store that cannot load the
	// room still refuses the real socket with 503; the probe skips that
	// read.)
	if probe {
		if !h.loaded(name) && !mayLoad() {
			w.Header().Set("Retry-After", retryAfterSeconds(wait))
			writeJSONError(w, errorf(codeRateLimited, tooManyRooms))
			return
		}
		writeJSONError(w, errorf(codeUpgrade, "This is the WebSocket endpoint; a socket would be accepted now."))
		return
	}
	rm, err := h.room(r.Context(), name, mayLoad)
	if err != nil {
		if wait > 0 {
			w.Header().Set("Retry-After", retryAfterSeconds(wait))
		}
		writeJSONError(w, err)
		return
	}
	up := make(chan struct{})
	c := &client{user: u, room: rm, since: since, addrMessages: addrMessages, upgraded: up, gate: make(chan struct{})}
	// The socket lives on its own goroutine and this handler returns as
	// soon as the upgrade is done. While a handler runs, net/http keeps
	// the connection's 4 KB read and write buffers, the request and the
	// handler's deep stack alive; for a long-lived idle socket that is
	// most of its memory.
	// The 101 carries the renewed cookie too (melody upgrades with
	// w's headers), for a tab that stays open for weeks.
	h.setSessionCookie(w, r, u.sessionID)
	h.sockets.Add(1)
	kept = true
	go h.runSocket(w, r, c, watch, addr)
	<-up
}

// runSocket upgrades and then serves one socket until it closes. w and r
// are arguments, not captured, so nothing holds them once the upgrade is
// done. addr's socket slot is given back when it ends.
func (h *Hub) runSocket(w http.ResponseWriter, r *http.Request, c *client, watch []string, addr string) {
	defer h.sockets.Done()
	defer h.limits.closeSocket(addr)
	defer h.release(c.room) // the socket's last op (unsubscribe) is queued by now
	r = r.WithContext(context.WithValue(r.Context(), clientKey{}, socketOf{c, watch}))
	if err := h.m.HandleRequest(w, r); err != nil {
		h.log.Debug("websocket upgrade failed", "err", err)
	}
	if c.upgraded != nil { // the upgrade failed: release serveWS
		close(c.upgraded)
		c.upgraded = nil
	}
}

// receive handles one text frame. It returns false for a frame that
// stored nothing: one it answered itself, with an error event for bad
// input or a pong for a ping, and a typing notice. The caller then paces
// the socket's reads (see refusePause). Only the frame kinds the
// protocol forbids (binary, oversized) close the socket.
func (h *Hub) receive(c *client, data []byte) bool {
	refuse := func(cd code, text, nonce string) bool {
		c.sendError(cd, text, nonce)
		return false
	}
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		// A field of the wrong type ("id":"3") is said as such; the
		// rest of the frame is decoded, its nonce too.
		var wrong *json.UnmarshalTypeError
		if errors.As(err, &wrong) && wrong.Field != "" {
			return refuse(codeInvalid, fmt.Sprintf("%s has the wrong type.", wrong.Field), in.Nonce)
		}
		return refuse(codeInvalid, "Frames must be JSON objects.", "")
	}
	if utf8.RuneCountInString(in.Nonce) > maxNonceLen {
		return refuse(codeInvalid, "nonce is longer than 64 characters.", "")
	}
	if in.Type == typePing {
		c.write([]byte(pongFrame))
		return false
	}
	if in.Type == typeTyping {
		// Not answered, and not spent from the message allowances: a
		// notice more often than typingGap is dropped instead, and so
		// is a stop with no notice passed on since the last one.
		switch {
		case in.Stopped && typingStopAllowed(c.user):
			c.room.send(op{kind: opTypingStopped, c: c})
		case !in.Stopped && typingAllowed(c.user, h.now()):
			c.room.send(op{kind: opTyping, c: c})
		}
		return false
	}
	// An edit, a delete or a reaction names the message it changes.
	if verb := changeVerb(in.Type); verb != "" && (in.ID == nil || *in.ID <= 0) {
		return refuse(codeInvalid, "id is the id of the message to "+verb+".", in.Nonce)
	}
	var o op
	switch in.Type {
	case typeMessage:
		var img imageInfo
		if in.Image != nil {
			var ok bool
			if img, ok = h.sentImage(c, *in.Image, in.Nonce); !ok {
				return false
			}
		}
		text, cd, why := messageText(in.Text, img.ID != "")
		if cd != "" {
			return refuse(cd, why, in.Nonce)
		}
		after := int64(-1)
		if in.After != nil {
			if *in.After < 0 || in.Nonce == "" {
				return refuse(codeInvalid, "after is the id of an event, and goes with a nonce.", in.Nonce)
			}
			after = *in.After
		}
		var replyTo int64
		if in.ReplyTo != nil {
			if *in.ReplyTo <= 0 {
				return refuse(codeInvalid, "reply_to is the id of the message replied to.", in.Nonce)
			}
			replyTo = *in.ReplyTo
		}
		o = op{kind: opMessage, c: c, text: text, nonce: in.Nonce, after: after, ref: replyTo, image: img}
	case typeDelete:
		o = op{kind: opDelete, c: c, ref: *in.ID, nonce: in.Nonce}
	case typeEdit:
		// Empty is a picture's caption taken away; the room refuses it
		// for a message of text alone, which it knows and this does not.
		if in.Text == nil {
			return refuse(codeInvalid, "An edit needs text.", in.Nonce)
		}
		text, cd, why := messageText(in.Text, true)
		if cd != "" {
			return refuse(cd, why, in.Nonce)
		}
		o = op{kind: opEdit, c: c, ref: *in.ID, text: text, nonce: in.Nonce}
	case typeTopic:
		if in.Text == nil {
			return refuse(codeInvalid, "A topic needs text (empty clears it).", in.Nonce)
		}
		text := strings.TrimSpace(*in.Text)
		if utf8.RuneCountInString(text) > maxTopicLen {
			return refuse(codeTooLong, "A topic has at most 200 characters.", in.Nonce)
		}
		o = op{kind: opTopic, c: c, text: text, nonce: in.Nonce}
	case typeReact, typeUnreact:
		if in.Emoji == nil || reactionOrder(*in.Emoji) < 0 {
			return refuse(codeInvalid, "emoji is one of "+reactionSet+".", in.Nonce)
		}
		o = op{kind: opReact, c: c, ref: *in.ID, text: *in.Emoji, on: in.Type == typeReact, nonce: in.Nonce}
	default:
		return refuse(codeInvalid, "Unknown frame type; send {\"type\":\"message\",\"text\":...}.", in.Nonce)
	}
	// Only a message, edit, delete, reaction or topic that could be stored spends allowance
	// (each is a stored event for everyone in the room): one refused as
	// invalid (it says why at once, and refusePause paces such frames)
	// does not leave its sender's next, good one rate limited. And one
	// refused by either allowance spends neither: a user behind a busy
	// shared address would otherwise lose their own with every message
	// the address refuses.
	now := h.now()
	mine, ok, _ := reserve(c.user.messages, now)
	if !ok {
		return refuse(codeRateLimited, "You are sending too fast; wait a moment.", in.Nonce)
	}
	if _, ok, _ := reserve(c.addrMessages, now); !ok {
		if mine != nil {
			mine.CancelAt(now)
		}
		return refuse(codeRateLimited, "Too many messages from your network right now; wait a moment.", in.Nonce)
	}
	// Last, so that only a frame the room will take reads the store.
	if o.ref > 0 {
		o.old = c.room.readOld(o.ref)
	}
	if !c.room.send(o) {
		return refuse(codeUnavailable, "The server is restarting; that was not saved.", in.Nonce)
	}
	return true
}
