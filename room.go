package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"time"
)

const (
	historyOnJoin = 50  // events a fresh connection gets
	maxReplay     = 500 // events a resuming connection gets at most
	maxBatch      = 256 // ops folded into one commit and one frame
	// presenceEvery spaces presence events: each carries the whole online
	// list, so one per join in a busy room would cost O(members²) bytes.
	// The first change goes out at once, later ones coalesce.
	presenceEvery = time.Second
)

type opKind int

const (
	opSubscribe   opKind = iota // a socket opened
	opUnsubscribe               // a socket closed
	opMessage                   // a client said something
	opGrace                     // a presence grace timer fired
	opKick                      // the user logged out: leave now
	opRestore                   // presence remembered from before a restart
	opPresence                  // the coalesced presence event is due
)

type op struct {
	kind  opKind
	c     *client
	since int64 // opSubscribe: -1 for a fresh connection
	text  string
	nonce string
	key   string // opGrace, opKick
	gen   uint64 // opGrace: which grace period fired

	restore *PresenceRecord // opRestore
	at      time.Time       // opRestore: when the server started
}

// member is a user present in a room. They stay present while any of their
// sockets is open, and for PresenceGrace after the last one closes, so a
// reload or a reconnect does not show as leave+join.
type member struct {
	name    string
	sockets int
	leftAt  time.Time // when sockets dropped to 0
	gen     uint64    // bumped on every change; a stale grace timer sees a newer gen and does nothing
	timer   *time.Timer
}

// room owns one chat room. A single goroutine (run) assigns ids, commits
// and fans out, so every client sees the room's events in id order, each
// once. Everything below ops is touched only by that goroutine.
type room struct {
	name string
	hub  *Hub
	log  *slog.Logger
	ops  chan op
	quit chan struct{} // closed to stop the writer
	done chan struct{} // closed when the writer has stopped (shut down or retired)

	holders int  // sockets and others that may still send ops; guarded by hub.mu
	busy    bool // an op arrived since the last idle tick

	lastID  int64
	clients map[*client]struct{}
	members map[string]*member

	// the batch being built: stored events, and the encoded lines of the
	// frame in order (stored events are encoded once their id is final).
	batch   []Event
	lines   []line
	origins []originOf

	joining []joiner // sockets to welcome once the batch is committed

	presenceDirty bool // the online list changed since the last presence event
	presenceSent  time.Time
	presenceTimer *time.Timer
	onlineJSON    []byte // the encoded online list; nil after a change

	// recent holds the encoded lines of the newest stored events, oldest
	// first: at least historyOnJoin of them once the room has that many,
	// and a quarter more at most. Joins and short resumes are answered from it,
	// with no store read and no encoding per socket, so a storm of
	// (re)connections costs little CPU and leaves little garbage behind.
	recent []recentLine
}

type recentLine struct {
	id  int64
	raw []byte
}

type joiner struct {
	c     *client
	since int64
}

type originOf struct {
	c     *client
	nonce string
}

type line struct {
	stored int // index into batch, or -1
	raw    []byte
}

// newRoom makes the writer for a room whose newest stored events are
// newest (at most historyOnJoin, oldest first).
func newRoom(h *Hub, name string, newest []Event) *room {
	r := &room{
		name: name, hub: h, log: h.log.With("room", name),
		ops: make(chan op, 64), quit: make(chan struct{}), done: make(chan struct{}),
		clients: map[*client]struct{}{}, members: map[string]*member{},
	}
	for _, e := range newest {
		r.remember(e.ID, encode(e.wire()))
	}
	return r
}

// remember appends a committed event to recent and makes it the last id.
func (r *room) remember(id int64, raw []byte) {
	r.lastID = id
	r.recent = append(r.recent, recentLine{id, raw})
	if len(r.recent) >= historyOnJoin+historyOnJoin/4 { // trim now and then, not per event
		n := copy(r.recent, r.recent[len(r.recent)-historyOnJoin:])
		clear(r.recent[n:])
		r.recent = r.recent[:n]
	}
}

