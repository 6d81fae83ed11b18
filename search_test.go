package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MustSearch asks the search API for query in #lobby and returns the
// texts found, newest first, and whether there may be more.
func MustSearch(t *testing.T, ts *testServer, ck *http.Cookie, query, extra string) ([]string, bool) {
	t.Helper()
	resp, body := ts.get(t, "/api/rooms/lobby/search?q="+url.QueryEscape(query)+extra, ck)
	if resp.StatusCode != 200 {
		t.Fatalf("search %q: %d %s", query, resp.StatusCode, body)
	}
	var res struct {
		Events []ev `json:"events"`
		More   bool `json:"more"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	texts := []string{}
	for _, e := range res.Events {
		if e.Type != typeMessage || e.Room != "lobby" || e.ID == 0 {
			t.Errorf("search %q found %+v, not a message of #lobby", query, e)
		}
		texts = append(texts, e.Text)
	}
	return texts, res.More
}

// Search finds messages by what they say now, newest first: case and
// width aside, any script, wildcards taken as themselves. Edited messages
// are found by their new text only, deleted ones not at all, and other
// rooms' never.
func TestSearch(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.HistoryRate = 0 }) // more queries than a burst
	ck := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	kitchen, _ := ts.MustDial(t, ck, "kitchen", -1)
	ids := map[string]int64{}
	for _, text := range []string{
		"Deploy went out", "the DEPLOY failed", "100% done", "100 done", "snake_case names", "snakeXcase", "部署成功了", "typo deploi", "secret deploy plan",
		"ＧＯ　ｌａｎｇ", "L'ÉCOLE", "ΣΟΦΟΣ", "ｶﾀｶﾅ", "café", "ﾡﾤﾷ", "￣", "ZULU time", "￠5",
	} {
		alice.say(text, text)
		ids[text] = alice.MustNextOf(typeMessage).ID
	}
	kitchen.say("deploy the kitchen", "k")
	kitchen.MustNextOf(typeMessage)
	alice.send(editFrame(ids["typo deploi"], "typo fixed: deploy", "e"))
	alice.MustEdited(ids["typo deploi"], "alice", "typo fixed: deploy")
	alice.send(deleteFrame(ids["secret deploy plan"], "d"))
	alice.MustDeleted(ids["secret deploy plan"], "alice")

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"deploy", []string{"typo fixed: deploy", "the DEPLOY failed", "Deploy went out"}},
		{"  DePlOy ", []string{"typo fixed: deploy", "the DEPLOY failed", "Deploy went out"}},
		{"100%", []string{"100% done"}},
		{"snake_case", []string{"snake_case names"}},
		{"部署", []string{"部署成功了"}},
		{"ＤＥＰＬＯＹ", []string{"typo fixed: deploy", "the DEPLOY failed", "Deploy went out"}},
		{"go lang", []string{"ＧＯ　ｌａｎｇ"}},
		{"l'école", []string{"L'ÉCOLE"}},
		{"σοφος", []string{"ΣΟΦΟΣ"}}, // a final sigma
		{"σοφoς", []string{}},        // a Latin o among the Greek
		{"カタカナ", []string{"ｶﾀｶﾅ"}},
		{"CAFÉ", []string{"café"}},
		{"zulu", []string{"ZULU time"}}, // A to Z, the ends too
		{"cafe", []string{}},            // accents stay
		// Half-width Hangul and "￣" are not widened, as the browser's
		// fold does not (search.js marks what the server found).
		{"ﾡ", []string{"ﾡﾤﾷ"}},
		{"ㄱ", []string{}},
		{"￣", []string{"￣"}},
		{"¯", []string{}},
		{"¢5", []string{"￠5"}}, // the first of the full-width signs
		{"deploi", []string{}},
		{strings.Repeat("字", maxQueryLen), []string{}}, // the longest query
		{"plan", []string{}},
		{"kitchen", []string{}},
	} {
		t.Run(c.query, func(t *testing.T) {
			if got, _ := MustSearch(t, ts, ck, c.query, ""); strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("found %q, want %q", got, c.want)
			}
		})
	}

	// Paging: limit, then before the last one found.
	got, more := MustSearch(t, ts, ck, "deploy", "&limit=2")
	if strings.Join(got, "|") != "typo fixed: deploy|the DEPLOY failed" || !more {
		t.Errorf("first page: %q more=%v", got, more)
	}
	got, more = MustSearch(t, ts, ck, "deploy", "&limit=2&before="+strconv.FormatInt(ids["the DEPLOY failed"], 10))
	if strings.Join(got, "|") != "Deploy went out" || more {
		t.Errorf("second page: %q more=%v", got, more)
	}
}

func TestSearchRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.HistoryRate = 0.001 })
	ck := ts.MustLogin(t, "alice")
	for _, c := range []struct {
		name, path string
		ck         *http.Cookie
		status     int
	}{
		{"no session", "/api/rooms/lobby/search?q=hi", nil, 401},
		{"no query", "/api/rooms/lobby/search", ck, 400},
		{"blank query", "/api/rooms/lobby/search?q=%20%20", ck, 400},
		{"query too long", "/api/rooms/lobby/search?q=" + strings.Repeat("字", maxQueryLen+1), ck, 400},
		{"bad before", "/api/rooms/lobby/search?q=hi&before=x", ck, 400},
		{"bad limit", "/api/rooms/lobby/search?q=hi&limit=101", ck, 400},
		{"bad room", "/api/rooms/a%20b/search?q=hi", ck, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			cd := codeInvalid
			if c.status == http.StatusUnauthorized {
				cd = codeUnauthorized
			}
			resp, body := ts.get(t, c.path, c.ck)
			MustErrorJSON(t, c.name, resp, body, c.status, cd)
		})
	}
	// Paced with the history API: its burst is spent by now or soon.
	MustSpendHistoryBurst(t, ts, ck, "/api/rooms/lobby/search?q=hi")
}

// A search reaches back searchReach events, no further: it is a scan.
func TestSearchReach(t *testing.T) {
	st := MustOpenSQLite(t, t.TempDir())
	defer st.Close()
	ctx := t.Context()
	var batch []Event
	for id := int64(1); id <= searchReach+2; id++ {
		text := "hay"
		if id <= 3 {
			text = fmt.Sprint("needle ", id)
		}
		batch = append(batch, Event{ID: id, Type: typeMessage, User: "a", Text: text, TS: time.Now()})
		if len(batch) == 1000 {
			if err := st.AppendEvents(ctx, "lobby", batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.AppendEvents(ctx, "lobby", batch); err != nil {
		t.Fatal(err)
	}
	evs, err := st.Search(ctx, "lobby", "needle", 0, 10)
	if err != nil || len(evs) != 1 || evs[0].ID != 3 {
		t.Errorf("found %+v, %v; want only needle 3, the oldest of the newest %d events", evs, err, searchReach)
	}
}
