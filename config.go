package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server reads from its environment. Tests build
// one directly; production reads it with configFromEnv.
type Config struct {
	Addr           string        // listen address, ":8080" from PORT
	DataDir        string        // SQLite file and the generated session secret live here
	SessionSecret  []byte        // HMAC key for cookies
	AllowedOrigins []string      // empty: only the request's own host
	MsgRate        float64       // messages per second per session (all its sockets); 0 disables the limit
	MsgBurst       int           // bucket size for MsgRate
	AddrMsgRate    int           // messages per second per client address (all its sessions), in bursts of twice that; 0 disables the limit
	HistoryRate    float64       // history API requests per second per session, in bursts of historyBurst; 0 disables the limit
	PresenceGrace  time.Duration // how long a user stays "online" after their last socket closes
	LoginHold      time.Duration // a fresh login keeps its name this long before its first socket
	ShutdownWait   time.Duration // budget for closing sockets and flushing writes on SIGTERM
	SocketBuffer   int           // frames queued per socket before it counts as too slow (1013)
	RoomIdle       time.Duration // a room with nobody in it is unloaded after this long without activity
	FullSync       bool          // SQLITE_SYNC=full: fsync every commit (see store.go)
	LoginRate      int           // logins per minute per client address, also the burst; 0 disables the limit
	RoomRate       int           // rooms per minute per client address that its sockets may load into memory, also the burst; 0 disables the limit
	SocketsPerAddr int           // open sockets per client address; 0 disables the limit
	ClientIPHeader string        // header a trusted proxy puts the client's address in; empty: the TCP peer
	HistoryMemory  int64         // bytes of encoded events all rooms together keep in memory (see remember)
	MaxSessions    int           // login sessions held at once; at the limit the idlest are forgotten (see freeSessionSlot); 0: no limit
	ImageMax       int64         // bytes an uploaded picture may have; 0: no pictures (see images.go)
	ImageRate      int64         // bytes of pictures per hour per client address, also the burst; 0 disables the limit
	ImageStore     int64         // bytes all pictures together may take in the store; 0: no bound
}

func defaultConfig() Config {
	return Config{
		Addr:           ":8080",
		DataDir:        "./data",
		MsgRate:        5,
		MsgBurst:       10,
		AddrMsgRate:    30,
		HistoryRate:    5,
		PresenceGrace:  10 * time.Second,
		LoginHold:      2 * time.Minute,
		ShutdownWait:   8 * time.Second,
		SocketBuffer:   8,
		RoomIdle:       5 * time.Minute,
		LoginRate:      60,
		RoomRate:       30,
		SocketsPerAddr: 200,
		HistoryMemory:  32 << 20,
		MaxSessions:    100000,
		ImageMax:       5 << 20,
		ImageRate:      50 << 20,
		ImageStore:     500 << 20,
	}
}