// recentAfter returns the stored events a socket needs from memory: the
// newest historyOnJoin for a fresh one (after < 0), else all after the id
// after. ok is false when recent does not reach back that far.
func (r *room) recentAfter(after int64) (lines []recentLine, ok bool) {
	complete := len(r.recent) == 0 && r.lastID == 0 || len(r.recent) > 0 && r.recent[0].id == 1
	switch {
	case after < 0 && (complete || len(r.recent) >= historyOnJoin):
		return r.recent[max(0, len(r.recent)-historyOnJoin):], true
	case after >= 0 && after >= r.lastID:
		return nil, true
	case after >= 0 && len(r.recent) > 0 && r.recent[0].id <= after+1:
		i, _ := slices.BinarySearchFunc(r.recent, after+1, func(l recentLine, id int64) int { return cmp.Compare(l.id, id) })
		return r.recent[i:], true
	}
	return nil, false
}

// send queues o for the writer. It returns false once the room is
// stopping or has retired (only ops with nobody to act on reach a retired
// room: a stale timer, a logout's kick).
func (r *room) send(o op) bool {
	select {
	case <-r.quit:
		return false
	case <-r.done:
		return false
	default:
	}
	select {
	case r.ops <- o:
		return true
	case <-r.quit:
		return false
	case <-r.done:
		return false
	}
}

// restore seeds a member remembered from before a restart. They count as
// gone since leftAt and get the rest of their grace to come back.
func (r *room) restore(p PresenceRecord, now time.Time) {
	if p.LeftAt.IsZero() || p.LeftAt.After(now) {
		p.LeftAt = now
	}
	m := &member{name: p.Name, leftAt: p.LeftAt}
	r.members[p.Key] = m
	r.onlineJSON = nil
	r.startGrace(p.Key, m, r.hub.cfg.PresenceGrace-now.Sub(p.LeftAt))
}

func (r *room) startGrace(key string, m *member, d time.Duration) {
	m.gen++
	gen := m.gen
	m.timer = time.AfterFunc(max(d, 0), func() { r.send(op{kind: opGrace, key: key, gen: gen}) })
}

func (r *room) run() {
	defer close(r.done)
	idle := time.NewTicker(r.hub.cfg.RoomIdle)
	defer idle.Stop()
	for {
		select {
		case o := <-r.ops:
			r.busy = true
			r.handle(o)
			r.drain()
			r.flush()
		case <-idle.C:
			if !r.busy && r.empty() && r.hub.retire(r) {
				if r.presenceTimer != nil {
					r.presenceTimer.Stop()
				}
				r.log.Debug("room unloaded")
				return
			}
			r.busy = false
		case <-r.quit:
			r.drain()
			r.flush()
			r.saveOnStop()
			return
		}
	}
}

// empty reports that nobody is in the room, not even within their grace,
// and nothing is pending: unloading it now loses nothing. (A presence
// event still due would have nobody to go to.)
func (r *room) empty() bool {
	return len(r.clients) == 0 && len(r.joining) == 0 && len(r.members) == 0 && len(r.lines) == 0
}

// drain folds whatever else is already queued into the current batch.
func (r *room) drain() {
	for len(r.batch) < maxBatch {
		select {
		case o := <-r.ops:
			r.handle(o)
		default:
			return
		}
	}
}

