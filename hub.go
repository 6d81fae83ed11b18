package main

import (
	"context"
	"hash/maphash"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olahol/melody"
)

// Hub ties the pieces together: login sessions and their users, the rooms
// (each with its own writer), and melody's sockets.
type Hub struct {
	cfg   Config
	store Store
	log   *slog.Logger
	now   func() time.Time
	m     *melody.Melody

	closing atomic.Bool // set on shutdown: no new sockets, logins or frames
	// frames is held for reading while a socket's frame is handed to its
	// room. Shutdown takes it once closing is set: every frame taken
	// before then is in its room's queue, and none is taken after.
	frames  sync.RWMutex
	limits  *addrLimits    // logins and sockets per client address
	sockets sync.WaitGroup // open WebSocket handlers
	// stopSweep ends the sweeper (see sweepSessions), which closes swept.
	stopSweep, swept chan struct{}

	mu       sync.Mutex
	users    map[string]*user         // by name key
	sessions map[string]*user         // by session id
	rooms    map[string]*room         // by canonical name; a room's holders count is guarded by mu too
	loading  map[string]chan struct{} // rooms being read from the store; closed when done
	claiming map[string]bool          // name keys whose login is being written to the store

	recent    recentPool   // the events all rooms keep in memory (see remember)
	watchers  watchers     // sockets told of new messages in other rooms (news.go)
	nonceSeed maphash.Seed // keys the rooms' memory of nonces (see nonces.go)

	// conns finds our client for a melody session. A map here costs a
	// few bytes per socket; melody's per-session Keys map costs ~350.
	connsMu sync.RWMutex
	conns   map[*melody.Session]*client
}

// clientOf returns the client of an attached session, or nil.
func (h *Hub) clientOf(s *melody.Session) *client {
	h.connsMu.RLock()
	defer h.connsMu.RUnlock()
	return h.conns[s]
}

func newHub(cfg Config, store Store, now func() time.Time, log *slog.Logger) *Hub {
	h := &Hub{
		cfg: cfg, store: store, log: log, now: now,
		users: map[string]*user{}, sessions: map[string]*user{}, rooms: map[string]*room{},
		loading: map[string]chan struct{}{}, claiming: map[string]bool{}, conns: map[*melody.Session]*client{},
		stopSweep: make(chan struct{}), swept: make(chan struct{}), nonceSeed: maphash.MakeSeed(),
	}
	h.recent.limit = cfg.HistoryMemory
	h.limits = newAddrLimits(cfg, func() time.Time { return h.now() })
	h.m = h.newMelody()
	return h
}

// start restores sessions and the presence that was in grace when the
// previous process stopped, and starts the hourly session sweep.
// Once it returned, shutdown must be called, whatever it returned.
func (h *Hub) start(ctx context.Context) error {
	go h.sweeper(time.Hour)
	if err := h.loadSessions(ctx); err != nil {
		return err
	}
	rows, err := h.store.Presence(ctx)
	if err != nil {
		return err
	}
	now := h.now()
	for i := range rows {
		p := &rows[i]
		r, err := h.room(ctx, p.Room, nil)
		if err != nil {
			return err
		}
		// members belong to the writer goroutine, so restoring is an op
		// too; it is queued before any socket can connect.
		r.send(op{kind: opRestore, restore: p, at: now})
		h.release(r)
	}
	return nil
}

// tooManyRooms is the refusal of a room over ROOM_RATE (see room).
const tooManyRooms = "Too many new rooms opened from your network; wait a moment and try again."

