package main

// Joining a room: the join, the welcome, and the replay that meets the live
// stream exactly, served from the room's recent events or from the store.
// All of it runs on the room's writer goroutine.

import (
	"cmp"
	"context"
	"slices"
	"time"
)

type recentLine struct {
	id  int64
	raw []byte
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