func (r *room) handle(o op) {
	switch o.kind {
	case opMessage:
		if _, ok := r.clients[o.c]; !ok {
			o.c.sendError(codeUnavailable, "You are not in this room any more; reconnect.", o.nonce)
			return
		}
		r.add(Event{Type: typeMessage, User: o.c.user.name, UserKey: o.c.user.key, Text: o.text, Nonce: o.nonce, TS: r.hub.now()}, o.c)
	case opSubscribe:
		r.subscribe(o.c, o.since)
	case opUnsubscribe:
		if _, ok := r.clients[o.c]; ok {
			delete(r.clients, o.c)
		} else if i := slices.IndexFunc(r.joining, func(j joiner) bool { return j.c == o.c }); i >= 0 {
			r.joining = slices.Delete(r.joining, i, i+1)
		} else {
			return
		}
		m := r.members[o.c.user.key]
		if m == nil {
			return
		}
		if m.sockets--; m.sockets == 0 {
			m.leftAt = r.hub.now()
			r.startGrace(o.c.user.key, m, r.hub.cfg.PresenceGrace)
		}
	case opGrace:
		if m := r.members[o.key]; m != nil && m.gen == o.gen && m.sockets == 0 {
			r.leave(o.key, m)
		}
	case opRestore:
		r.restore(*o.restore, o.at)
	case opPresence:
		r.presenceTimer = nil
		if r.presenceDirty {
			r.emitPresence()
		}
	case opKick:
		for c := range r.clients {
			if c.user.key == o.key {
				delete(r.clients, c)
			}
		}
		if m := r.members[o.key]; m != nil {
			r.leave(o.key, m)
		}
	}
}

func (r *room) leave(key string, m *member) {
	if m.timer != nil {
		m.timer.Stop()
	}
	delete(r.members, key)
	r.add(Event{Type: typeLeave, User: m.name, UserKey: key, TS: r.hub.now()}, nil)
	r.addPresence()
}

// add appends a stored event to the batch. origin, if any, is told when the
// commit fails.
func (r *room) add(e Event, origin *client) {
	e.Room = r.name
	r.batch = append(r.batch, e)
	r.lines = append(r.lines, line{stored: len(r.batch) - 1})
	if origin != nil {
		r.origins = append(r.origins, originOf{origin, e.Nonce})
	}
}

// addPresence notes that the online list changed: a presence event goes
// out now, or at most presenceEvery after the previous one.
func (r *room) addPresence() {
	r.presenceDirty = true
	r.onlineJSON = nil
	wait := presenceEvery - r.hub.now().Sub(r.presenceSent)
	if wait <= 0 {
		r.emitPresence()
		return
	}
	if r.presenceTimer == nil {
		r.presenceTimer = time.AfterFunc(wait, func() { r.send(op{kind: opPresence}) })
	}
}

func (r *room) emitPresence() {
	r.presenceDirty = false
	r.presenceSent = r.hub.now()
	r.lines = append(r.lines, line{stored: -1, raw: encode(presenceEvent{Type: typePresence, Room: r.name, Online: r.online()})})
}

// online is the sorted list of present names, encoded once per change.
func (r *room) online() json.RawMessage {
	if r.onlineJSON == nil {
		names := make([]string, 0, len(r.members))
		for _, m := range r.members {
			names = append(names, m.name)
		}
		slices.Sort(names)
		r.onlineJSON = encode(names)
	}
	return r.onlineJSON
}

// flush commits the batch in one transaction and then, only then, sends it
// to every client in the room as one frame. On a failed commit nothing is
// sent and the senders get an "unavailable" error with their nonce.
func (r *room) flush() {
	defer func() {
		for _, j := range r.joining {
			r.welcome(j)
		}
		clear(r.joining)
		r.joining = r.joining[:0]
	}()
	if len(r.lines) == 0 {
		return
	}
	defer func() { r.batch, r.lines, r.origins = r.batch[:0], r.lines[:0], r.origins[:0] }()
	if len(r.batch) > 0 {
		for i := range r.batch {
			r.batch[i].ID = r.lastID + int64(i) + 1
		}
		// No deadline: the driver would start a goroutine per statement
		// to watch it, on the latency path, and a commit that hangs on a
		// stuck disk would not be interrupted by it anyway.
		err := r.hub.store.AppendEvents(context.Background(), r.name, r.batch)
		if err != nil {
			r.log.Error("commit failed", "events", len(r.batch), "err", err)
			for _, o := range r.origins {
				o.c.sendError(codeUnavailable, "Your message was not saved; try again.", o.nonce)
			}
			return
		}
	}
	var frame bytes.Buffer
	for i, l := range r.lines {
		if i > 0 {
			frame.WriteByte('\n')
		}
		raw := l.raw
		if l.stored >= 0 {
			e := &r.batch[l.stored]
			raw = encode(e.wire())
			r.remember(e.ID, raw)
		}
		frame.Write(raw)
	}
	msg := frame.Bytes()
	for c := range r.clients {
		c.write(msg)
	}
}

