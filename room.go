package main

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
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
	// quietGap spaces frames that carry only joins, leaves and presence:
	// such a batch waits until quietGap after the previous frame, so a
	// storm of arrivals reaches each socket as a few frames, not one per
	// arrival. A message flushes at once, taking them along.
	quietGap = 20 * time.Millisecond
)

type opKind int

const (
	opSubscribe     opKind = iota // a socket opened
	opUnsubscribe                 // a socket closed
	opMessage                     // a client said something
	opGrace                       // a presence grace timer fired
	opKick                        // the user logged out: leave now
	opRestore                     // presence remembered from before a restart
	opPresence                    // the coalesced presence event is due
	opReplayed                    // a replay read from the store is ready
	opTyping                      // a client is typing
	opTypingDue                   // the typing timer fired (see typingDue)
	opTypingStopped               // a client stopped typing without sending
	opDelete                      // a client takes back a message
	opEdit                        // a client changes a message's text
	opReact                       // a client puts a reaction on a message, or takes it off
	opTopic                       // a client sets the room's topic
	opFlush                       // shutdown: commit and send out what is queued, then close done
)

type op struct {
	kind  opKind
	c     *client
	since int64     // opSubscribe: -1 for a fresh connection
	after int64     // opMessage: the newest id its sender had seen when it first sent it, or -1
	ref   int64     // opEdit, opDelete, opReact: the message to change; opMessage: the one it replies to, or 0
	old   *oldRead  // message ref as the sender's reader read it, if older than the room's memory (see readOld)
	on    bool      // opReact: put on, not take off
	image imageInfo // opMessage: its picture, if any
	text  string
	nonce string
	key   string // opGrace, opKick
	gen   uint64 // opGrace: which grace period fired; opTypingDue: which timer

	restore *PresenceRecord // opRestore
	at      time.Time       // opRestore: when the server started

	replayed *storeReplay  // opReplayed
	done     chan struct{} // opFlush
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

	lastFrame time.Time        // when the last frame went out
	quietT    *time.Timer      // pending flush of a quiet batch (see quietGap)
	quietC    <-chan time.Time // quietT's channel while it is pending, else nil

	// Written here, read by the sockets' readers too (see readOld).
	floor      atomic.Int64 // no id below it is in recent, nor ever will be
	oldChanges atomic.Int64 // edits, deletes and reactions committed to messages below it

	lastID  int64
	clients map[*client]struct{}
	members map[string]*member

	// the batch being built: stored events, and the encoded lines of the
	// frame in order (stored events are encoded once their id is final).
	batch   []Event
	lines   []line
	origins []originOf
	replies []reply // answers to single sockets, sent when the turn ends (see replies.go)

	nonces nonces // the newest messages' nonces, to recognise copies (see nonces.go)

	joining []joiner // sockets to welcome once the batch is committed
	// watchBuf is tellWatchers' list of the sockets to tell, kept
	// between commits so that telling them allocates nothing.
	watchBuf []*client
	// reading holds sockets whose replay is being read from the store
	// (see readReplay), with the last id the read covers: their join is
	// committed, their welcome is not sent.
	reading map[*client]int64
	pinned  int64 // the lowest id in reading; -1 when it is empty

	presenceDirty bool // the online list changed since the last presence event
	presenceSent  time.Time
	presenceTimer *time.Timer
	onlineJSON    []byte // the encoded online list; nil after a change

	typing typingState // who is typing (see typing.go)
	topic  Event       // the newest committed topic event, if any (see topic.go)

	// recent holds the encoded lines of the newest stored events, oldest
	// first, within recentKeep and recentBudget (see remember), and
	// recentSize is their bytes. Joins and resumes are answered from it,
	// with no store read and no encoding per socket, so a storm of
	// (re)connections costs little CPU and leaves little garbage behind.
	recent     []recentLine
	recentSize int
	pool       *recentPool // the bytes of all rooms' recent, against HistoryMemory
	squeezed   uint64      // pool.squeezes when this room last squeezed, or followed one
}

type joiner struct {
	c     *client
	since int64
}

