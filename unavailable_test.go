package main

import (
	"encoding/json"
	"fmt"
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

// A resume the store cannot read (it reaches back past the room's
// memory) is closed with 1011, with no welcome and no replay that would
// leave a gap on the page; the room and the server go on, and once the
// store reads again the same resume gets everything.
func TestReplayStoreFailure(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	ck := ts.MustLogin(t, "alice")
	a, _ := ts.MustDial(t, ck, "lobby", -1)
	last := a.MustSayMany("before %d", 2*historyOnJoin)
	a.conn.Close()
	ts.MustClose(t)

	// After a restart the room keeps only its newest events.
	st := &brokenStore{Store: MustOpenSQLite(t, dir)}
	ts = MustStartStore(t, dir, st)
	b, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	st.broken.Store(true)
	conn, resp, err := ts.dial(ck, "lobby", 1)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	c := newWSClient(t, conn)
	if code, seen := c.MustCloseCode(); code != closeInternal || len(seen) > 0 {
		t.Fatalf("a resume the store could not read: close %d after %+v, want %d and nothing before it", code, seen, closeInternal)
	}
	st.broken.Store(false)

	b.say("after", "")
	after := b.MustNextOf(typeMessage)
	a, w := ts.MustDial(t, ck, "lobby", 1)
	if w.Truncated || w.LastID < after.ID {
		t.Fatalf("welcome %+v after the store came back, want all of it", w)
	}
	for want := int64(2); want <= after.ID; want++ {
		e := a.MustNext()
		if e.ID != want || e.ID <= last.ID && e.Text != fmt.Sprint("before ", e.ID-2) {
			t.Fatalf("replay gave %+v, want id %d", e, want)
		}
	}
}
