package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

//go:embed embed
var embedded embed.FS

// csp allows nothing but our own origin: no inline script, no third party.
// connect-src 'self' covers ws: and wss: to the same host. blob: shows a
// picture from the browser's own copy while it uploads (pictures.js).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'"

// assets holds the embedded static files with a content hash each: embedded
// files have no modification time, so caching works by ETag and by
// versioned URLs (?v=hash) that may be cached forever.
//
// The chat page's script is ES modules that import each other. They share
// one version, the hash of all of them, and their imports carry it, so a
// page's modules are all cached forever and all replaced together: an
// import without it would be revalidated on every page load, one round
// trip more on a phone, and a version per module could not name modules
// that import each other.
type assets struct {
	body map[string][]byte
	hash map[string]string
}

// moduleImport matches the specifier of an import between our modules,
// with names (import {…} from "./x.js") or for its effects (import
// "./x.js"): a module imported without the version would be a second
// instance of it, with its own state and its own listeners.
var moduleImport = regexp.MustCompile(`((?:from|import)\s+"\./[\w-]+\.js)"`)

func loadAssets() (*assets, error) {
	sub, err := fs.Sub(embedded, "embed/static")
	if err != nil {
		return nil, err
	}
	a := &assets{body: map[string][]byte{}, hash: map[string]string{}}
	modules := sha256.New()
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.body[p], a.hash[p] = b, hex.EncodeToString(sum[:6])
		if path.Ext(p) == ".js" {
			fmt.Fprintf(modules, "%s\x00%x\x00", p, sum) // WalkDir goes in lexical order
		}
		return nil
	})
	version := hex.EncodeToString(modules.Sum(nil)[:6])
	for p, b := range a.body {
		if path.Ext(p) == ".js" {
			a.body[p] = moduleImport.ReplaceAll(b, []byte(`$1?v=`+version+`"`))
			a.hash[p] = version
		}
	}
	return a, err
}

// url returns the versioned URL of a static file, for templates.
func (a *assets) url(name string) string {
	return "/static/" + name + "?v=" + a.hash[name]
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	h, ok := a.hash[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", `"`+h+`"`)
	if r.URL.Query().Get("v") == h {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache") // revalidate with the ETag
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body[name]))
}

type server struct {
	hub    *Hub
	assets *assets
	pages  *template.Template
}

func newServer(h *Hub) (*server, error) {
	a, err := loadAssets()
	if err != nil {
		return nil, err
	}
	t, err := template.New("").Funcs(template.FuncMap{"asset": a.url, "t": translate}).ParseFS(embedded, "embed/*.html")
	if err != nil {
		return nil, err
	}
	return &server{hub: h, assets: a, pages: t}, nil
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.serveLogin)
	mux.HandleFunc("POST /login", s.serveDoLogin)
	mux.HandleFunc("POST /logout", s.serveLogout)
	mux.HandleFunc("GET /r/{room}", s.serveRoom)
	mux.HandleFunc("GET /ws", s.hub.serveWS)
	mux.HandleFunc("GET /api/rooms/{room}/messages", s.serveHistory)
	mux.HandleFunc("GET /api/rooms/{room}/search", s.serveSearch)
	mux.HandleFunc("GET /api/unread", s.serveUnread)
	mux.HandleFunc("POST /api/rooms/{room}/images", s.serveUpload)
	mux.HandleFunc("GET /images/{id}", s.serveImage)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /static/{file}", s.assets.serve)
	// A login the server refused leaves /login in the address bar, and
	// Enter there asks for it with a GET: the form is at /. Logging out
	// takes a POST (a link or an image must not log anyone out).
	mux.Handle("GET /login", http.RedirectHandler("/", http.StatusSeeOther))
	mux.Handle("GET /logout", http.RedirectHandler("/", http.StatusSeeOther))
	mux.HandleFunc("/", s.serveNotFound)

	// Cross-site POSTs (by Sec-Fetch-Site, or Origin against Host) are
	// refused with 403 before any handler runs.
	cop := http.NewCrossOriginProtection()
	for _, o := range s.hub.cfg.AllowedOrigins {
		cop.AddTrustedOrigin(o)
	}
	return securityHeaders(cop.Handler(mux))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		// No other site's window gets a handle on ours (window.opener).
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if isHTTPS(r) {
			// Once a browser has reached us over HTTPS, it never tries
			// plain HTTP again (where the cookie's Secure flag and the
			// page could be stripped). Browsers ignore it over HTTP,
			// so a forged X-Forwarded-Proto there changes nothing.
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

type loginPage struct {
	Lang      string
	Name      string
	Room      string // the room field, prefilled from next=/r/{room}
	Next      string
	Notice    string
	Error     string // about the name
	RoomError string
}

// newLoginPage prefills the room field from a next of the form /r/{room}.
func newLoginPage(r *http.Request, next string) loginPage {
	p := loginPage{Lang: pageLang(r), Next: next}
	if rest, ok := strings.CutPrefix(next, "/r/"); ok {
		if room, ok := normalizeRoom(rest); ok && room != lobby {
			p.Room = room
		}
	}
	return p
}

func (s *server) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.pages.ExecuteTemplate(w, name, data); err != nil {
		s.hub.log.Error("rendering page", "page", name, "err", err)
	}
}