type originOf struct {
	c      *client
	nonce  string
	copyOf int // i+1 when this message repeats batch[i]'s nonce: not stored, answered with duplicate
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
		reading: map[*client]int64{}, pinned: -1,
		pool: &h.recent, squeezed: h.recent.squeezes.Load(),
	}
	r.pool.rooms.Add(1) // run gives it back
	for _, e := range newest {
		r.remember(e.ID, encode(e.wire()))
	}
	// Any stored message may be a copy's first: until the room has
	// remembered some nonces, a resend that says how far back to look
	// is looked for in the store.
	r.nonces = nonces{seed: h.nonceSeed, floor: r.lastID}
	r.markFloor()
	return r
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

func (r *room) run() {
	defer close(r.done)
	// Stopped or unloaded, the room gives its recent back to the pool,
	// and its share to the others.
	defer func() {
		r.pool.used.Add(-int64(r.recentSize))
		r.pool.rooms.Add(-1)
	}()
	idle := time.NewTicker(r.hub.cfg.RoomIdle)
	defer idle.Stop()
	for {
		select {
		case o := <-r.ops:
			r.busy = true
			r.handle(o)
			r.drain()
			r.flushOrWait()
			r.sendReplies()
		case <-r.quietC:
			r.quietC = nil
			r.flush()
			r.sendReplies()
		case <-idle.C:
			if !r.busy && len(r.lines) > 0 && r.quietC == nil {
				r.flush() // notices kept from a failed commit (see keepNotices)
				r.sendReplies()
			}
			if !r.busy && r.empty() && r.hub.retire(r) {
				if r.presenceTimer != nil {
					r.presenceTimer.Stop()
				}
				r.stopTyping()
				r.log.Debug("room unloaded")
				return
			}
			r.busy = false
			r.followSqueeze()
		case <-r.quit:
			r.drain()
			r.flush()
			r.sendReplies()
			r.saveOnStop()
			r.stopTyping()
			return
		}
	}
}

// empty reports that nobody is in the room, not even within their grace,
// and nothing is pending: unloading it now loses nothing. (A presence
// event still due would have nobody to go to.)
func (r *room) empty() bool {
	return len(r.clients) == 0 && len(r.joining) == 0 && len(r.reading) == 0 && len(r.members) == 0 && len(r.lines) == 0
}

// flushOrWait flushes the batch now, unless it carries no message and a
// frame went out less than quietGap ago: then it flushes when the gap is
// over, or earlier with the next message.
func (r *room) flushOrWait() {
	if len(r.origins) == 0 && len(r.batch) < maxBatch && len(r.lines) > 0 {
		if wait := quietGap - time.Since(r.lastFrame); wait > 0 {
			if r.quietC == nil {
				r.quietT = time.NewTimer(wait)
				r.quietC = r.quietT.C
			}
			return
		}
	}
	if r.quietC != nil {
		r.quietT.Stop()
		r.quietC = nil
	}
	r.flush()
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
		r.say(o)
	case opSubscribe:
		r.subscribe(o.c, o.since)
	case opUnsubscribe:
		if !r.forget(o.c) {
			return
		}
		m := r.members[o.c.user.key]
		if m == nil {
			return
		}
		if m.sockets--; m.sockets == 0 {
			m.leftAt = r.hub.now()
			r.startGrace(o.c.user.key, m, r.hub.cfg.PresenceGrace)
			r.stoppedTyping(o.c.user.key) // nobody types without a socket
		}
	case opGrace:
		if m := r.members[o.key]; m != nil && m.gen == o.gen && m.sockets == 0 {
			r.leave(o.key, m)
		}
	case opRestore:
		r.restore(*o.restore, o.at)
	case opReplayed:
		r.replayed(o.c, o.replayed)
	case opDelete:
		r.deleteMessage(o)
	case opEdit:
		r.editMessage(o)
	case opReact:
		r.react(o)
	case opTopic:
		r.setTopic(o.c, o.text, o.nonce)
	case opTyping:
		r.typed(o.c)
	case opTypingStopped:
		if _, ok := r.clients[o.c]; ok {
			r.stoppedTyping(o.c.user.key)
		}
	case opTypingDue:
		r.typingFired(o.gen)
	case opPresence:
		r.presenceTimer = nil
		if r.presenceDirty {
			r.emitPresence()
		}
	case opFlush:
		r.flush()
		r.sendReplies()
		close(o.done)
	case opKick:
		for c := range r.clients {
			if c.user.key == o.key {
				delete(r.clients, c)
			}
		}
		for c := range r.reading {
			if c.user.key == o.key {
				r.doneReading(c)
			}
		}
		if m := r.members[o.key]; m != nil {
			r.leave(o.key, m)
		}
	}
}

