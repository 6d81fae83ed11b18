package main

// News in other rooms, pushed. A socket is one room's, but it may name
// up to unreadRooms others to watch (/ws?room=lobby&watch=dev&watch=ops),
// the rooms its page offers in the room box. Each commit in one of them
// that holds messages by someone other than the socket's user then
// reaches it as one small event:
//
//	{"type":"news","room":"dev","id":130,"count":2}
//
// count is how many such messages the commit held and id the newest of
// them, so a page adds count to what GET /api/unread last told it (the
// counts it answers come with the newest id they cover) unless id is at
// or below that. The counts stay the unread API's: a delete or an edit
// is not pushed, and the next ask sets the count right.
//
// The watching sockets are kept here, by room, and not in the client: a
// field per socket would be paid by every idle connection.

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// watchers are the sockets that watch rooms other than their own.
type watchers struct {
	n     atomic.Int64 // sockets watching: a commit looks no further while 0
	mu    sync.Mutex
	rooms map[string]map[*client]struct{} // by canonical room name
	of    map[*client][]string            // what each watching socket named
}

// watchRooms reads the watch parameters of a socket's URL: up to
// unreadRooms room names, none of them the socket's own room (dropped,
// as are repeats).
func watchRooms(values []string, own string) ([]string, error) {
	if len(values) > unreadRooms {
		return nil, errorf(codeInvalid, "watch names at most %d rooms.", unreadRooms)
	}
	var rooms []string
	for _, v := range values {
		name, ok := normalizeRoom(v)
		if !ok {
			return nil, errorf(codeInvalid, "watch names a room to hear of new messages in; %q is not a room name.", v)
		}
		if name != own && !slices.Contains(rooms, name) {
			rooms = append(rooms, name)
		}
	}
	return rooms, nil
}

// add starts telling c of new messages in rooms.
func (w *watchers) add(c *client, rooms []string) {
	if len(rooms) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rooms == nil {
		w.rooms, w.of = map[string]map[*client]struct{}{}, map[*client][]string{}
	}
	for _, r := range rooms {
		if w.rooms[r] == nil {
			w.rooms[r] = map[*client]struct{}{}
		}
		w.rooms[r][c] = struct{}{}
	}
	w.of[c] = rooms
	w.n.Add(1)
}

// remove stops telling c, if it was told anything.
func (w *watchers) remove(c *client) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	rooms, ok := w.of[c]
	if !ok {
		return
	}
	for _, r := range rooms {
		delete(w.rooms[r], c)
		if len(w.rooms[r]) == 0 {
			delete(w.rooms, r)
		}
	}
	delete(w.of, c)
	w.n.Add(-1)
}

// watching appends the sockets watching room to buf.
func (w *watchers) watching(room string, buf []*client) []*client {
	if w.n.Load() == 0 {
		return buf
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for c := range w.rooms[room] {
		buf = append(buf, c)
	}
	return buf
}

// tellWatchers sends news of the committed batch's messages to the
// sockets watching the room, each counting only others' messages. A
// socket whose welcome is not queued yet is skipped (welcome stays its
// first event); its page asks for the counts when it is ready.
func (r *room) tellWatchers() {
	if !slices.ContainsFunc(r.batch, func(e Event) bool { return e.Type == typeMessage }) {
		return // joins, leaves, changes: no news, and no lock taken
	}
	r.watchBuf = r.hub.watchers.watching(r.name, r.watchBuf[:0])
	for _, c := range r.watchBuf {
		var n int
		var last int64
		for i := range r.batch {
			if e := &r.batch[i]; e.Type == typeMessage && e.User != c.user.name {
				n, last = n+1, e.ID
			}
		}
		if n > 0 && c.gateOpen.Load() {
			c.write(newsFrame(r.name, last, n))
		}
	}
	clear(r.watchBuf) // hold no socket past its end
}

// newsFrame is the news event. A room name needs no JSON escaping: it
// is letters, digits, marks, '-' and '_' (see normalizeRoom).
func newsFrame(room string, id int64, count int) []byte {
	b := make([]byte, 0, 64+len(room))
	b = append(b, `{"type":"news","room":"`...)
	b = append(b, room...)
	b = append(b, `","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(count), 10)
	return append(b, '}')
}
