package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestLoginNames(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	tests := []struct {
		name, input string
		status      int
		want        string // display name on success, reason fragment on failure
	}{
		{"plain", "alice", 303, "alice"},
		{"chinese", "小明", 303, "小明"},
		{"fullwidth folded", "ＢＯＢ", 303, "BOB"},
		{"spaces collapsed", "  mary   jane ", 303, "mary jane"},
		{"punctuation allowed", "a.b_c-d", 303, "a.b_c-d"},
		{"empty", "   ", 400, "Enter a nickname"},
		{"markup", "<b>x</b>", 400, "Use only letters"},
		{"angle bracket", "a<b", 400, "Use only letters"},
		{"quote", `x"y`, 400, "Use only letters"},
		{"zero width", "ab\u200bcd", 400, "Use only letters"},
		{"bidi override", "ab\u202ecd", 400, "Use only letters"},
		{"control", "ab\x07cd", 400, "Use only letters"},
		{"emoji", "cat😀", 400, "Use only letters"},
		{"too long", strings.Repeat("x", 25), 400, "1 to 24"},
		{"24 is fine", strings.Repeat("é", 24), 303, strings.Repeat("é", 24)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := ts.postLogin(t, tc.input, "")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			body, _ := io.ReadAll(resp.Body)
			if tc.status != 303 {
				if !strings.Contains(string(body), html.EscapeString(tc.want)) {
					t.Errorf("page does not give the reason %q:\n%s", tc.want, body)
				}
				if !strings.Contains(string(body), `value="`+html.EscapeString(tc.input)+`"`) {
					t.Errorf("page does not keep the typed name %q", tc.input)
				}
				return
			}
			ck := resp.Cookies()[0]
			_, w := ts.MustDial(t, ck, "lobby", -1)
			if w.User != tc.want {
				t.Errorf("user %q, want %q", w.User, tc.want)
			}
		})
	}
}

// A login form that cannot be read gets the login page back with the
// reason, in the reader's language, and still goes to the room the
// person was going to (its hidden next was in the part not read).
func TestLoginFormUnreadable(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	from := ts.URL + "/?next=" + url.QueryEscape("/r/kitchen")
	for _, tc := range []struct {
		name, body, lang string
		status           int
		want             string
	}{
		{"pasted page", "next=%2Fr%2Fkitchen&name=" + strings.Repeat("x", maxLoginForm), "en", 413, "far too long for a nickname"},
		{"pasted page, Chinese", "next=%2Fr%2Fkitchen&name=" + strings.Repeat("x", maxLoginForm), "zh-CN", 413, "这作为昵称太长了"},
		{"malformed", "next=%2Fr%2Fkitchen&name=%zz", "en", 400, "The form could not be read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", ts.URL+"/login", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", ts.URL)
			req.Header.Set("Referer", from)
			req.Header.Set("Accept-Language", tc.lang)
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			for _, want := range []string{tc.want, `name="next" value="/r/kitchen"`, `name="room" value="kitchen"`} {
				if !strings.Contains(string(body), want) {
					t.Errorf("page lacks %q:\n%s", want, body)
				}
			}
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("status %d %s, want %d and the login page", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
			}
		})
	}
}

func TestLoginDuplicateIsCaseInsensitive(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ts.MustLogin(t, "Alice")
	for _, n := range []string{"alice", "ALICE", "ａｌｉｃｅ"} {
		resp := ts.postLogin(t, n, "")
		if resp.StatusCode != http.StatusConflict {
			t.Fatalf("%q: status %d, want 409", n, resp.StatusCode)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "in use") {
			t.Errorf("%q: 409 page does not say why", n)
		}
	}
}

