package main

// Presence: who is in a room, their grace after the last socket closes,
// the coalesced presence events, and what survives a restart. All of it
// runs on the room's writer goroutine.

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

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

func (r *room) leave(key string, m *member) {
	if m.timer != nil {
		m.timer.Stop()
	}
	delete(r.members, key)
	r.stoppedTyping(key)
	r.add(Event{Type: typeLeave, User: m.name, UserKey: key, TS: r.hub.now()}, nil)
	r.addPresence()
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
