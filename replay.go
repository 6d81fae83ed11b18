package main

// Joining a room: the join, the welcome, and the replay that meets the live
// stream exactly, served from the room's recent events or from the store.
// All of it runs on the room's writer goroutine, except a store read
// (readReplay), which runs on its own so the room does not wait for it.

import (
	"context"
	"time"
)

// subscribe adds c to the room: it joins (if the user was not present)
// in the current batch, and once the batch is committed it gets welcome and
// the history it asked for. The replay is taken after the commit (from
// recent, or the store) and c starts receiving live events with the next
// batch, so replay and live meet exactly: no gap, no duplicate. Many
// sockets opening at once share one commit and one frame of joins.
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
// then adds it to the room's clients. A replay that recent cannot answer
// is read from the store off this goroutine (readReplay): the room keeps
// committing and fanning out meanwhile, and the socket is welcomed when
// the read comes back.
func (r *room) welcome(j joiner) {
	c, since := j.c, j.since
	if since > r.lastID {
		since = -1 // an id from before the store was reset: start afresh
	}
	replay, truncated, ok := r.recentAfter(since)
	if !ok {
		r.readReplay(c, since)
		return
	}
	r.sendWelcome(c, replay, truncated)
}

// storeReplay is a replay read from the store for one socket: the events
// after since (< 0: a fresh socket gets the newest historyOnJoin) up to
// upto, the room's last id when the read began.
type storeReplay struct {
	since, upto int64
	lines       []recentLine
	truncated   bool // more than maxReplay: the oldest are left out
	err         error
}

// readReplay reads a socket's replay from the store on a goroutine of its
// own and hands it back to the writer as opReplayed. Only committed events
// are read and the writer's state is not touched; a long history read
// would otherwise hold up every commit of the room. Until it is back the
// socket is in reading, which keeps what is committed meanwhile in recent.
func (r *room) readReplay(c *client, since int64) {
	rp := &storeReplay{since: since, upto: r.lastID}
	r.reading[c] = rp.upto
	if r.pinned < 0 {
		r.pinned = rp.upto // the others began earlier: their ids are not higher
	}
	go func() {
		after, limit := since, maxReplay
		if since < 0 {
			after, limit = 0, historyOnJoin
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		evs, err := r.hub.store.Events(ctx, r.name, after, rp.upto+1, limit)
		cancel()
		rp.err = err
		rp.truncated = since >= 0 && len(evs) > 0 && evs[0].ID > since+1
		rp.lines = make([]recentLine, len(evs))
		for i, e := range evs {
			rp.lines[i] = recentLine{e.ID, encode(e.wire())}
		}
		// false: the room stopped or retired, and the socket with it.
		r.send(op{kind: opReplayed, c: c, replayed: rp})
	}()
}

// replayed welcomes a socket whose replay came from the store, adding
// from recent what was committed during the read.
func (r *room) replayed(c *client, rp *storeReplay) {
	if !r.doneReading(c) {
		return // the socket closed or its user logged out meanwhile
	}
	// All of them: remember kept them for this read. If there are more
	// than maxReplay, rest is the newest and the cap below keeps only it.
	rest, _, ok := r.recentAfter(rp.upto)
	if rp.err != nil || !ok {
		r.clients[c] = struct{}{} // its close unsubscribes it as usual
		r.log.Error("replay failed", "err", rp.err, "recent", ok)
		c.close(closeInternal, "history unavailable; reconnect")
		return
	}
	lines := append(rp.lines, rest...)
	switch {
	case rp.since < 0: // a fresh socket: the newest historyOnJoin
		lines = lines[max(0, len(lines)-historyOnJoin):]
	case len(lines) > maxReplay:
		lines, rp.truncated = lines[len(lines)-maxReplay:], true
	}
	r.sendWelcome(c, lines, rp.truncated)
}

// doneReading takes c out of reading, if it is there, and moves the pin
// on recent to the earliest read still under way (none: -1).
func (r *room) doneReading(c *client) bool {
	upto, ok := r.reading[c]
	if !ok {
		return false
	}
	delete(r.reading, c)
	if upto == r.pinned {
		r.pinned = -1
		for _, u := range r.reading {
			if r.pinned < 0 || u < r.pinned {
				r.pinned = u
			}
		}
	}
	return true
}

// sendWelcome adds c to the room's clients and writes welcome and its
// replay as one frame (at most maxReplay events, about 100 KB): it takes
// one slot of the socket's queue, and c gets live events from the next
// frame on.
func (r *room) sendWelcome(c *client, replay []recentLine, truncated bool) {
	r.clients[c] = struct{}{}
	defer c.openGate() // after the write: its frames may go now
	frame := encode(welcomeEvent{Type: typeWelcome, User: c.user.name, Room: r.name, Online: r.online(), LastID: r.lastID, Truncated: truncated,
		LoginAt: c.user.created.Truncate(time.Millisecond).UTC().Format(tsLayout), Topic: r.topicInfo()})
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
	if len(r.typing.who) > 0 { // who types now, not only from their next change
		frame = append(append(frame, '\n'), r.typingLine(typingShown)...)
	}
	c.write(frame)
}
