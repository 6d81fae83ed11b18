package main

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// addrLimits bounds what one network address can take: logins per minute
// (each creates a session and may claim a name), open sockets (each holds
// memory for as long as it is open), rooms loaded per minute (each stays
// in memory for minutes after its last socket, see ROOM_RATE) and
// messages per second. MSG_RATE bounds what one session says; the last
// bounds what all the sessions behind one address say together.
type addrLimits struct {
	loginRate  rate.Limit // 0: logins unlimited
	loginBurst int
	roomRate   rate.Limit // 0: room loads unlimited
	roomBurst  int
	msgRate    rate.Limit // 0: messages unlimited
	msgBurst   int
	imageRate  rate.Limit // bytes of pictures per second; 0: unlimited
	imageBurst int
	maxSockets int // 0: sockets unlimited
	now        func() time.Time

	mu     sync.Mutex
	addrs  map[string]*addrState
	pruned time.Time
}

type addrState struct {
	logins *rate.Limiter // nil while loginRate is 0
	rooms  *rate.Limiter // nil while roomRate is 0
	// messages is shared by the address's sockets, which hold it for as
	// long as they are open (see openSocket); nil while msgRate is 0.
	messages *rate.Limiter
	images   *rate.Limiter // bytes of pictures; nil while imageRate is 0
	sockets  int
}

func newAddrLimits(c Config, now func() time.Time) *addrLimits {
	return &addrLimits{
		loginRate:  rate.Limit(float64(c.LoginRate) / 60),
		loginBurst: c.LoginRate,
		roomRate:   rate.Limit(float64(c.RoomRate) / 60),
		roomBurst:  c.RoomRate,
		msgRate:    rate.Limit(c.AddrMsgRate),
		msgBurst:   2 * c.AddrMsgRate,
		imageRate:  rate.Limit(float64(c.ImageRate) / 3600),
		imageBurst: int(c.ImageRate),
		maxSockets: c.SocketsPerAddr,
		now:        now,
		addrs:      map[string]*addrState{},
	}
}

// state returns addr's entry, making it if needed. Entries that hold
// nothing (no socket, full buckets) are dropped once a minute, so
// the map grows with the addresses active lately, not with all ever seen.
// Callers hold l.mu.
func (l *addrLimits) state(addr string) *addrState {
	now := l.now()
	if now.Sub(l.pruned) > time.Minute {
		l.pruned = now
		for a, s := range l.addrs {
			if s.sockets == 0 && full(s.logins, now, l.loginBurst) && full(s.rooms, now, l.roomBurst) && full(s.messages, now, l.msgBurst) && full(s.images, now, l.imageBurst) {
				delete(l.addrs, a)
			}
		}
	}
	s := l.addrs[addr]
	if s == nil {
		s = &addrState{}
		if l.loginRate > 0 {
			s.logins = rate.NewLimiter(l.loginRate, l.loginBurst)
		}
		if l.roomRate > 0 {
			s.rooms = rate.NewLimiter(l.roomRate, l.roomBurst)
		}
		if l.msgRate > 0 {
			s.messages = rate.NewLimiter(l.msgRate, l.msgBurst)
		}
		if l.imageRate > 0 {
			s.images = rate.NewLimiter(l.imageRate, l.imageBurst)
		}
		l.addrs[addr] = s
	}
	return s
}

// login takes one login from addr's allowance. When it is used up, it
// says how long until the next one.
func (l *addrLimits) login(addr string) (ok bool, retryAfter time.Duration) {
	if l.loginRate == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return take(l.state(addr).logins, l.now())
}

