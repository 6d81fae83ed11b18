package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// When the store cannot be read, the read APIs answer 503 with the
// error as JSON, in words for a person and without the store's own
// error (which names files and queries), so the page can say so and
// try again; nothing answers as if the room were empty.
func TestReadAPIsStoreFailure(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	ts.store.Close()
	for _, path := range []string{
		"/api/rooms/lobby/messages",
		"/api/rooms/lobby/messages?after=0",
		"/api/rooms/lobby/search?q=hello",
		"/api/unread?seen=lobby:0",
		"/images/AAAAAAAAAAAAAAAAAAAAAA",
	} {
		t.Run(path, func(t *testing.T) {
			resp, body := ts.get(t, path, ck)
			var got struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("%d %q (%v); want 503 with a JSON error", resp.StatusCode, body, err)
			}
			if got.Error.Code != string(codeUnavailable) || got.Error.Message != "The server cannot do that right now; try again shortly." {
				t.Errorf("error %+v; want unavailable, in words for a person", got.Error)
			}
			if strings.Contains(body, "closed") || strings.Contains(body, "sql") {
				t.Errorf("the store's own error leaked: %s", body)
			}
		})
	}
}

// A picture the store failed to keep costs the sender's network none of
// IMAGE_RATE: it is charged for what it sent, not for the server's
// trouble, and sends it again at once.
func TestPictureStoreFailureCostsNothing(t *testing.T) {
	pic := MustPicture(t, "png", 300, 300)
	dir := t.TempDir()
	st := &brokenStore{Store: MustOpenSQLite(t, dir)}
	ts := MustStartStore(t, dir, st, func(c *Config) { c.ImageRate = int64(len(pic)) * 3 / 2 })
	ck := ts.MustLogin(t, "alice")
	st.broken.Store(true)
	resp, body := ts.upload(t, ck, "lobby", pic)
	MustErrorJSON(t, "a picture the store failed to keep", resp, body, http.StatusServiceUnavailable, codeUnavailable)
	st.broken.Store(false)
	ts.MustUpload(t, ck, "lobby", pic) // the allowance is whole again
}