// subscribe adds c to the room: it joins (if the user was not present)
// in the current batch, and once the batch is committed it gets welcome and
// the history it asked for. The replay is read from the store after the
// commit and c starts receiving live events with the next batch, so replay
// and live meet exactly: no gap, no duplicate. Many sockets opening at once
// share one commit and one frame of joins.
func (r *room) subscribe(c *client, since int64) {
	key := c.user.key
	m := r.members[key]
	if m == nil {
		m = &member{name: c.user.name}
		r.members[key] = m
		r.add(Event{Type: typeJoin, User: c.user.name, UserKey: key, TS: r.hub.now()}, nil)
		r.addPresence()
	} else if m.sockets == 0 && m.timer != nil {
		m.timer.Stop()
		m.gen++ // a grace op already queued is now stale
	}
	m.sockets++
	r.joining = append(r.joining, joiner{c, since})
}

// welcome sends welcome and the replay to a socket whose join is committed,
// then adds it to the room's clients.
func (r *room) welcome(j joiner) {
	c, since := j.c, j.since
	r.clients[c] = struct{}{}
	if since > r.lastID {
		since = -1 // an id from before the store was reset: start afresh
	}
	replay, ok := r.recentAfter(since)
	truncated := false
	if !ok {
		after, limit := since, maxReplay
		if since < 0 {
			after, limit = 0, historyOnJoin
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		evs, err := r.hub.store.Events(ctx, r.name, after, 0, limit)
		cancel()
		if err != nil {
			r.log.Error("replay failed", "err", err)
			c.close(closeInternal, "history unavailable; reconnect")
			return
		}
		truncated = since >= 0 && len(evs) > 0 && evs[0].ID > since+1
		replay = make([]recentLine, len(evs))
		for i, e := range evs {
			replay[i] = recentLine{e.ID, encode(e.wire())}
		}
	}
	frame := encode(welcomeEvent{Type: typeWelcome, User: c.user.name, Room: r.name, Online: r.online(), LastID: r.lastID, Truncated: truncated})
	// One frame for welcome and the whole replay (at most maxReplay
	// events, about 100 KB): it takes one slot of the socket's queue.
	if len(replay) > 0 {
		n := len(frame)
		for _, l := range replay {
			n += 1 + len(l.raw)
		}
		b := make([]byte, 0, n)
		b = append(b, frame...)
		for _, l := range replay {
			b = append(append(b, '\n'), l.raw...)
		}
		frame = b
	}
	c.write(frame)
}

// saveOnStop records who is present and since when they were gone, so the
// grace survives a restart: people who reconnect to the new process in time
// cause no leave/join pair.
func (r *room) saveOnStop() {
	if r.presenceTimer != nil {
		r.presenceTimer.Stop()
	}
	now := r.hub.now()
	rows := make([]PresenceRecord, 0, len(r.members))
	for key, m := range r.members {
		if m.timer != nil {
			m.timer.Stop()
		}
		left := m.leftAt
		if m.sockets > 0 || left.IsZero() {
			left = now
		}
		rows = append(rows, PresenceRecord{Room: r.name, Key: key, Name: m.name, LeftAt: left})
	}
	if len(rows) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.hub.store.SavePresence(ctx, rows); err != nil {
		r.log.Error("saving presence", "err", err)
	}
}