// upload takes size bytes from addr's allowance for pictures
// (IMAGE_RATE). When it has not that many, it takes none and says how
// long until it would. Otherwise refund gives them back, for an upload
// that the server did not keep after all (no room left, a failed write):
// a client is charged for what it sent, not for the server's trouble.
func (l *addrLimits) upload(addr string, size int) (refund func(), ok bool, retryAfter time.Duration) {
	if l.imageRate == 0 {
		return func() {}, true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	r, ok, retryAfter := reserveN(l.state(addr).images, now, size)
	return func() {
		if r == nil {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		// At the time it was taken: rate gives back nothing for a
		// reservation whose time to act has passed.
		r.CancelAt(now)
	}, ok, retryAfter
}

// loadRoom takes one of addr's room loads, or with check only says
// whether it could. When they are used up, it says how long until the
// next one.
func (l *addrLimits) loadRoom(addr string, check bool) (ok bool, retryAfter time.Duration) {
	if l.roomRate == 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, now := l.state(addr).rooms, l.now()
	if check {
		return peek(lim, now)
	}
	return take(lim, now)
}

// full reports whether lim (nil: no limit) has its whole burst at now.
func full(lim *rate.Limiter, now time.Time, burst int) bool {
	return lim == nil || lim.TokensAt(now) >= float64(burst)
}

// take takes one token from lim at now. When there is none, it takes
// nothing and says how long until there is one.
func take(lim *rate.Limiter, now time.Time) (ok bool, retryAfter time.Duration) {
	_, ok, retryAfter = reserve(lim, now)
	return ok, retryAfter
}

// reserve takes one token from lim (nil: unlimited) if it has one now,
// and returns the reservation, so that the caller can give it back, or
// how long until it would have one.
func reserve(lim *rate.Limiter, now time.Time) (r *rate.Reservation, ok bool, retryAfter time.Duration) {
	return reserveN(lim, now, 1)
}

// reserveN is reserve for n tokens at once. More than lim's whole burst
// is never there; it says to wait an hour.
func reserveN(lim *rate.Limiter, now time.Time, n int) (r *rate.Reservation, ok bool, retryAfter time.Duration) {
	if lim == nil {
		return nil, true, 0
	}
	r = lim.ReserveN(now, n)
	if !r.OK() {
		return nil, false, time.Hour
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return nil, false, d
	}
	return r, true, 0
}

// peek says what take would, and takes nothing.
func peek(lim *rate.Limiter, now time.Time) (ok bool, retryAfter time.Duration) {
	r, ok, retryAfter := reserve(lim, now)
	if r != nil {
		r.CancelAt(now)
	}
	return ok, retryAfter
}

// openSocket takes one of addr's socket slots; closeSocket gives it back.
// It also returns the address's message allowance (nil: unlimited), which
// the socket may use until it gives its slot back: an address with a
// socket open keeps its entry, so all its sockets share one allowance.
func (l *addrLimits) openSocket(addr string) (ok bool, messages *rate.Limiter) {
	if !l.countsSockets() {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(addr)
	if l.maxSockets > 0 && s.sockets >= l.maxSockets {
		return false, nil
	}
	s.sockets++
	return true, s.messages
}

// countsSockets: sockets are counted for SOCKETS_PER_IP, and to keep an
// address's message allowance while its sockets use it.
func (l *addrLimits) countsSockets() bool { return l.maxSockets > 0 || l.msgRate > 0 }

func (l *addrLimits) closeSocket(addr string) {
	if !l.countsSockets() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.addrs[addr]; s != nil && s.sockets > 0 {
		s.sockets--
	}
}

// clientAddr is the address the limits count r against: the TCP peer, or,
// with CLIENT_IP_HEADER set, what the proxy in front wrote there (its last
// entry, for list headers like X-Forwarded-For, since earlier entries come
// from the client). An IPv6 address counts by its /64, the block one
// subscriber usually gets; anything else would let one host use billions
// of addresses.
func clientAddr(r *http.Request, header string) string {
	raw := ""
	if header != "" {
		v := r.Header.Values(header)
		if len(v) > 0 {
			list := v[len(v)-1]
			raw = strings.TrimSpace(list[strings.LastIndexByte(list, ',')+1:])
		}
	}
	if raw == "" {
		raw = r.RemoteAddr // an IP address and port, as Go writes it
	}
	ip := net.ParseIP(raw)
	if ip == nil {
		// The peer comes with its port, and some proxies write the
		// client's port too ("203.0.113.7:51234", "[2001:db8::1]:51234"),
		// or brackets alone. The port changes with every connection, so
		// counting it would give each its own limit.
		if host, _, err := net.SplitHostPort(raw); err == nil {
			ip = net.ParseIP(host)
		} else {
			ip = net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(raw, "["), "]"))
		}
	}
	if ip == nil {
		return raw // not an address: count it as it is written
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// retryAfterSeconds is a Retry-After value: whole seconds, rounded up.
func retryAfterSeconds(d time.Duration) string {
	return strconv.Itoa(int(math.Ceil(d.Seconds())))
}