func (s *server) serveLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if s.hub.sessionUser(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := newLoginPage(r, next)
	if r.URL.Query().Get("ended") != "" {
		p.Notice = "Your session has ended. Log in again."
	}
	s.render(w, http.StatusOK, "login.html", p)
}

func (s *server) serveDoLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginForm)
	if err := r.ParseForm(); err != nil {
		s.refuseForm(w, r, err)
		return
	}
	name, next := r.PostForm.Get("name"), safeNext(r.PostForm.Get("next"))
	p := newLoginPage(r, next)
	p.Name = name
	// The optional room field wins over next: it is what the person typed.
	if raw := strings.TrimSpace(r.PostForm.Get("room")); raw != "" {
		p.Room = raw
		room, ok := normalizeRoom(raw)
		if !ok {
			p.RoomError = "A room name has 1 to 32 letters, digits, '-' or '_'."
			s.render(w, http.StatusBadRequest, "login.html", p)
			return
		}
		next = "/r/" + room
	}
	if s.hub.closing.Load() {
		p.Error = "The server is restarting; try again in a moment."
		s.render(w, http.StatusServiceUnavailable, "login.html", p)
		return
	}
	// Every attempt counts, refused ones too: the limit is there against
	// floods of sessions and against trying names in bulk.
	if ok, wait := s.hub.limits.login(clientAddr(r, s.hub.cfg.ClientIPHeader)); !ok {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		p.Error = "Too many logins from your network; wait a moment and try again."
		s.render(w, http.StatusTooManyRequests, "login.html", p)
		return
	}
	id, err := s.hub.login(r.Context(), name, s.hub.sessionUser(r))
	if err != nil {
		p.Error = userMessage(err)
		s.render(w, statusOf(err), "login.html", p)
		return
	}
	s.hub.setSessionCookie(w, r, id)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// maxLoginForm bounds the login form's body. A nickname field holding a
// pasted page goes over it, and gets refuseForm's page.
const maxLoginForm = 16 << 10

// refuseForm answers a login form that could not be read, too large or
// malformed, with the login page and what went wrong, rather than bare
// text. The form's own next was in the part not read, so the room the
// person was going to comes from the page they posted from.
func (s *server) refuseForm(w http.ResponseWriter, r *http.Request, err error) {
	next := ""
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		next = ref.Query().Get("next")
	}
	p := newLoginPage(r, safeNext(next))
	status := http.StatusBadRequest
	p.Error = "The form could not be read; try again."
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
		p.Error = "That is far too long for a nickname, which has 1 to 24 characters."
	}
	s.render(w, status, "login.html", p)
}

func (s *server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if u := s.hub.sessionUser(r); u != nil {
		if err := s.hub.logout(r.Context(), u); err != nil {
			s.hub.log.Error("logout", "err", err)
		}
	}
	clearSessionCookie(w, r)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// notFoundPage is the 404 page: a link to no room (a typo, a space in a
// shared link), or to nothing at all. It says so and offers the way on,
// rather than the bare text of http.NotFound.
type notFoundPage struct {
	Lang string
	Path string // as the link had it: the room's part of it, for a room
	Room bool
}

type chatPage struct {
	Lang     string
	Room     string
	User     string
	Pictures bool // the server takes pictures (IMAGE_MAX_MB > 0)
}

// serveNotFound answers what no other route does. People get the 404
// page; the history API's clients get its JSON error.
func (s *server) serveNotFound(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		writeJSONError(w, errorf(codeNotFound, "There is no such API."))
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		http.NotFound(w, r)
	default:
		// /r/{room} with an invalid room, /r/ and /r/a/b: a room link,
		// but not to one room. (r.URL.Path is unescaped, as PathValue is.)
		page := notFoundPage{Lang: pageLang(r), Path: r.URL.Path}
		if room, ok := strings.CutPrefix(r.URL.Path, "/r/"); ok {
			page.Path, page.Room = room, true
		}
		s.render(w, http.StatusNotFound, "notfound.html", page)
	}
}

