package main

// Typing: who in a room is writing a message right now. Like presence it
// is never stored and its events are coalesced; unlike presence it is
// forgotten by itself, a few seconds after its last notice. All of it
// runs on the room's writer goroutine, but for the per-session pace in
// typingAllowed.

import (
	"cmp"
	"slices"
	"time"
)

const (
	// typingFor is how long one typing notice counts. The web client
	// sends one every 3 s while its composer changes and holds text, so
	// a typist stays listed while they type and drops off typingFor
	// after their last notice, or at once with their message.
	typingFor = 5 * time.Second
	// typingGap is the least time between two notices a session's
	// sockets pass on to their rooms; the ones in between are ignored.
	// A notice is a room op, and without this a client could queue
	// hundreds a second on a room's writer, ahead of its messages.
	typingGap = time.Second
	// typingShown is how many names a typing event carries; its count
	// says how many type in all. A busy room's list of typists could
	// otherwise be as long as its online list, once a second.
	typingShown = 5
)

// typist is a user typing in a room.
type typist struct {
	name  string
	start uint64    // the order they started in: the longest typing are named first
	until time.Time // forgotten then, unless another notice comes
}

// typingEvent tells who is typing: the first typingShown of them, in the
// order they started, and how many in all.
type typingEvent struct {
	Type  string   `json:"type"`
	Room  string   `json:"room"`
	Users []string `json:"users"`
	Count int      `json:"count"`
}

// typingState is a room's typists and the timer that serves them.
type typingState struct {
	who   map[string]*typist // by user key; nil while nobody types
	dirty bool               // who changed since the last typing event
	sent  time.Time          // when the last typing event was added to a batch
	timer *time.Timer        // the next event or expiry is due (opTypingDue)
	at    time.Time          // when timer fires
	gen   uint64             // timer's generation: a stopped timer's late op is ignored
	began uint64             // typists started so far, to order them
}

// typingAllowed paces a session's typing notices to one per typingGap,
// for all its sockets together. It runs on the socket's read goroutine,
// so several may race for the same slot: the CompareAndSwap lets one win.
func typingAllowed(u *user, now time.Time) bool {
	last := u.typed.Load()
	if now.UnixNano()-last < int64(typingGap) {
		return false
	}
	if !u.typed.CompareAndSwap(last, now.UnixNano()) {
		return false
	}
	u.typing.Store(true)
	return true
}

// typingStopAllowed passes on one stop notice per notice passed on: a
// user who cleared their draft goes off the list at once, and stop
// notices cost the room's writer no more than typing notices do.
func typingStopAllowed(u *user) bool { return u.typing.CompareAndSwap(true, false) }

// typed notes that c's user is typing.
func (r *room) typed(c *client) {
	if _, ok := r.clients[c]; !ok {
		return // closing, or logged out meanwhile
	}
	now := r.hub.now()
	t := r.typing.who[c.user.key]
	if t == nil {
		if r.typing.who == nil {
			r.typing.who = map[string]*typist{}
		}
		r.typing.began++
		t = &typist{name: c.user.name, start: r.typing.began}
		r.typing.who[c.user.key] = t
		r.typing.dirty = true
	}
	t.until = now.Add(typingFor)
	r.typingDue()
}

// stoppedTyping forgets a typist: their message came, they said they
// stopped, their last socket closed, or they left.
func (r *room) stoppedTyping(key string) {
	if _, ok := r.typing.who[key]; ok {
		delete(r.typing.who, key)
		r.typing.dirty = true
		r.typingDue()
	}
}

// typingDue forgets the typists whose time is up, adds a typing event to
// the batch if the list changed and the previous event went out at
// least presenceEvery ago, and arms the timer for what is due next:
// that event, or the earliest expiry.
func (r *room) typingDue() {
	ts := &r.typing
	now := r.hub.now()
	for key, t := range ts.who {
		if !t.until.After(now) {
			delete(ts.who, key)
			ts.dirty = true
		}
	}
	var next time.Time
	if ts.dirty {
		if at := ts.sent.Add(presenceEvery); at.After(now) {
			next = at
		} else {
			ts.dirty = false
			ts.sent = now
			r.lines = append(r.lines, line{stored: -1, raw: r.typingLine(typingShown)})
		}
	}
	for _, t := range ts.who {
		if next.IsZero() || t.until.Before(next) {
			next = t.until
		}
	}
	if len(ts.who) == 0 {
		ts.who = nil // a busy hour's map is not kept for a quiet room
	}
	// A timer that fires early is harmless (this runs again and re-arms),
	// so it is only replaced by an earlier one, not on every notice.
	if next.IsZero() || (ts.timer != nil && !next.Before(ts.at)) {
		return
	}
	if ts.timer != nil {
		ts.timer.Stop()
	}
	ts.gen++
	gen := ts.gen
	ts.at = next
	ts.timer = time.AfterFunc(next.Sub(now), func() { r.send(op{kind: opTypingDue, gen: gen}) })
}

// typingFired runs when the timer of generation gen fired.
func (r *room) typingFired(gen uint64) {
	if gen != r.typing.gen {
		return // stopped after it fired; its successor is armed
	}
	r.typing.timer = nil
	r.typingDue()
}

// typingLine encodes the typing event for the list as it is now, naming
// at most shown typists.
func (r *room) typingLine(shown int) []byte {
	all := make([]*typist, 0, len(r.typing.who))
	for _, t := range r.typing.who {
		all = append(all, t)
	}
	slices.SortFunc(all, func(a, b *typist) int { return cmp.Compare(a.start, b.start) })
	names := make([]string, 0, min(len(all), shown))
	for _, t := range all[:min(len(all), shown)] {
		names = append(names, t.name)
	}
	return encode(typingEvent{Type: typeTyping, Room: r.name, Users: names, Count: len(all)})
}

// stopTyping stops the timer of a room that is stopping or unloaded.
func (r *room) stopTyping() {
	if r.typing.timer != nil {
		r.typing.timer.Stop()
	}
}
