package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// Unread counts for the rooms a browser was in lately: the page asks
// for them all in one request, with the last id it read in each (kept in
// the browser, see rooms.js), and offers them in its room box. Each count
// comes with the newest id the room had when it was counted, so that news
// pushed over the page's socket (news.go) is added only when it came
// later.
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
// a short walk of the primary key from that id on. With it, in the same
// statement and so the same snapshot, the room's newest id.
const unreadSQL = `SELECT
	(SELECT count(*) FROM (SELECT 1 FROM events
		WHERE room = ?1 AND id > ?2 AND type = 'message' AND user <> ?3 AND (text <> '' OR image <> '')
		LIMIT ?4)),
	(SELECT coalesce(max(id), 0) FROM events WHERE room = ?1)`

// Unread counts room's messages after id by anyone but user, up to most,
// and says the newest id the count covers.
func (s *SQLite) Unread(ctx context.Context, room, user string, after int64, most int) (n int, last int64, err error) {
	err = s.r.QueryRowContext(ctx, unreadSQL, room, after, user, most).Scan(&n, &last)
	return n, last, err
}

// serveUnread answers GET /api/unread?seen={room}:{id}&seen=…: for each
// room, how many messages from others came after id (at most unreadCap),
// and the room's newest id then.
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
	counts, lasts := make(map[string]int, len(seen)), make(map[string]int64, len(seen))
	for _, v := range seen {
		name, id, _ := strings.Cut(v, ":")
		room, ok := normalizeRoom(name)
		after, err := strconv.ParseInt(id, 10, 64)
		if !ok || err != nil || after < 0 {
			writeJSONError(w, errorf(codeInvalid, "seen is room:id, with a room name and the last message id read there (0: none); %q is not.", v))
			return
		}
		n, last, err := s.hub.store.Unread(r.Context(), room, u.name, after, unreadCap)
		if err != nil {
			s.hub.log.Error("unread", "err", err)
			writeJSONError(w, err)
			return
		}
		counts[room], lasts[room] = n, last
	}
	writeJSON(w, http.StatusOK, map[string]any{"unread": counts, "last": lasts})
}