func (s *server) serveRoom(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("room")
	room, ok := normalizeRoom(raw)
	if !ok {
		s.serveNotFound(w, r) // a link to no room
		return
	}
	if raw != room {
		// One room, one address: /r/Dev is #dev's page at /r/dev, so a
		// link shared from it, and the browser's history, name the room
		// as everyone else's do. The page's room box leaves case to this
		// redirect: JavaScript lowers some letters otherwise than Go (a
		// final Σ, İ), and would take a typed name to another room.
		http.Redirect(w, r, "/r/"+url.PathEscape(room), http.StatusMovedPermanently)
		return
	}
	u := s.hub.sessionUser(r)
	if u == nil {
		http.Redirect(w, r, "/?next="+url.QueryEscape("/r/"+room), http.StatusSeeOther)
		return
	}
	s.hub.setSessionCookie(w, r, u.sessionID)
	s.render(w, http.StatusOK, "chat.html", chatPage{Lang: pageLang(r), Room: room, User: u.name, Pictures: s.hub.cfg.ImageMax > 0})
}

func (s *server) serveHistory(w http.ResponseWriter, r *http.Request) {
	room, before, ok := s.apiRequest(w, r)
	if !ok {
		return
	}
	limit, ok := limitParam(w, r, 50, 200)
	if !ok {
		return
	}
	after, ok := afterParam(w, r, before)
	if !ok {
		return
	}
	var evs []Event
	var err error
	if after >= 0 {
		evs, err = s.hub.store.EventsFrom(r.Context(), room, after, limit)
	} else {
		evs, err = s.hub.store.Events(r.Context(), room, 0, before, limit)
	}
	if err != nil {
		s.hub.log.Error("history", "err", err)
		writeJSONError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

// apiRequest checks what the history and search APIs share: a session,
// its pace (HISTORY_RATE: each request is a store read, and one session
// asking in a loop could otherwise keep both cores busy), the room, and
// before (0 when not given). False: it has answered with an error.
func (s *server) apiRequest(w http.ResponseWriter, r *http.Request) (room string, before int64, ok bool) {
	if s.paced(w, r) == nil {
		return "", 0, false
	}
	if room, ok = normalizeRoom(r.PathValue("room")); !ok {
		writeJSONError(w, errorf(codeInvalid, "Invalid room name."))
		return "", 0, false
	}
	if v := r.URL.Query().Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			writeJSONError(w, errorf(codeInvalid, "before must be a message id (a whole number >= 1)."))
			return "", 0, false
		}
		before = n
	}
	return room, before, true
}

// paced is the session's user, once the request has taken its place in
// the session's HISTORY_RATE; nil: it has answered with an error.
func (s *server) paced(w http.ResponseWriter, r *http.Request) *user {
	u := s.hub.loggedIn(w, r)
	if u == nil {
		return nil
	}
	if ok, wait := take(u.history, s.hub.now()); !ok {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		writeJSONError(w, errorf(codeRateLimited, "Too many requests for history, search or unread counts; wait a moment."))
		return nil
	}
	return u
}

// afterParam is the history request's after, -1 when not given: the page
// after an event on screen, which a page showing a message far back (a
// search result, a link) loads as the reader scrolls down towards the
// newest. One page goes one way: before and after together are refused.
// False: it has answered with an error.
func afterParam(w http.ResponseWriter, r *http.Request, before int64) (int64, bool) {
	v := r.URL.Query().Get("after")
	if v == "" {
		return -1, true
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		writeJSONError(w, errorf(codeInvalid, "after must be a message id (a whole number >= 0)."))
		return 0, false
	}
	if before > 0 {
		writeJSONError(w, errorf(codeInvalid, "Give before or after, not both."))
		return 0, false
	}
	return n, true
}

// limitParam is the request's limit, 1 to most, or def when not given.
// False: it has answered with an error.
func limitParam(w http.ResponseWriter, r *http.Request, def, most int) (int, bool) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		writeJSONError(w, errorf(codeInvalid, "limit must be 1 to %d.", most))
		return 0, false
	}
	return n, true
}

func (s *server) serveHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.hub.store.Ping(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unavailable\n"))
		return
	}
	w.Write([]byte("ok\n"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, err error) {
	writeJSON(w, statusOf(err), map[string]any{"error": map[string]string{"code": string(errorCode(err)), "message": userMessage(err)}})
}

// safeNext keeps a post-login redirect on this site: a plain absolute path,
// never "//host" or "/\host" (which browsers treat as another site).
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n\t") {
		return "/r/" + lobby
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/r/" + lobby
	}
	if cleaned := path.Clean(u.Path); cleaned == "/" {
		return "/r/" + lobby // "/" would bounce straight back here
	}
	return next
}
