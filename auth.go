package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

const (
	cookieName = "chat_session"
	sessionTTL = 30 * 24 * time.Hour
)

// user is the holder of a nickname: one login session and its open sockets.
// A name has at most one session at a time, so two browsers never act as
// one name. Guarded by Hub.mu.
type user struct {
	name, key string
	sessionID string
	created   time.Time
	// lastClosed is when the last socket closed; zero if the session has
	// never connected.
	lastClosed time.Time
	// seen is the last-seen time the store holds for the session (see
	// sweepSessions); zero if none.
	seen    time.Time
	clients []*client // open sockets; a slice, as users have one or a few
	// messages paces what the session says (MSG_RATE) and history its
	// history API requests (HISTORY_RATE); nil when unlimited. Per
	// session, not per socket: more tabs or sockets do not buy a user a
	// faster rate. Each has its own lock.
	messages, history *rate.Limiter
	// typed is when the session's last typing notice was passed on to a
	// room, in Unix nanoseconds (see typingAllowed).
	typed atomic.Int64
	// typing: a notice was passed on since the session's last stop
	// notice (see typingStopAllowed).
	typing atomic.Bool
}

// historyBurst is how many history pages a session may fetch at once
// before HISTORY_RATE applies: 1000 events at the web client's 50 a page.
const historyBurst = 20

// newUser makes the holder of a session, with its own allowances.
func (h *Hub) newUser(name, key, sessionID string, created, lastClosed time.Time) *user {
	u := &user{name: name, key: key, sessionID: sessionID, created: created, lastClosed: lastClosed, seen: lastClosed}
	if h.cfg.MsgRate > 0 {
		u.messages = rate.NewLimiter(rate.Limit(h.cfg.MsgRate), h.cfg.MsgBurst)
	}
	if h.cfg.HistoryRate > 0 {
		u.history = rate.NewLimiter(rate.Limit(h.cfg.HistoryRate), historyBurst)
	}
	return u
}

// inUse reports whether a new login must be refused this name: the holder
// has a socket open, closed their last one within the presence grace, or
// logged in recently and has not connected yet.
func (u *user) inUse(now time.Time, c *Config) bool {
	switch {
	case len(u.clients) > 0:
		return true
	case !u.lastClosed.IsZero():
		return now.Sub(u.lastClosed) < c.PresenceGrace
	default:
		return now.Sub(u.created) < c.LoginHold
	}
}

// expired reports whether u's session has run out: sessionTTL after its
// login or after its last socket closed, whichever is later. A session
// with a socket open is in use and does not expire.
func (u *user) expired(now time.Time) bool {
	return len(u.clients) == 0 && now.Sub(u.lastActive()) >= sessionTTL
}

// lastActive is when u logged in or its last socket closed, whichever is
// later; it means nothing while u has a socket open.
func (u *user) lastActive() time.Time {
	if u.lastClosed.After(u.created) {
		return u.lastClosed
	}
	return u.created
}

// signCookie returns id.mac; the id is random, the MAC proves we issued it.
func signCookie(secret []byte, id string) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(id))
	return id + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func verifyCookie(secret []byte, v string) (string, bool) {
	id, _, ok := strings.Cut(v, ".")
	if !ok || id == "" {
		return "", false
	}
	return id, hmac.Equal([]byte(signCookie(secret, id)), []byte(v))
}

func newSessionID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loadSessions restores the sessions that survive a restart.
func (h *Hub) loadSessions(ctx context.Context) error {
	recs, err := h.store.Sessions(ctx, h.now().Add(-sessionTTL))
	if err != nil {
		return err
	}
	for _, r := range recs {
		u := h.newUser(r.Name, r.Key, r.ID, r.Created, r.LastSeen)
		h.users[r.Key] = u
		h.sessions[r.ID] = u
	}
	return nil
}

