package main

import (
	"encoding/json"
	"errors"
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
)

// client is one WebSocket connection of a user to a room.
type client struct {
	s       *melody.Session
	user    *user
	room    *room
	since   int64
	limiter *rate.Limiter // nil when MSG_RATE=0
	// closing holds the close code once we decided to close the socket.
	// From then on nothing more is written to it, so a client that missed
	// an event is always a client that was closed and must resume.
	closing atomic.Int32
}

// write queues a frame. If melody's buffer for this socket is full, melody
// calls our error handler, which closes the socket with 1013.
func (c *client) write(frame []byte) {
	if c.closing.Load() == 0 {
		c.s.Write(frame)
	}
}

func (c *client) sendError(cd code, text, nonce string) {
	c.write(encode(errorEvent{Type: typeError, Code: cd, Text: text, Nonce: nonce}))
}

// close sends a close frame after whatever is already queued.
func (c *client) close(code int, reason string) {
	if c.closing.CompareAndSwap(0, int32(code)) {
		c.s.CloseWithMsg(websocket.FormatCloseMessage(code, reason))
	}
}

// closeNow writes the close frame directly on the connection, skipping the
// full queue, and drops the connection. gorilla allows WriteControl and
// Close concurrently with the write pump; they never call back into melody,
// which matters because melody may call us with its hub lock held.
func (c *client) closeNow(code int, reason string) {
	if !c.closing.CompareAndSwap(0, int32(code)) {
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
	// Zero sizes make gorilla reuse the buffers net/http already has
	// for the hijacked connection instead of allocating new ones.
	m.Upgrader.ReadBufferSize = 0
	m.Upgrader.WriteBufferSize = 0

	m.HandleConnect(func(s *melody.Session) {
		c := s.MustGet("client").(*client)
		c.s = s
		if !h.attach(c) {
			c.close(closeSessionEnded, "session ended")
			return
		}
		if !c.room.send(op{kind: opSubscribe, c: c, since: c.since}) {
			c.close(closeServiceRestart, "server restarting; reconnect shortly")
		}
	})
	m.HandleDisconnect(func(s *melody.Session) {
		c := s.MustGet("client").(*client)
		h.detach(c)
		c.room.send(op{kind: opUnsubscribe, c: c})
	})
	m.HandleMessage(func(s *melody.Session, data []byte) {
		c := s.MustGet("client").(*client)
		h.receive(c, data)
	})
	m.HandleMessageBinary(func(s *melody.Session, _ []byte) {
		s.MustGet("client").(*client).close(closeUnsupported, "binary frames are not supported")
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
			c := s.MustGet("client").(*client)
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
	if !h.originAllowed(r) {
		writeJSONError(w, errorf(codeForbidden, "Origin not allowed."))
		return
	}
	u := h.sessionUser(r)
	if u == nil {
		writeJSONError(w, errorf(codeUnauthorized, "Log in first."))
		return
	}
	name, ok := normalizeRoom(r.URL.Query().Get("room"))
	if !ok {
		writeJSONError(w, errorf(codeInvalid, "Invalid room name."))
		return
	}
	since := int64(-1)
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeJSONError(w, errorf(codeInvalid, "since must be a message id (a whole number >= 0)."))
			return
		}
		since = n
	}
	rm, err := h.room(r.Context(), name)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	c := &client{user: u, room: rm, since: since}
	if h.cfg.MsgRate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(h.cfg.MsgRate), h.cfg.MsgBurst)
	}
	h.sockets.Add(1)
	defer h.sockets.Done()
	if err := h.m.HandleRequestWithKeys(w, r, map[string]any{"client": c}); err != nil {
		h.log.Debug("websocket upgrade failed", "err", err)
	}
}

// receive handles one text frame. Bad input gets an error event; only the
// frame kinds the protocol forbids (binary, oversized) close the socket.
func (h *Hub) receive(c *client, data []byte) {
	var in inbound
	if err := json.Unmarshal(data, &in); err != nil {
		c.sendError(codeInvalid, "Frames must be JSON objects.", "")
		return
	}
	if utf8.RuneCountInString(in.Nonce) > maxNonceLen {
		c.sendError(codeInvalid, "nonce is longer than 64 characters.", "")
		return
	}
	if in.Type != typeMessage {
		c.sendError(codeInvalid, "Unknown frame type; send {\"type\":\"message\",\"text\":...}.", in.Nonce)
		return
	}
	if c.limiter != nil && !c.limiter.Allow() {
		c.sendError(codeRateLimited, "You are sending too fast; wait a moment.", in.Nonce)
		return
	}
	if in.Text == nil {
		c.sendError(codeInvalid, "A message needs text.", in.Nonce)
		return
	}
	text := strings.TrimSpace(*in.Text)
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		c.sendError(codeInvalid, "A message cannot be empty.", in.Nonce)
		return
	case n > maxTextLen:
		c.sendError(codeTooLong, "A message has at most 2000 characters.", in.Nonce)
		return
	}
	if !c.room.send(op{kind: opMessage, c: c, text: text, nonce: in.Nonce}) {
		c.sendError(codeUnavailable, "The server is restarting; your message was not saved.", in.Nonce)
	}
}