// configFromEnv reads the documented environment variables (see README,
// Configuration). Every bad value is an error that names the variable.
func configFromEnv(getenv func(string) string) (Config, error) {
	c := defaultConfig()
	if p := getenv("PORT"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("PORT=%q: want a port number 1-65535", p)
		}
		c.Addr = ":" + p
	}
	if h := getenv("HOST"); h != "" {
		if net.ParseIP(h) == nil && h != "localhost" {
			return c, fmt.Errorf("HOST=%q: want an IP address to listen on, such as 127.0.0.1", h)
		}
		c.Addr = net.JoinHostPort(h, strings.TrimPrefix(c.Addr, ":"))
	}
	if d := getenv("DATA_DIR"); d != "" {
		c.DataDir = d
	}
	if s := getenv("SESSION_SECRET"); s != "" {
		if len(s) < 16 {
			return c, errors.New("SESSION_SECRET: want at least 16 characters")
		}
		c.SessionSecret = []byte(s)
	}
	if o := getenv("ALLOWED_ORIGINS"); o != "" {
		for _, part := range strings.Split(o, ",") {
			part = strings.TrimRight(strings.TrimSpace(part), "/")
			if part == "" {
				continue
			}
			u, err := url.Parse(part)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
				return c, fmt.Errorf("ALLOWED_ORIGINS: %q is not an origin like https://chat.example.com", part)
			}
			c.AllowedOrigins = append(c.AllowedOrigins, u.Scheme+"://"+u.Host)
		}
	}
	for _, v := range []struct {
		name string
		dst  *float64
	}{{"MSG_RATE", &c.MsgRate}, {"HISTORY_RATE", &c.HistoryRate}} {
		if r := getenv(v.name); r != "" {
			// ParseFloat also takes "NaN" and "Inf"; neither is a rate
			// (NaN < 0 is false, so only the positive test refuses it).
			f, err := strconv.ParseFloat(r, 64)
			if err != nil || !(f >= 0) || math.IsInf(f, 1) {
				return c, fmt.Errorf("%s=%q: want a number >= 0 (0 turns the limit off)", v.name, r)
			}
			*v.dst = f
		}
	}
	historyMB := int(c.HistoryMemory >> 20)
	imageMB, imageRateMB, imageStoreMB := int(c.ImageMax>>20), int(c.ImageRate>>20), int(c.ImageStore>>20)
	for _, v := range []struct {
		name   string
		lo, hi int
		want   string
		dst    *int
	}{
		{"MSG_BURST", 1, math.MaxInt, "a whole number >= 1", &c.MsgBurst},
		{"SOCKET_QUEUE", 4, 1024, "a whole number of frames, 4-1024", &c.SocketBuffer},
		{"LOGIN_RATE", 0, math.MaxInt, "a whole number of logins per minute >= 0 (0 turns the limit off)", &c.LoginRate},
		{"MSG_RATE_PER_IP", 0, math.MaxInt, "a whole number of messages per second >= 0 (0 turns the limit off)", &c.AddrMsgRate},
		{"ROOM_RATE", 0, math.MaxInt, "a whole number of rooms per minute >= 0 (0 turns the limit off)", &c.RoomRate},
		{"SOCKETS_PER_IP", 0, math.MaxInt, "a whole number >= 0 (0 turns the limit off)", &c.SocketsPerAddr},
		{"HISTORY_MEMORY_MB", 1, 1 << 20, "a whole number of megabytes, 1-1048576", &historyMB},
		{"MAX_SESSIONS", 0, math.MaxInt, "a whole number >= 0 (0 turns the limit off)", &c.MaxSessions},
		{"IMAGE_MAX_MB", 0, 64, "a whole number of megabytes, 0-64 (0 turns pictures off)", &imageMB},
		{"IMAGE_RATE", 0, 1 << 20, "a whole number of megabytes per hour, 0-1048576 (0 turns the limit off)", &imageRateMB},
		{"IMAGES_MB", 0, 1 << 30, "a whole number of megabytes, 0-1073741824 (0 turns the limit off)", &imageStoreMB},
	} {
		if raw := getenv(v.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < v.lo || n > v.hi {
				return c, fmt.Errorf("%s=%q: want %s", v.name, raw, v.want)
			}
			*v.dst = n
		}
	}
	c.HistoryMemory = int64(historyMB) << 20
	c.ImageMax, c.ImageRate, c.ImageStore = int64(imageMB)<<20, int64(imageRateMB)<<20, int64(imageStoreMB)<<20
	// The hour's allowance is also the most one upload may take at once:
	// below the largest picture allowed, such a picture could never go.
	if c.ImageRate > 0 && c.ImageRate < c.ImageMax {
		return c, fmt.Errorf("IMAGE_RATE=%d is below IMAGE_MAX_MB=%d: a picture of the largest size could never be uploaded; raise it, or set 0 to turn the limit off", imageRateMB, imageMB)
	}
	switch v := strings.ToLower(getenv("SQLITE_SYNC")); v {
	case "", "normal":
	case "full":
		c.FullSync = true
	default:
		return c, fmt.Errorf("SQLITE_SYNC=%q: want normal or full", v)
	}
	if v := strings.TrimSpace(getenv("CLIENT_IP_HEADER")); v != "" {
		if strings.ContainsAny(v, " :\t") {
			return c, fmt.Errorf("CLIENT_IP_HEADER=%q: want a header name such as Fly-Client-IP", v)
		}
		c.ClientIPHeader = v
	}
	if g := getenv("PRESENCE_GRACE"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 {
			return c, fmt.Errorf("PRESENCE_GRACE=%q: want a duration such as 10s", g)
		}
		c.PresenceGrace = d
	}
	return c, nil
}

// prepareDataDir creates the data directory, proves it is writable, and
// loads or creates the session secret kept there (mode 0600) so that a
// restart does not log everybody out.
func (c *Config) prepareDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("DATA_DIR %s cannot be created: %w", c.DataDir, err)
	}
	probe, err := os.CreateTemp(c.DataDir, ".write-probe-*")
	if err != nil {
		return fmt.Errorf("DATA_DIR %s is not writable: %w", c.DataDir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	if c.SessionSecret != nil {
		return nil
	}
	path := filepath.Join(c.DataDir, "session.key")
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < 16 {
			return fmt.Errorf("%s is damaged; delete it to generate a new one (everyone will be logged out)", path)
		}
		c.SessionSecret = key
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	c.SessionSecret = key
	return nil
}