func TestLoginRedirectsAndCookie(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	tests := []struct{ next, want string }{
		{"", "/r/lobby"},
		{"/r/xyz", "/r/xyz"},
		{"//evil.example/r/x", "/r/lobby"},
		{"///evil.example/r/x", "/r/lobby"}, // a browser reads it as //evil.example
		{"/r/x\r\nSet-Cookie: a=b", "/r/lobby"},
		{"/\\evil.example", "/r/lobby"},
		{"https://evil.example/", "/r/lobby"},
		{"javascript:alert(1)", "/r/lobby"},
		{"/", "/r/lobby"},
		{"/.", "/r/lobby"},    // "/" again, as a browser resolves it
		{"/r/..", "/r/lobby"}, // likewise
	}
	for i, tc := range tests {
		resp := ts.postLogin(t, "user"+string(rune('a'+i)), tc.next)
		if got := resp.Header.Get("Location"); resp.StatusCode != 303 || got != tc.want {
			t.Errorf("next=%q: %d %q, want 303 %q", tc.next, resp.StatusCode, got, tc.want)
		}
	}

	resp := ts.postLogin(t, "plainhttp", "")
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Secure {
		t.Errorf("cookie over http: HttpOnly=%v SameSite=%v Secure=%v", ck.HttpOnly, ck.SameSite, ck.Secure)
	}
	for i, proto := range []string{"https", "HTTPS"} {
		resp = ts.postLogin(t, fmt.Sprint("proxied", i), "", "X-Forwarded-Proto", proto)
		if ck := sessionCookie(resp); ck == nil || !ck.Secure {
			t.Errorf("cookie behind an HTTPS proxy (X-Forwarded-Proto: %s) is not Secure", proto)
		}
	}
}

func TestCrossSitePostsRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "victim")
	tests := []struct {
		name string
		hdr  []string
		want int
	}{
		{"foreign origin", []string{"Origin", "http://evil.example"}, 403},
		{"sec-fetch-site cross-site", []string{"Sec-Fetch-Site", "cross-site"}, 403},
		{"same origin", []string{"Origin", ts.URL, "Sec-Fetch-Site", "same-origin"}, 303},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if resp := ts.postLogin(t, "x"+strings.ReplaceAll(tc.name, " ", ""), "", tc.hdr...); resp.StatusCode != tc.want {
				t.Errorf("login: status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	// A cross-site logout must not end the victim's session.
	if resp := ts.postLogout(t, ck, "http://evil.example"); resp.StatusCode != 403 {
		t.Errorf("cross-site logout: status %d, want 403", resp.StatusCode)
	}
	if r, _ := ts.get(t, "/r/lobby", ck); r.StatusCode != 200 {
		t.Errorf("session ended by a cross-site POST")
	}
}

func TestPages(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	tests := []struct {
		name     string
		path     string
		ck       *http.Cookie
		status   int
		location string
	}{
		{"login page", "/", nil, 200, ""},
		{"login page with session", "/", ck, 303, "/r/lobby"},
		{"room without session", "/r/games", nil, 303, "/?next=%2Fr%2Fgames"},
		{"room in capitals", "/r/Games", ck, 301, "/r/games"},
		{"room in capitals without session", "/r/Games", nil, 301, "/r/games"},
		{"greek room in capitals", "/r/" + url.PathEscape("ΟΔΟΣ"), ck, 301, "/r/" + url.PathEscape("οδοσ")},
		{"room not in NFC", "/r/" + url.PathEscape("cafe\u0301"), ck, 301, "/r/" + url.PathEscape("caf\u00e9")},
		{"room", "/r/games", ck, 200, ""},
		{"chinese room", "/r/%E8%81%8A%E5%A4%A9", ck, 200, ""},
		{"invalid room", "/r/bad%20room", ck, 404, ""},
		{"room too long", "/r/" + strings.Repeat("a", 33), ck, 404, ""},
		{"healthz", "/healthz", nil, 200, ""},
		{"unknown", "/nope", nil, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.get(t, tc.path, tc.ck)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if got := resp.Header.Get("Location"); got != tc.location {
				t.Errorf("Location %q, want %q", got, tc.location)
			}
			h := resp.Header
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("CSP %q", csp)
			}
			// X-Frame-Options for browsers older than frame-ancestors.
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" || h.Get("Cross-Origin-Opener-Policy") != "same-origin" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("missing security headers: %v", h)
			}
			if h.Get("Strict-Transport-Security") != "" {
				t.Errorf("HSTS over plain HTTP: %q", h.Get("Strict-Transport-Security"))
			}
			// Behind a proxy that terminated TLS (Fly), HSTS is on.
			resp, _ = ts.get(t, tc.path, tc.ck, "X-Forwarded-Proto", "https")
			if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "max-age=31536000" {
				t.Errorf("HSTS over HTTPS: %q", hsts)
			}
			if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				// A page may carry a name or a room: never kept by the
				// browser's cache, or a shared computer's next user would
				// find it there (back button after a logout, say).
				if tc.location == "" && h.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", h.Get("Cache-Control"))
				}
				if strings.Contains(body, "<script>") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
					t.Errorf("page has inline script or a third-party URL:\n%s", body)
				}
			}
		})
	}
	if resp, body := ts.get(t, "/healthz", nil); strings.TrimSpace(body) != "ok" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("healthz body %q, Cache-Control %q; want ok, no-store (a cached ok would hide a failure)", body, resp.Header.Get("Cache-Control"))
	}
}