// sessionUser returns the user whose valid session cookie r carries. An
// expired session is no session, even before sweepSessions forgets it:
// the cookie's Max-Age only asks the browser to drop it.
func (h *Hub) sessionUser(r *http.Request) *user {
	ck, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	id, ok := verifyCookie(h.cfg.SessionSecret, ck.Value)
	if !ok {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if u := h.sessions[id]; u != nil && !u.expired(h.now()) {
		return u
	}
	return nil
}

// loggedIn is sessionUser for the JSON endpoints: without a session it
// answers 401 itself and returns nil.
func (h *Hub) loggedIn(w http.ResponseWriter, r *http.Request) *user {
	u := h.sessionUser(r)
	if u == nil {
		writeJSONError(w, errorf(codeUnauthorized, "Log in first."))
	}
	return u
}

// seenEvery is how often a session with a socket open is recorded as
// seen. The stored last-seen time is otherwise written only when a
// session's last socket closes, which a crash skips: after a socket open
// for more than sessionTTL without a break, the restart after a crash
// would find the session expired and log its user out.
const seenEvery = 24 * time.Hour

// sweepSessions forgets the sessions that have expired, in memory and in
// the store. sessionUser already refuses them; this keeps a server that
// runs for months from holding every name that ever logged in. It also
// records sessions with a socket open as seen now, once per seenEvery.
func (h *Hub) sweepSessions(ctx context.Context) error {
	now := h.now()
	var gone []string
	var connected []*user
	h.mu.Lock()
	for id, u := range h.sessions {
		switch {
		case u.expired(now):
			gone = append(gone, id)
			h.forget(u)
		case len(u.clients) > 0 && now.Sub(u.seen) >= seenEvery:
			connected = append(connected, u)
		}
	}
	h.mu.Unlock()
	if err := h.deleteSessions(ctx, gone); err != nil {
		return err
	}
	for _, u := range connected {
		if err := h.store.TouchSession(ctx, u.sessionID, now); err != nil {
			return err
		}
		h.mu.Lock()
		if u.seen.Before(now) {
			u.seen = now
		}
		h.mu.Unlock()
	}
	return nil
}

// sweeper runs sweepSessions and sweepImages every period until shutdown.
func (h *Hub) sweeper(every time.Duration) {
	defer close(h.swept)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stopSweep:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := h.sweepSessions(ctx); err != nil {
			h.log.Warn("sweeping sessions", "err", err)
		}
		if err := h.sweepImages(ctx); err != nil {
			h.log.Warn("sweeping pictures", "err", err)
		}
		cancel()
	}
}

// login gives rawName to a new session and returns the session's id. If the
// caller already holds that name (cur), its session is kept. If cur holds
// another name, that session ends as on logout.
func (h *Hub) login(ctx context.Context, rawName string, cur *user) (string, error) {
	name, key, err := normalizeName(rawName)
	if err != nil {
		return "", err
	}
	if cur == nil || cur.key != key { // else it keeps its session
		if err := h.freeSessionSlot(ctx); err != nil {
			return "", err
		}
	}
	h.mu.Lock()
	if h.sessions[sessionIDOf(cur)] == cur && cur != nil && cur.key == key {
		h.mu.Unlock()
		return cur.sessionID, nil
	}
	now := h.now()
	old := h.users[key]
	if h.claiming[key] || old != nil && old.inUse(now, &h.cfg) {
		h.mu.Unlock()
		return "", errorf(codeNameTaken, "That nickname is in use right now. Pick another, or wait until its holder leaves.")
	}
	if old != nil {
		// Takeover: the old session is idle (not inUse), so it has no
		// sockets; its cookie simply stops working. It stops now, not
		// after the write below, so its holder cannot open a socket on
		// a session that is being replaced.
		delete(h.sessions, old.sessionID)
	}
	h.claiming[key] = true
	h.mu.Unlock()

	// The write happens outside h.mu, which every request and socket
	// needs: it waits for the store's one write connection, which may be
	// busy with a room's commit (with SQLITE_SYNC=full, an fsync each).
	u := h.newUser(name, key, newSessionID(), now, time.Time{})
	err = h.store.PutSession(ctx, SessionRecord{ID: u.sessionID, Name: name, Key: key, Created: now})

	h.mu.Lock()
	delete(h.claiming, key)
	if err != nil {
		if old != nil && h.users[key] == old {
			h.sessions[old.sessionID] = old // not replaced in the store either
		}
		h.mu.Unlock()
		return "", err
	}
	h.users[key] = u
	h.sessions[u.sessionID] = u
	h.mu.Unlock()
	if cur != nil && cur.key != key {
		h.logout(ctx, cur)
	}
	return u.sessionID, nil
}

