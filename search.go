package main

// Searching a room: the messages whose text holds what was asked, newest
// first, for the web client's search panel. Texts are as they are now:
// an edited message is found by its new text, a deleted one not at all.

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"
)

const (
	// searchReach is how far back a search looks, in events: a search is
	// a scan of the room's rows (no index fits "holds this text" in any
	// language), and this bounds it at a few tens of milliseconds. Its
	// requests are paced with the history API's (HISTORY_RATE).
	searchReach = 100_000
	maxQueryLen = 100 // characters
	searchPage  = 20
)

// serveSearch answers GET /api/rooms/{room}/search?q=…&before=…&limit=….
func (s *server) serveSearch(w http.ResponseWriter, r *http.Request) {
	room, before, ok := s.apiRequest(w, r)
	if !ok {
		return
	}
	query := strings.TrimSpace(r.URL.Query().Get("q"))
	if n := utf8.RuneCountInString(query); n == 0 || n > maxQueryLen {
		writeJSONError(w, errorf(codeInvalid, "q is what to search for: 1 to 100 characters."))
		return
	}
	limit, ok := limitParam(w, r, searchPage, 100)
	if !ok {
		return
	}
	evs, err := s.hub.store.Search(r.Context(), room, query, before, limit)
	if err != nil {
		s.hub.log.Error("search", "err", err)
		writeJSONError(w, err)
		return
	}
	// more: a full page may have more before it.
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "more": len(evs) == limit})
}

// likeEscaper makes a query match itself in LIKE: % and _ are its
// wildcards, and \ the escape this file's statement names.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Search scans the room's newest searchReach events, newest first.
// LIKE ignores case for ASCII letters only: "go" finds "Go", but "é"
// does not find "É".
func (s *SQLite) Search(ctx context.Context, room, query string, before int64, limit int) ([]Event, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+eventColumns+` FROM events
		WHERE room = ? AND id < ? AND id > (SELECT coalesce(max(id), 0) FROM events WHERE room = ?) - ?
		AND type = 'message' AND text LIKE ? ESCAPE '\' ORDER BY id DESC LIMIT ?`,
		room, before, room, searchReach, "%"+likeEscaper.Replace(query)+"%", limit)
	if err != nil {
		return nil, err
	}
	return scanEvents(rows, room, limit)
}