// forget removes a closed socket from the room, whether it was welcomed,
// waiting for its replay or still joining. False: it was not there.
func (r *room) forget(c *client) bool {
	if _, ok := r.clients[c]; ok {
		delete(r.clients, c)
		return true
	}
	if r.doneReading(c) {
		return true
	}
	if i := slices.IndexFunc(r.joining, func(j joiner) bool { return j.c == c }); i >= 0 {
		r.joining = slices.Delete(r.joining, i, i+1)
		return true
	}
	return false
}

// add appends a stored event to the batch. origin, if any, is told when the
// commit fails.
func (r *room) add(e Event, origin *client) {
	e.Room = r.name
	r.batch = append(r.batch, e)
	r.lines = append(r.lines, line{stored: len(r.batch) - 1})
	if origin != nil {
		r.origins = append(r.origins, originOf{c: origin, nonce: e.Nonce})
	}
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
			r.nonces.failed()
			for _, o := range r.origins {
				r.refuse(o.c, codeUnavailable, "Your message was not saved; try again.", o.nonce)
			}
			r.keepNotices()
			return
		}
		r.nonces.committed(r.batch)
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
			if e.Ref > 0 && e.Type != typeMessage {
				r.changed(*e) // an edit, a delete or a reaction
			}
			if e.Type == typeTopic {
				r.topic = *e
			}
		}
		frame.Write(raw)
	}
	msg := frame.Bytes()
	for c := range r.clients {
		c.write(msg)
	}
	r.tellWatchers()
	for _, o := range r.origins {
		if o.copyOf > 0 {
			r.tell(o.c, duplicateFrame(r.batch[o.copyOf-1].ID, o.nonce))
		}
	}
	r.lastFrame = time.Now()
	r.resetBatch()
}

// keepNotices empties a batch whose commit failed, all but its joins,
// leaves and presence: the senders of its messages, edits, deletes,
// reactions and topics were told and send them again, but nobody sends a
// join again. Those stay in the batch, in order and with the time they
// happened, for the next commit: with the
// next op, or at the idle tick when none comes. Their ids are given then,
// so the room's ids stay without a gap, and the store's presence rows
// (what a restart restores) follow them.
func (r *room) keepNotices() {
	batch, lines := slices.Clone(r.batch), slices.Clone(r.lines)
	r.resetBatch()
	for _, l := range lines {
		switch {
		case l.stored < 0:
			r.lines = append(r.lines, l)
		case batch[l.stored].Type == typeJoin || batch[l.stored].Type == typeLeave:
			r.add(batch[l.stored], nil)
		}
	}
}

// resetBatch empties the batch for the next one. It keeps the arrays
// while batches stay about as big, so a busy room does not reallocate
// them per flush, but lets go of them when a batch fills less than a
// quarter of a large capacity: a storm of joins grows them to maxBatch
// (about 40 KB), and a room that is quiet afterwards need not keep that.
func (r *room) resetBatch() {
	small := func(n, c int) bool { return c > 64 && n < c/4 }
	if small(len(r.batch), cap(r.batch)) {
		r.batch = nil
	}
	if small(len(r.lines), cap(r.lines)) {
		r.lines = nil
	}
	if small(len(r.origins), cap(r.origins)) {
		r.origins = nil
	}
	// What the batch refers to is garbage now (texts, frames, clients
	// that may have closed); don't keep it alive until overwritten.
	clear(r.batch)
	clear(r.lines)
	clear(r.origins)
	r.batch, r.lines, r.origins = r.batch[:0], r.lines[:0], r.origins[:0]
}
