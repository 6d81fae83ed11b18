package main

// A room's memory of its newest events: joins and resumes are answered
// from it when it reaches back far enough (recentAfter), so a storm of
// (re)connections costs no store reads and no encoding per socket. Each
// room bounds it in events and bytes (remember), and all rooms together
// share HistoryMemory (recentPool). Everything on a room runs on its
// writer goroutine; only the pool's counters are shared.

import (
	"cmp"
	"slices"
	"sync/atomic"
)

const (
	// recentKeep is how many of its newest events a room keeps encoded in
	// memory (and a quarter more before trimming): a whole replay, so a
	// busy room answers every resume without a store read. That is about
	// 100 KB per room with traffic; a room loaded from the store starts
	// with its newest historyOnJoin.
	recentKeep = maxReplay
	// recentBudget caps the bytes of those events: 500 ordinary messages
	// are about 100 KB, but 500 of the longest (2000 CJK characters, 6 KB
	// each) would be 3 MB per room, and one address may hold sockets in
	// SOCKETS_PER_IP rooms. A room keeps fewer, never fewer than
	// historyOnJoin, once they pass it (and a quarter more before
	// trimming); older resumes then read the store.
	recentBudget = 256 << 10
)

type recentLine struct {
	id  int64
	raw []byte
}

// recentPool counts the bytes that all loaded rooms keep in recent,
// against HistoryMemory. Each room stays within its own budget, but the
// number of rooms does not: one address may hold sockets in SOCKETS_PER_IP
// rooms, and an empty room stays loaded for minutes. Rooms update used on
// their own goroutines; squeezes counts how often one of them found all
// of them together over the limit and trimmed itself to its share, so
// that idle rooms, which remember nothing and so never check, trim too.
type recentPool struct {
	limit    int64
	used     atomic.Int64
	rooms    atomic.Int64 // loaded rooms (newRoom to the end of run)
	squeezes atomic.Uint64
}

// share is what one room may keep while all rooms together are over the
// limit: an equal part of it. No room needs to know the others. Rooms
// within their share keep what they have, so the rooms that hold the
// most give way, and once each holds at most its share the rooms
// together are within the limit again.
func (p *recentPool) share() int { return int(p.limit / max(1, p.rooms.Load())) }

func (p *recentPool) over() bool { return p.used.Load() > p.limit }

// remember appends a committed event to recent and makes it the last id.
// recent is trimmed now and then, not per event: once it holds a quarter
// more than recentKeep events or recentBudget bytes, the oldest go until
// it is within both, keeping at least historyOnJoin so that a fresh
// socket is answered from memory. When all rooms together are over
// HistoryMemory, the room keeps at most its share (see squeeze); joins
// and resumes that reach back further read the store (off the writer)
// until memory is free again. Either way, while a socket's replay is
// being read from the store nothing it will need is trimmed: the events
// committed since its read began must still be here when it comes back
// (see replayed).
func (r *room) remember(id int64, raw []byte) {
	r.lastID = id
	r.recent = append(r.recent, recentLine{id, raw})
	r.recentSize += len(raw)
	r.pool.used.Add(int64(len(raw)))
	if r.pool.over() {
		r.squeeze()
	}
	keep, budget := recentKeep, recentBudget
	if r.pinned >= 0 {
		keep = max(keep, int(id-r.pinned))
	}
	if len(r.recent) < keep+keep/4 && r.recentSize < budget+budget/4 {
		return
	}
	r.trim(keep, budget, historyOnJoin)
}

// squeeze trims the room to its share of the pool, which is over the
// limit, and tells idle rooms to do the same.
func (r *room) squeeze() {
	r.squeezed = r.pool.squeezes.Add(1)
	r.trimToShare()
}

// followSqueeze trims the room to its share if another room was squeezed
// since this one last looked (the idle tick asks): a room with no traffic
// never checks the pool, and would keep what the busy rooms need.
func (r *room) followSqueeze() {
	if s := r.pool.squeezes.Load(); s != r.squeezed {
		r.squeezed = s
		r.trimToShare()
	}
}

// trimToShare trims a room over its share to three quarters of it, so
// that a busy room under pressure trims once per quarter of its share,
// not on every event. Only what a store read under way needs is kept
// beyond it, and nothing else is kept for joins: under pressure, bytes
// come first.
func (r *room) trimToShare() {
	if share := r.pool.share(); r.recentSize > share {
		r.trim(recentKeep, share-share/4, 0)
	}
}

// trim drops the oldest events of recent until it holds at most keep and
// at most budget bytes, but never fewer than floor, nor any event after
// the pin of a store read under way.
func (r *room) trim(keep, budget, floor int) {
	if r.pinned >= 0 {
		needed := int(r.lastID - r.pinned)
		keep, floor = max(keep, needed), max(floor, needed)
	}
	drop := max(0, len(r.recent)-keep)
	size := r.recentSize
	for _, l := range r.recent[:drop] {
		size -= len(l.raw)
	}
	// Within the count, drop more for the bytes, down to the floor.
	for last := len(r.recent) - floor; drop < last && size > budget; drop++ {
		size -= len(r.recent[drop].raw)
	}
	if drop == 0 {
		return
	}
	n := copy(r.recent, r.recent[drop:])
	clear(r.recent[n:])
	r.pool.used.Add(int64(size - r.recentSize))
	r.recent, r.recentSize = r.recent[:n], size
	if n == 0 {
		r.recent = nil // squeezed: the array (up to 20 KB) goes too
	}
	r.markFloor()
}

// markFloor tells the sockets' readers where recent begins now. It only
// moves up: recent loses its oldest events here, and gains only new ones.
func (r *room) markFloor() {
	f := r.lastID + 1
	if len(r.recent) > 0 {
		f = r.recent[0].id
	}
	r.floor.Store(f)
}

// findRecent returns where event id is in recent (ids ascend), or where
// it would go.
func (r *room) findRecent(id int64) (int, bool) {
	return slices.BinarySearchFunc(r.recent, id, func(l recentLine, id int64) int { return cmp.Compare(l.id, id) })
}

// recentAfter returns the stored events a socket needs from memory: the
// newest historyOnJoin for a fresh one (after < 0), else all after the id
// after, or the newest maxReplay of them (truncated). ok is false when
// recent does not hold them: it does not reach back far enough and holds
// less than a whole replay.
func (r *room) recentAfter(after int64) (lines []recentLine, truncated, ok bool) {
	complete := len(r.recent) == 0 && r.lastID == 0 || len(r.recent) > 0 && r.recent[0].id == 1
	switch {
	case after < 0:
		if complete || len(r.recent) >= historyOnJoin {
			return r.recent[max(0, len(r.recent)-historyOnJoin):], false, true
		}
		return nil, false, false
	case after >= r.lastID:
		return nil, false, true
	}
	i, _ := r.findRecent(after + 1)
	reaches := len(r.recent) > 0 && r.recent[0].id <= after+1
	switch {
	case reaches && len(r.recent)-i <= maxReplay:
		return r.recent[i:], false, true
	case len(r.recent) >= maxReplay:
		return r.recent[len(r.recent)-maxReplay:], true, true
	}
	return nil, false, false
}