func TestHealthzReportsStoreFailure(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ts.store.Close()
	resp, body := ts.get(t, "/healthz", nil)
	if resp.StatusCode != http.StatusServiceUnavailable || body != "store unavailable\n" {
		t.Errorf("healthz with a closed store: %d %q, want 503 saying the store is unavailable", resp.StatusCode, body)
	}
}

func TestStaticAssetsCache(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	_, page := ts.get(t, "/", nil)
	i := strings.Index(page, "/static/style.css?v=")
	if i < 0 {
		t.Fatal("login page does not link a versioned stylesheet")
	}
	versioned := page[i : i+strings.IndexByte(page[i:], '"')]
	resp, body := ts.get(t, versioned, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || len(body) == 0 {
		t.Fatalf("versioned asset: %d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	resp, _ = ts.get(t, "/static/style.css", nil, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("revalidation: %d %q, want 304 no-cache", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	// A version that is not this file's (a page from before a deploy
	// asking for its own): the file as it is now, not to be kept.
	resp, _ = ts.get(t, "/static/style.css?v=0123456789ab", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("another version: %d %q, want 200 no-cache", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := ts.get(t, "/static/nothing.js", nil); resp.StatusCode != 404 {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}

	// The chat page's modules, and every import among them, carry one
	// version, so that all of them are cached forever.
	_, page = ts.get(t, "/r/lobby", ts.MustLogin(t, "alice"))
	m := regexp.MustCompile(`<script type="module" src="(/static/chat\.js\?v=(\w+))"></script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the chat page does not load a versioned module")
	}
	seen := map[string]bool{}
	for todo := []string{m[1]}; len(todo) > 0; {
		u := todo[0]
		todo = todo[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		resp, body := ts.get(t, u, nil)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
			t.Errorf("%s: %d %q %q", u, resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
		}
		for _, imp := range regexp.MustCompile(`(?:from|import)\s+"\./([^"]+)"`).FindAllStringSubmatch(body, -1) {
			if !strings.HasSuffix(imp[1], ".js?v="+m[2]) {
				t.Errorf("%s imports %q, want the version %s", u, imp[1], m[2])
			}
			todo = append(todo, "/static/"+imp[1])
		}
	}
	// All but the login page's one and the service worker (sw.js).
	if all, _ := fs.Glob(embedded, "embed/static/*.js"); len(seen) != len(all)-2 {
		t.Errorf("found %d modules from chat.js, want all %d of the chat page's", len(seen), len(all)-2)
	}
}

func TestHistoryAPI(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "lobby", -1)
	for i := range 10 {
		c.say("m"+string(rune('0'+i)), "")
	}
	var last ev
	for range 10 {
		last = c.MustNextOf(typeMessage)
	}
	// ids: 1 is alice's join, 2..11 the messages.
	if last.ID != 11 {
		t.Fatalf("last id %d, want 11", last.ID)
	}
	page := func(q string) []ev {
		t.Helper()
		resp, body := ts.get(t, "/api/rooms/lobby/messages"+q, ck)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s", q, resp.StatusCode, body)
		}
		var out struct{ Events []ev }
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatal(err)
		}
		return out.Events
	}
	ids := func(es []ev) (out []int64) {
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	if got := ids(page("")); len(got) != 11 || got[0] != 1 || got[10] != 11 {
		t.Errorf("default page: %v", got)
	}
	if got := ids(page("?before=8&limit=1")); !slices.Equal(got, []int64{7}) {
		t.Errorf("before=8 limit=1: %v, want [7]", got)
	}
	if got := ids(page("?before=8&limit=3")); len(got) != 3 || got[0] != 5 || got[2] != 7 {
		t.Errorf("before=8 limit=3: %v, want [5 6 7]", got)
	}
	if got := page("?before=3&limit=200"); len(got) != 2 || got[1].Type != typeMessage || got[1].Text != "m0" || got[0].Type != typeJoin {
		t.Errorf("before=3: %+v", got)
	}
	// after pages towards the newest: the oldest events after an id.
	if got := ids(page("?after=4&limit=3")); !slices.Equal(got, []int64{5, 6, 7}) {
		t.Errorf("after=4 limit=3: %v, want [5 6 7]", got)
	}
	if got := ids(page("?after=0&limit=2")); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("after=0 limit=2: %v, want [1 2]", got)
	}
	if got := ids(page("?after=9")); !slices.Equal(got, []int64{10, 11}) {
		t.Errorf("after=9: %v, want [10 11]", got)
	}
	if got := page("?after=11"); len(got) != 0 {
		t.Errorf("after the newest: %+v, want none", got)
	}
	if got := page("?before=1"); len(got) != 0 {
		t.Errorf("before the first: %+v, want none", got)
	}
	for _, q := range []string{"?limit=0", "?limit=201", "?limit=x", "?before=-1", "?before=abc", "?after=-1", "?after=x", "?after=2&before=8"} {
		resp, body := ts.get(t, "/api/rooms/lobby/messages"+q, ck)
		MustErrorJSON(t, q, resp, body, http.StatusBadRequest, codeInvalid)
	}
	// What the API answers is one person's view: never cached.
	if resp, _ := ts.get(t, "/api/rooms/lobby/messages", ck); resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("history page's Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	resp, body := ts.get(t, "/api/rooms/lobby/messages", nil)
	MustErrorJSON(t, "without session", resp, body, http.StatusUnauthorized, codeUnauthorized)
	resp, body = ts.get(t, "/api/rooms/no%20pe/messages", ck)
	MustErrorJSON(t, "invalid room", resp, body, http.StatusBadRequest, codeInvalid)
}

