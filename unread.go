package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// Unread counts for the rooms a browser was in lately: the page asks
// for them all in one request, with the last id it read in each (kept in
// the browser, see rooms.js), and offers them in its room box. They are
// asked for, not pushed: a socket is one room's, and counts that are a
// minute old are as good for deciding where to go next.
const (
	// unreadRooms is how many rooms one request may name: the page keeps
	// ten, one of them open.
	unreadRooms = 10
	// unreadCap bounds each count, and so each room's read: a page says
	// "100+" rather than how many more.
	unreadCap = 100
)

// unreadSQL counts the messages after an id that are someone else's and
// not deleted (no text and no picture left), at most unreadCap of them:
// a short walk of the primary key from that id on.
const unreadSQL = `SELECT count(*) FROM (SELECT 1 FROM events
	WHERE room = ? AND id > ? AND type = 'message' AND user <> ? AND (text <> '' OR image <> '')
	LIMIT ?)`

// Unread counts room's messages after id by anyone but user, up to most.
func (s *SQLite) Unread(ctx context.Context, room, user string, after int64, most int) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, unreadSQL, room, after, user, most).Scan(&n)
	return n, err
}

// serveUnread answers GET /api/unread?seen={room}:{id}&seen=…: for each
// room, how many messages from others came after id (at most unreadCap).
// It is one request of the history API's pace, whatever it names.
func (s *server) serveUnread(w http.ResponseWriter, r *http.Request) {
	u := s.paced(w, r)
	if u == nil {
		return
	}
	seen := r.URL.Query()["seen"]
	if len(seen) == 0 || len(seen) > unreadRooms {
		writeJSONError(w, errorf(codeInvalid, "seen names 1 to %d rooms, each as room:id.", unreadRooms))
		return
	}
	counts := make(map[string]int, len(seen))
	for _, v := range seen {
		name, id, _ := strings.Cut(v, ":")
		room, ok := normalizeRoom(name)
		after, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || after < 0 {
			writeJSONError(w, errorf(codeInvalid, "seen is room:id, with a room name and the last message id read there (0: none); %q is not.", v))
			return
		}
		n, err := s.hub.store.Unread(r.Context(), room, u.name, after, unreadCap)
		if err != nil {
			s.hub.log.Error("unread", "err", err)
			writeJSONError(w, err)
			return
		}
		counts[room] = n
	}
	writeJSON(w, http.StatusOK, map[string]any{"unread": counts})
}
