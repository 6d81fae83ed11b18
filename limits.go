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
// (each creates a session and may claim a name) and open sockets (each
// holds memory for as long as it is open). MSG_RATE bounds what a socket
// says; these bound how many sockets and sessions there are to say it.
type addrLimits struct {
	loginRate  rate.Limit // 0: logins unlimited
	loginBurst int
	maxSockets int // 0: sockets unlimited
	now        func() time.Time

	mu     sync.Mutex
	addrs  map[string]*addrState
	pruned time.Time
}

type addrState struct {
	logins  *rate.Limiter // nil while loginRate is 0
	sockets int
}

func newAddrLimits(c Config, now func() time.Time) *addrLimits {
	return &addrLimits{
		loginRate:  rate.Limit(float64(c.LoginRate) / 60),
		loginBurst: c.LoginRate,
		maxSockets: c.SocketsPerAddr,
		now:        now,
		addrs:      map[string]*addrState{},
	}
}

// state returns addr's entry, making it if needed. Entries that hold
// nothing (no socket, a full login bucket) are dropped once a minute, so
// the map grows with the addresses active lately, not with all ever seen.
// Callers hold l.mu.
func (l *addrLimits) state(addr string) *addrState {
	now := l.now()
	if now.Sub(l.pruned) > time.Minute {
		l.pruned = now
		for a, s := range l.addrs {
			if s.sockets == 0 && (s.logins == nil || s.logins.TokensAt(now) >= float64(l.loginBurst)) {
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

// take takes one token from lim at now. When there is none, it takes
// nothing and says how long until there is one.
func take(lim *rate.Limiter, now time.Time) (ok bool, retryAfter time.Duration) {
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// openSocket takes one of addr's socket slots; closeSocket gives it back.
func (l *addrLimits) openSocket(addr string) bool {
	if l.maxSockets == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.state(addr)
	if s.sockets >= l.maxSockets {
		return false
	}
	s.sockets++
	return true
}

func (l *addrLimits) closeSocket(addr string) {
	if l.maxSockets == 0 {
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
		raw = r.RemoteAddr
		if host, _, err := net.SplitHostPort(raw); err == nil {
			raw = host
		}
	}
	ip := net.ParseIP(raw)
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
