package main

// Searching a room: the messages whose text holds what was asked, newest
// first, for the web client's search panel. Texts are as they are now:
// an edited message is found by its new text, a deleted one not at all.

import (
	"bytes"
	"context"
	"database/sql/driver"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
	"modernc.org/sqlite"
)

const (
	// searchReach is how far back a search looks, in events: a search is
	// a scan of the room's rows (no index fits "holds this text" in any
	// language), and this bounds one that finds little at about 50 ms
	// (BenchmarkSearch). Its requests are paced with the history API's
	// (HISTORY_RATE).
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

const searchSQL = `SELECT ` + eventColumns + ` FROM events
	WHERE room = ? AND id < ? AND id > (SELECT coalesce(max(id), 0) FROM events WHERE room = ?) - ?
	AND type = 'message' AND chat_holds(text, ?) ORDER BY id DESC LIMIT ?`

// Search scans the room's newest searchReach events, newest first, for
// messages whose folded text (foldRune) holds the folded query.
func (s *SQLite) Search(ctx context.Context, room, query string, before int64, limit int) ([]Event, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return s.queryEvents(ctx, room, limit, searchSQL, room, before, room, searchReach, strings.Map(foldRune, query), limit)
}

// chat_holds(text, folded) is whether text, folded, holds folded. SQLite's
// own LIKE ignores case for ASCII letters only, so "é" would not find "É"
// nor "go" a full-width "ＧＯ" typed with a Chinese keyboard. Functions are
// registered with the driver, for every connection it opens, once.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("chat_holds", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		text, _ := args[0].(string)
		folded, _ := args[1].(string)
		return holds(text, folded), nil
	})
}

// holds is whether text folded holds folded. It folds into a buffer on the
// stack, as a search calls it for every message it passes.
func holds(text, folded string) bool {
	var buf [1024]byte
	b := buf[:0]
	for _, r := range text {
		b = utf8.AppendRune(b, foldRune(r))
	}
	return bytes.Contains(b, []byte(folded))
}

// foldRune is the character a search compares r as: full-width Latin as
// ASCII and half-width katakana as full-width (width.Fold, the forms a
// Chinese or Japanese keyboard types), then its case, by Unicode's simple
// mappings (lower of upper, so "ς" and "σ" meet in "σ", "ſ" in "s").
// One character always folds to one, so a place found in the folded text
// is the same place in the text, and the web client marks it (search.js's
// foldChar, which must agree). Accents stay: "cafe" does not find "café".
func foldRune(r rune) rune {
	switch {
	case r < utf8.RuneSelf:
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	case 0x3400 <= r && r <= 0x9fff, 0xac00 <= r && r <= 0xd7a3:
		return r // CJK ideographs and Hangul, most of a Chinese or Korean text: no case, one width
	case r == 0x3000, 0xff01 <= r && r <= 0xff9f, 0xffe0 <= r && r <= 0xffee && r != 0xffe3:
		// Not half-width Hangul (U+FFA0–FFDC), which width.Fold and the
		// browser's NFKC widen to different jamo, nor "￣", which NFKC
		// makes two characters. TestBrowserSearchFold holds them to it.
		if f := width.LookupRune(r).Folded(); f != 0 {
			r = f
		}
	}
	return unicode.ToLower(unicode.ToUpper(r))
}
