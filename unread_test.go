package main

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// MustUnread asks how many messages came in each room after the id
// given as room:id, and returns the counts and each room's newest id.
func MustUnread(t *testing.T, ts *testServer, ck *http.Cookie, seen ...string) (map[string]int, map[string]int64) {
	t.Helper()
	resp, body := ts.get(t, "/api/unread?seen="+strings.Join(seen, "&seen="), ck)
	if resp.StatusCode != 200 {
		t.Fatalf("unread %q: %d %s", seen, resp.StatusCode, body)
	}
	var res struct {
		Unread map[string]int
		Last   map[string]int64
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	return res.Unread, res.Last
}

// Unread counts are of others' messages after the id read, as they are
// now: not one's own, not a deleted one, not a join, an edit or a
// reaction; and they stop at unreadCap.
func TestUnread(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.MsgRate = 0 })
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice, _ := ts.MustDial(t, aliceCk, "dev", -1)
	bob, _ := ts.MustDial(t, bobCk, "dev", -1)
	bob.say("one", "1")
	first := bob.MustNextOf(typeMessage)
	alice.say("mine", "m")
	bob.MustNextOf(typeMessage)
	bob.say("two", "2")
	two := bob.MustNextOf(typeMessage)
	bob.say("gone", "3")
	gone := bob.MustNextOf(typeMessage)
	bob.send(deleteFrame(gone.ID, "d"))
	bob.MustDeleted(gone.ID, "bob")
	bob.send(editFrame(two.ID, "two, edited", "e"))
	bob.MustEdited(two.ID, "bob", "two, edited")
	bob.send(reactFrame(typeReact, first.ID, "👍", "r"))
	react := bob.MustNextOf(typeReact)
	ops, _ := ts.MustDial(t, bobCk, "ops", -1)
	ops.MustSayMany("ops %d", unreadCap+5)
	// With each count, the room's newest id, whatever its kind: news
	// pushed later than that is not in the count.
	newest := map[string]int64{"dev": react.ID, "ops": ts.MustRoomLastID(t, bobCk, "ops"), "quiet": 0}

	at := func(room string, id int64) string { return room + ":" + strconv.FormatInt(id, 10) }
	for _, c := range []struct {
		name string
		seen []string
		want map[string]int
	}{
		{"from the start", []string{at("dev", 0)}, map[string]int{"dev": 2}},
		{"after the first", []string{at("dev", first.ID)}, map[string]int{"dev": 1}},
		{"all read", []string{at("dev", two.ID)}, map[string]int{"dev": 0}},
		{"a busy room stops at the cap", []string{at("ops", 0)}, map[string]int{"ops": unreadCap}},
		{"a room with nothing", []string{at("quiet", 0)}, map[string]int{"quiet": 0}},
		{"several, names as the server writes them", []string{at("DEV", 0), at("ops", 0), at("quiet", 7)}, map[string]int{"dev": 2, "ops": unreadCap, "quiet": 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, last := MustUnread(t, ts, aliceCk, c.seen...)
			if len(got) != len(c.want) || len(last) != len(c.want) {
				t.Fatalf("got %v and newest ids %v, want %v", got, last, c.want)
			}
			for room, n := range c.want {
				if got[room] != n || last[room] != newest[room] {
					t.Errorf("got %v and newest ids %v, want %v and %v", got, last, c.want, newest)
				}
			}
		})
	}
	// bob's own are not unread to him; alice's one is.
	if got, _ := MustUnread(t, ts, bobCk, at("dev", 0)); got["dev"] != 1 {
		t.Errorf("bob's unread in #dev: %v, want 1 (alice's)", got)
	}
}

func TestUnreadRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.HistoryRate = 0.001 })
	ck := ts.MustLogin(t, "alice")
	eleven := strings.Repeat("&seen=lobby:0", unreadRooms+1)[1:]
	for _, c := range []struct {
		name, query string
		ck          *http.Cookie
		status      int
		code        code
	}{
		{"no session", "seen=lobby:0", nil, 401, codeUnauthorized},
		{"no rooms", "", ck, 400, codeInvalid},
		{"too many rooms", eleven, ck, 400, codeInvalid},
		{"no id", "seen=lobby", ck, 400, codeInvalid},
		{"an id not a number", "seen=lobby:x", ck, 400, codeInvalid},
		{"a negative id", "seen=lobby:-1", ck, 400, codeInvalid},
		{"a bad room", "seen=a%20b:0", ck, 400, codeInvalid},
		{"a bad room among good ones", "seen=lobby:0&seen=:0", ck, 400, codeInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := ts.get(t, "/api/unread?"+c.query, c.ck)
			MustErrorJSON(t, c.name, resp, body, c.status, c.code)
		})
	}
	// One request is one step of the history API's pace, whatever it
	// names (here ten rooms): the burst is spent by now or soon.
	MustSpendHistoryBurst(t, ts, ck, "/api/unread?"+eleven[len("seen=lobby:0&"):])
}