// freeSessionSlot makes sure a login has a slot under MAX_SESSIONS. Without a
// bound, sessions would pile up for their 30 days: LOGIN_RATE lets one
// address make 86,400 a day, each a few hundred bytes in memory and a row
// in the store. At the limit it forgets the sessions idle longest (their
// cookies stop working, as after 30 days; their names were free already),
// a tenth of the limit at a time, so logins at the limit do not each scan
// every session. Sessions in use are never forgotten: if all are, the
// login is refused. Logins running at the same time may each pass the
// check before any adds its session, so the limit can be passed by as many.
func (h *Hub) freeSessionSlot(ctx context.Context) error {
	limit := h.cfg.MaxSessions
	h.mu.Lock()
	if limit <= 0 || len(h.sessions) < limit {
		h.mu.Unlock()
		return nil
	}
	now := h.now()
	type idle struct {
		u    *user
		last time.Time
	}
	var idlest []idle
	for _, u := range h.sessions {
		if !u.inUse(now, &h.cfg) {
			idlest = append(idlest, idle{u, u.lastActive()})
		}
	}
	h.mu.Unlock()
	// Sorted outside the lock, which every request needs; what changed
	// meanwhile is checked again below.
	slices.SortFunc(idlest, func(a, b idle) int { return a.last.Compare(b.last) })
	idlest = idlest[:min(len(idlest), (limit+9)/10)]
	var gone []string
	h.mu.Lock()
	if len(h.sessions) < limit { // a login at the same time freed slots
		h.mu.Unlock()
		return nil
	}
	for _, c := range idlest {
		u := c.u
		if h.sessions[u.sessionID] == u && !u.inUse(now, &h.cfg) {
			gone = append(gone, u.sessionID)
			h.forget(u)
		}
	}
	h.mu.Unlock()
	if len(gone) == 0 {
		return errorf(codeUnavailable, "Too many people are logged in right now; try again in a few minutes.")
	}
	h.log.Info("MAX_SESSIONS reached: forgot the sessions idle longest", "forgotten", len(gone))
	return h.deleteSessions(ctx, gone)
}

// forget drops u's session from memory: its cookie stops working, and its
// name is free. Callers hold h.mu and have checked that u still holds it.
func (h *Hub) forget(u *user) {
	delete(h.sessions, u.sessionID)
	if h.users[u.key] == u {
		delete(h.users, u.key)
	}
}

// deleteSessions deletes forgotten sessions from the store, one statement
// each, so that room commits interleave with a long list on the store's
// single write connection.
func (h *Hub) deleteSessions(ctx context.Context, ids []string) error {
	for _, id := range ids {
		if err := h.store.DeleteSession(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

func sessionIDOf(u *user) string {
	if u == nil {
		return ""
	}
	return u.sessionID
}

// logout ends u's session: the cookie stops working, every socket closes
// with 4001, the name is free at once and the user leaves every room now,
// without waiting for the presence grace.
func (h *Hub) logout(ctx context.Context, u *user) error {
	h.mu.Lock()
	if h.sessions[u.sessionID] != u {
		h.mu.Unlock()
		return nil
	}
	h.forget(u)
	clients := slices.Clone(u.clients)
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.close(closeSessionEnded, "logged out")
	}
	for _, r := range rooms {
		r.send(op{kind: opKick, key: u.key})
	}
	return h.store.DeleteSession(ctx, u.sessionID)
}

// setSessionCookie sets the session cookie for another sessionTTL. The
// chat page and every socket set it again, so the browser keeps it as long
// as the server does: sessionTTL after the last visit.
func (h *Hub) setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: signCookie(h.cfg.SessionSecret, id), Path: "/",
		MaxAge: int(sessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r),
	})
}

func clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: isHTTPS(r)})
}

// isHTTPS tells whether the browser reached us over HTTPS, directly or
// through a proxy that terminates TLS (Fly sets X-Forwarded-Proto).
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}