// Room names are letters and digits of any script (with the combining
// marks some scripts write vowels with), - and _, and case-insensitive:
// the page, the socket and the history API agree on the canonical name.
func TestRoomNames(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	tests := []struct{ name, room, want string }{
		{"plain", "general", "general"},
		{"digits, hyphen and underscore", "team-2_ops", "team-2_ops"},
		{"other scripts' digits", "٣٤", "٣٤"},
		{"upper case", "General", "general"},
		{"greek capitals", "ΟΔΟΣ", "οδοσ"},
		{"chinese", "闲聊", "闲聊"},
		{"thai, with marks", "สวัสดี", "สวัสดี"},
		{"hindi, with marks", "हिन्दी", "हिन्दी"},
		{"decomposed", "cafe\u0301", "café"},
		{"32", strings.Repeat("r", 32), strings.Repeat("r", 32)},
		{"space", "a b", ""},
		{"starts with a mark", "\u0301x", ""},
		{"punctuation", "a.b", ""},
		{"emoji", "cat😀", ""},
		{"33", strings.Repeat("r", 33), ""},
		{"markup", "<b>x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := "/r/" + url.PathEscape(tc.room)
			resp, body := ts.get(t, path, ck)
			if tc.want == "" {
				// A page that says so, shows the link's name as text
				// and offers the lobby.
				if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not to a room:") ||
					!strings.Contains(body, `<span class="bad-path">`+html.EscapeString(tc.room)+`</span>`) || !strings.Contains(body, `href="/r/lobby"`) {
					t.Errorf("%s: status %d, want 404 and a page naming the room:\n%s", path, resp.StatusCode, body)
				}
				ts.MustRefuseDial(t, ck, tc.room, http.StatusBadRequest, codeInvalid)
				return
			}
			if tc.room != tc.want {
				// The room's page is at its own address.
				canonical := "/r/" + url.PathEscape(tc.want)
				if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != canonical {
					t.Fatalf("%s: status %d to %q, want 301 to %s", path, resp.StatusCode, resp.Header.Get("Location"), canonical)
				}
				resp, body = ts.get(t, canonical, ck)
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-room="`+tc.want+`"`) {
				t.Fatalf("%s: status %d, want 200 for room %q", path, resp.StatusCode, tc.want)
			}
			c, w := ts.MustDial(t, ck, tc.room, -1)
			c.conn.Close()
			if w.Room != tc.want {
				t.Errorf("socket to %q is in room %q, want %q", tc.room, w.Room, tc.want)
			}
		})
	}
	if _, body := ts.get(t, "/r/a%20b", nil, "Accept-Language", "zh-CN"); !strings.Contains(body, "这个链接指向的不是房间") {
		t.Errorf("the page for a bad room is not in Chinese:\n%s", body)
	}
}

// Addresses no route serves get a page that says so and offers the way
// on (the history API's clients get its JSON error), rather than the bare
// text of http.NotFound. /login and /logout asked for with a GET (Enter in
// the address bar after a refused login) go to the login page, and a GET
// does not log anyone out.
func TestNotFound(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	for _, tc := range []struct{ name, path, want string }{
		{"nothing", "/nope", `There is no page at this address: <span class="bad-path">/nope</span>`},
		{"markup", "/%3Cb%3Ex", `There is no page at this address: <span class="bad-path">/&lt;b&gt;x</span>`},
		{"no room", "/r/", `This link is not to a room: <span class="bad-path"></span>`},
		{"two rooms", "/r/a/b", `This link is not to a room: <span class="bad-path">a/b</span>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.get(t, tc.path, nil)
			if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, tc.want) || !strings.Contains(body, `href="/r/lobby"`) ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
				t.Errorf("status %d (%s), want a 404 page with %s and the lobby:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.want, body)
			}
		})
	}
	if _, body := ts.get(t, "/nope", nil, "Accept-Language", "zh-CN"); !strings.Contains(body, "这个地址没有页面") {
		t.Errorf("the 404 page is not in Chinese:\n%s", body)
	}
	resp, body := ts.get(t, "/api/nope", ck)
	MustErrorJSON(t, "/api/nope", resp, body, http.StatusNotFound, codeNotFound)
	// HEAD answers as GET does; another method gets the bare 404.
	for method, page := range map[string]bool{"HEAD": true, "POST": false} {
		resp, _ := ts.request(t, method, "/nope", nil, nil)
		if resp.StatusCode != http.StatusNotFound || strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") != page {
			t.Errorf("%s /nope: %s (%s), want 404 with the page: %v", method, resp.Status, resp.Header.Get("Content-Type"), page)
		}
	}

	for _, path := range []string{"/login", "/logout"} {
		resp, _ := ts.get(t, path, ck)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Errorf("GET %s: %d to %q, want 303 to /", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, _ := ts.get(t, "/r/lobby", ck); resp.StatusCode != http.StatusOK {
		t.Errorf("after GET /logout the session gets %d for the chat page, want 200", resp.StatusCode)
	}
}
