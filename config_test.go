package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr bool
		check   func(Config) bool
	}{
		{"defaults", nil, false, func(c Config) bool {
			return c.Addr == ":8080" && c.DataDir == "./data" && c.MsgRate == 5 && c.MsgBurst == 10 && c.PresenceGrace == 10*time.Second
		}},
		{"port", map[string]string{"PORT": "9000"}, false, func(c Config) bool { return c.Addr == ":9000" }},
		{"bad port", map[string]string{"PORT": "http"}, true, nil},
		{"lowest port", map[string]string{"PORT": "1"}, false, func(c Config) bool { return c.Addr == ":1" }},
		{"highest port", map[string]string{"PORT": "65535"}, false, func(c Config) bool { return c.Addr == ":65535" }},
		{"port 0", map[string]string{"PORT": "0"}, true, nil},
		{"port too high", map[string]string{"PORT": "65536"}, true, nil},
		{"host", map[string]string{"HOST": "127.0.0.1", "PORT": "9000"}, false, func(c Config) bool { return c.Addr == "127.0.0.1:9000" }},
		{"bad host", map[string]string{"HOST": "example.com"}, true, nil},
		{"rate off", map[string]string{"MSG_RATE": "0"}, false, func(c Config) bool { return c.MsgRate == 0 }},
		{"negative rate", map[string]string{"MSG_RATE": "-1"}, true, nil},
		{"rate NaN", map[string]string{"MSG_RATE": "NaN"}, true, nil},
		{"rate infinite", map[string]string{"MSG_RATE": "+Inf"}, true, nil},
		{"grace", map[string]string{"PRESENCE_GRACE": "1m30s"}, false, func(c Config) bool { return c.PresenceGrace == 90*time.Second }},
		{"bad grace", map[string]string{"PRESENCE_GRACE": "ten"}, true, nil},
		{"no grace", map[string]string{"PRESENCE_GRACE": "0s"}, false, func(c Config) bool { return c.PresenceGrace == 0 }},
		{"negative grace", map[string]string{"PRESENCE_GRACE": "-1s"}, true, nil},
		{"data dir", map[string]string{"DATA_DIR": "/data"}, false, func(c Config) bool { return c.DataDir == "/data" }},
		{"burst", map[string]string{"MSG_BURST": "3"}, false, func(c Config) bool { return c.MsgBurst == 3 }},
		{"burst zero", map[string]string{"MSG_BURST": "0"}, true, nil},
		{"origins", map[string]string{"ALLOWED_ORIGINS": "https://a.example, http://b.example:8080/"}, false, func(c Config) bool {
			return len(c.AllowedOrigins) == 2 && c.AllowedOrigins[0] == "https://a.example" && c.AllowedOrigins[1] == "http://b.example:8080"
		}},
		{"origin with path", map[string]string{"ALLOWED_ORIGINS": "https://a.example/chat"}, true, nil},
		{"origin without scheme", map[string]string{"ALLOWED_ORIGINS": "a.example"}, true, nil},
		{"origin of another scheme", map[string]string{"ALLOWED_ORIGINS": "https://a.example, ftp://b.example"}, true, nil},
		{"short secret", map[string]string{"SESSION_SECRET": "short"}, true, nil},
		{"shortest secret", map[string]string{"SESSION_SECRET": "sixteen-chars-ok"}, false, func(c Config) bool { return string(c.SessionSecret) == "sixteen-chars-ok" }},
		{"sync default", nil, false, func(c Config) bool { return !c.FullSync }},
		{"sync full", map[string]string{"SQLITE_SYNC": "FULL"}, false, func(c Config) bool { return c.FullSync }},
		{"sync bad", map[string]string{"SQLITE_SYNC": "always"}, true, nil},
		{"socket queue", map[string]string{"SOCKET_QUEUE": "32"}, false, func(c Config) bool { return c.SocketBuffer == 32 }},
		{"socket queue default", map[string]string{}, false, func(c Config) bool { return c.SocketBuffer == 8 }},
		{"socket queue too small", map[string]string{"SOCKET_QUEUE": "2"}, true, nil},
		{"socket queue too large", map[string]string{"SOCKET_QUEUE": "1025"}, true, nil},
		{"pictures too large", map[string]string{"IMAGE_MAX_MB": "65"}, true, nil},
		{"socket queue not a number", map[string]string{"SOCKET_QUEUE": "lots"}, true, nil},
		{"address limits default", nil, false, func(c Config) bool {
			return c.LoginRate == 60 && c.SocketsPerAddr == 200 && c.ClientIPHeader == ""
		}},
		{"address limits off", map[string]string{"LOGIN_RATE": "0", "SOCKETS_PER_IP": "0"}, false, func(c Config) bool {
			return c.LoginRate == 0 && c.SocketsPerAddr == 0
		}},
		{"address message rate default", nil, false, func(c Config) bool { return c.AddrMsgRate == 30 }},
		{"address message rate", map[string]string{"MSG_RATE_PER_IP": "100"}, false, func(c Config) bool { return c.AddrMsgRate == 100 }},
		{"address message rate off", map[string]string{"MSG_RATE_PER_IP": "0"}, false, func(c Config) bool { return c.AddrMsgRate == 0 }},
		{"address message rate negative", map[string]string{"MSG_RATE_PER_IP": "-5"}, true, nil},
		{"room rate default", nil, false, func(c Config) bool { return c.RoomRate == 30 }},
		{"room rate", map[string]string{"ROOM_RATE": "120"}, false, func(c Config) bool { return c.RoomRate == 120 }},
		{"room rate off", map[string]string{"ROOM_RATE": "0"}, false, func(c Config) bool { return c.RoomRate == 0 }},
		{"room rate not whole", map[string]string{"ROOM_RATE": "0.5"}, true, nil},
		{"login rate", map[string]string{"LOGIN_RATE": "10"}, false, func(c Config) bool { return c.LoginRate == 10 }},
		{"history rate", map[string]string{"HISTORY_RATE": "0.5"}, false, func(c Config) bool { return c.HistoryRate == 0.5 }},
		{"history rate off", map[string]string{"HISTORY_RATE": "0"}, false, func(c Config) bool { return c.HistoryRate == 0 }},
		{"history rate negative", map[string]string{"HISTORY_RATE": "-2"}, true, nil},
		{"history rate not a number", map[string]string{"HISTORY_RATE": "lots"}, true, nil},
		{"history rate NaN", map[string]string{"HISTORY_RATE": "nan"}, true, nil},
		{"history rate infinite", map[string]string{"HISTORY_RATE": "inf"}, true, nil},
		{"login rate not whole", map[string]string{"LOGIN_RATE": "1.5"}, true, nil},
		{"sockets per ip negative", map[string]string{"SOCKETS_PER_IP": "-1"}, true, nil},
		{"history memory default", nil, false, func(c Config) bool { return c.HistoryMemory == 32<<20 }},
		{"history memory", map[string]string{"HISTORY_MEMORY_MB": "256"}, false, func(c Config) bool { return c.HistoryMemory == 256<<20 }},
		{"history memory zero", map[string]string{"HISTORY_MEMORY_MB": "0"}, true, nil},
		{"history memory with unit", map[string]string{"HISTORY_MEMORY_MB": "64MB"}, true, nil},
		{"max sessions default", nil, false, func(c Config) bool { return c.MaxSessions == 100000 }},
		{"max sessions", map[string]string{"MAX_SESSIONS": "5000"}, false, func(c Config) bool { return c.MaxSessions == 5000 }},
		{"max sessions off", map[string]string{"MAX_SESSIONS": "0"}, false, func(c Config) bool { return c.MaxSessions == 0 }},
		{"max sessions negative", map[string]string{"MAX_SESSIONS": "-1"}, true, nil},
		{"pictures", map[string]string{"IMAGE_MAX_MB": "8", "IMAGE_RATE": "20", "IMAGES_MB": "2048"}, false, func(c Config) bool {
			return c.ImageMax == 8<<20 && c.ImageRate == 20<<20 && c.ImageStore == 2048<<20
		}},
		{"pictures by default", map[string]string{}, false, func(c Config) bool { return c.ImageMax == 5<<20 && c.ImageRate == 50<<20 && c.ImageStore == 500<<20 }},
		{"pictures off", map[string]string{"IMAGE_MAX_MB": "0", "IMAGE_RATE": "0", "IMAGES_MB": "0"}, false, func(c Config) bool { return c.ImageMax == 0 && c.ImageRate == 0 && c.ImageStore == 0 }},
		{"pictures at their largest", map[string]string{"IMAGE_MAX_MB": "64", "IMAGE_RATE": "1048576", "IMAGES_MB": "1073741824"}, false, func(c Config) bool {
			return c.ImageMax == 64<<20 && c.ImageRate == 1<<40 && c.ImageStore == 1<<50
		}},
		{"picture rate off", map[string]string{"IMAGE_RATE": "0"}, false, func(c Config) bool { return c.ImageRate == 0 && c.ImageMax == 5<<20 }},
		{"picture too large", map[string]string{"IMAGE_MAX_MB": "65"}, true, nil},
		{"picture rate too large", map[string]string{"IMAGE_RATE": "1048577"}, true, nil},
		{"pictures' room too large", map[string]string{"IMAGES_MB": "1073741825"}, true, nil},
		{"picture rate not a number", map[string]string{"IMAGE_RATE": "lots"}, true, nil},
		{"picture rate below the largest picture", map[string]string{"IMAGE_MAX_MB": "8", "IMAGE_RATE": "5"}, true, nil},
		{"picture rate below the default largest", map[string]string{"IMAGE_RATE": "4"}, true, nil},
		{"picture rate the largest picture", map[string]string{"IMAGE_MAX_MB": "8", "IMAGE_RATE": "8"}, false, func(c Config) bool { return c.ImageRate == 8<<20 }},
		{"client ip header", map[string]string{"CLIENT_IP_HEADER": " Fly-Client-IP "}, false, func(c Config) bool { return c.ClientIPHeader == "Fly-Client-IP" }},
		{"client ip header not a name", map[string]string{"CLIENT_IP_HEADER": "Fly-Client-IP: 1.2.3.4"}, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := configFromEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && !tc.check(c) {
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestSessionSecretPersists(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	c1 := Config{DataDir: dir}
	if err := c1.prepareDataDir(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "session.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("session.key: %v, %v", fi, err)
	}
	c2 := Config{DataDir: dir}
	if err := c2.prepareDataDir(); err != nil {
		t.Fatal(err)
	}
	if string(c1.SessionSecret) != string(c2.SessionSecret) || len(c1.SessionSecret) != 32 {
		t.Error("the generated secret is not reused after a restart")
	}
	// The probe that proved the directory writable is gone.
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("DATA_DIR holds %v (%v); want session.key alone", entries, err)
	}
	c3 := Config{DataDir: dir, SessionSecret: []byte("from the environment")}
	if c3.prepareDataDir(); string(c3.SessionSecret) != "from the environment" {
		t.Error("SESSION_SECRET does not win over the file")
	}
}

// A damaged session.key stops the start, saying so, and is left for the
// operator: a new key made in its place would log everybody out without
// a word.
func TestSessionSecretDamaged(t *testing.T) {
	for _, tc := range []struct{ name, content string }{
		{"not hex", "not a key at all\n"},
		{"too short", "00112233445566778899aabbccddee\n"}, // 15 bytes
		{"empty", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "session.key")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c := Config{DataDir: dir}
			if err := c.prepareDataDir(); err == nil || !strings.Contains(err.Error(), path+" is damaged; delete it") {
				t.Fatalf("starting with a damaged key: %v", err)
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != tc.content {
				t.Errorf("session.key after the refusal: %q, %v; want it as it was", b, err)
			}
		})
	}
	// 16 bytes, the shortest key, is taken as it is.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "session.key"), []byte("00112233445566778899aabbccddeeff\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := Config{DataDir: dir}
	if err := c.prepareDataDir(); err != nil || fmt.Sprintf("%x", c.SessionSecret) != "00112233445566778899aabbccddeeff" {
		t.Errorf("a 16-byte key: %v, secret %x", err, c.SessionSecret)
	}
}