// room returns the running room called name (canonical), loading it if
// needed, and holds it loaded until the caller calls release. Whoever
// sends a room ops must hold it, so that an idle room can unload itself
// (see retire) without an op ever reaching a writer that has gone.
//
// The store read happens outside h.mu, which every login and socket needs:
// one slow read would otherwise stall the whole server. Callers wanting a
// room that is being loaded wait for that one load instead of starting
// their own, and try themselves if it failed (its error may have been its
// caller's cancelled context).
//
// mayLoad, if not nil, is asked (under h.mu) before this caller starts a
// load; false refuses the room (see ROOM_RATE). Callers that find the room
// loaded, or wait for a load under way, are not asked: a crowd arriving
// at a room together costs one load.
func (h *Hub) room(ctx context.Context, name string, mayLoad func() bool) (*room, error) {
	for {
		h.mu.Lock()
		if r := h.rooms[name]; r != nil {
			r.holders++
			h.mu.Unlock()
			return r, nil
		}
		if l := h.loading[name]; l != nil {
			h.mu.Unlock()
			select {
			case <-l:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if mayLoad != nil && !mayLoad() {
			h.mu.Unlock()
			return nil, errorf(codeRateLimited, tooManyRooms)
		}
		loaded := make(chan struct{})
		h.loading[name] = loaded
		h.mu.Unlock()

		newest, err := h.store.Events(ctx, name, 0, 0, historyOnJoin)
		var topic Event
		if err == nil {
			topic, _, err = h.store.Topic(ctx, name)
		}

		h.mu.Lock()
		delete(h.loading, name)
		close(loaded)
		switch {
		case err != nil:
			h.mu.Unlock()
			return nil, err
		case h.closing.Load():
			// shutdown has taken its list of rooms to stop; one started
			// now would never be stopped.
			h.mu.Unlock()
			return nil, errorf(codeUnavailable, "The server is restarting.")
		}
		r := newRoom(h, name, newest)
		r.topic = topic
		h.rooms[name] = r
		r.holders++
		h.mu.Unlock()
		go r.run()
		return r, nil
	}
}

// loaded reports whether the room called name (canonical) is in memory or
// being read from the store.
func (h *Hub) loaded(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[name] != nil || h.loading[name] != nil
}

func (h *Hub) release(r *room) {
	h.mu.Lock()
	r.holders--
	h.mu.Unlock()
}

// retire unloads r if nobody holds it and no op is queued for it. Only r's
// writer calls it, once the room has been empty and quiet for RoomIdle;
// the next socket to the room loads it again from the store, so an
// unloaded room costs nothing but its rows.
func (h *Hub) retire(r *room) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.holders > 0 || len(r.ops) > 0 || h.closing.Load() {
		return false
	}
	delete(h.rooms, r.name)
	return true
}

// attach registers an opened socket with its user. It fails when the
// session ended between the HTTP check and the upgrade.
func (h *Hub) attach(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[c.user.sessionID] != c.user {
		return false
	}
	c.user.clients = append(c.user.clients, c)
	h.connsMu.Lock()
	h.conns[c.s] = c
	h.connsMu.Unlock()
	return true
}

func (h *Hub) detach(c *client) {
	h.mu.Lock()
	h.connsMu.Lock()
	delete(h.conns, c.s)
	h.connsMu.Unlock()
	i := slices.Index(c.user.clients, c)
	if i >= 0 {
		c.user.clients = slices.Delete(c.user.clients, i, i+1)
	}
	last := i >= 0 && len(c.user.clients) == 0
	now := h.now()
	if last {
		c.user.lastClosed, c.user.seen = now, now
	}
	h.mu.Unlock()
	if last {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.store.TouchSession(ctx, c.user.sessionID, now); err != nil {
			h.log.Warn("saving last seen", "err", err)
		}
	}
}

// originAllowed is the WebSocket origin check. Browsers always send Origin
// on a WebSocket handshake; a request without one is not from a browser
// and so cannot be a cross-site hijack.
func (h *Hub) originAllowed(r *http.Request) bool {
	return h.originOK(r.Header.Get("Origin"), r.Host)
}

func (h *Hub) originOK(origin, host string) bool {
	if origin == "" {
		return true
	}
	if len(h.cfg.AllowedOrigins) > 0 {
		return slices.Contains(h.cfg.AllowedOrigins, origin)
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == host && (u.Scheme == "http" || u.Scheme == "https")
}

// shutdown stops taking frames, lets each room commit and send out what it
// has queued, closes every socket with 1012, lets the rooms record
// presence, and waits (up to ctx) for all of it. The order is what makes a
// restart cost a client nothing: a message taken before the stop has its
// echo queued ahead of the close frame, so the client does not send it
// again; one that arrives after it is not taken, gets no echo, and is
// sent again once the client has reconnected.
func (h *Hub) shutdown(ctx context.Context) {
	h.closing.Store(true)
	// Wait out the frames being handed on (none starts now); not for
	// longer than the budget, should a room's queue be full and its
	// writer stuck.
	waitCtx(ctx, func() {
		h.frames.Lock()
		//lint:ignore SA2001 empty on purpose: it waits for the readers
		h.frames.Unlock()
	})
	close(h.stopSweep)
	<-h.swept
	h.mu.Lock()
	var clients []*client
	for _, u := range h.users {
		clients = append(clients, u.clients...)
	}
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()

	// Every room flushes at once; then wait for them all.
	var flushed []chan struct{}
	for _, r := range rooms {
		done := make(chan struct{})
		if r.send(op{kind: opFlush, done: done}) {
			flushed = append(flushed, done)
		}
	}
	for _, done := range flushed {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	for _, c := range clients {
		c.close(closeServiceRestart, "server restarting; reconnect shortly")
	}
	// Well-behaved clients answer the close frame at once; don't let one
	// that doesn't eat the whole budget.
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	waitCtx(sctx, h.sockets.Wait)
	cancel()
	// Sockets that did not finish their close handshake in time are cut.
	if ss, err := h.m.Sessions(); err == nil {
		for _, s := range ss {
			s.WebsocketConnection().Close()
		}
	}
	for _, r := range rooms {
		close(r.quit)
	}
	for _, r := range rooms {
		select {
		case <-r.done:
		case <-ctx.Done():
			h.log.Error("room writer did not stop in time", "room", r.name)
		}
	}
	h.m.Close()
}

// waitCtx runs wait and returns when it does or when ctx ends.
func waitCtx(ctx context.Context, wait func()) {
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
