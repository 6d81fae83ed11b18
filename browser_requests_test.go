package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// The page's requests, held, answered in the server's place, or
// recorded: for what the page does while one is on its way, and when
// the server fails.

// MustHoldRequests has the browser hold the requests whose address
// matches pattern (CDP's, with * and ?) at stage (before they are sent,
// or once the server has answered) until the test lets each go (letGo)
// or answers it (answerJSON, storeFailing). The function it returns
// waits for the next one held.
func MustHoldRequests(t *testing.T, ctx context.Context, pattern string, stage fetch.RequestStage) func() fetch.RequestID {
	t.Helper()
	paused := make(chan fetch.RequestID, 10)
	if err := chromedp.Listen(ctx, func(ev any) {
		if p, ok := ev.(*fetch.EventRequestPaused); ok {
			paused <- p.RequestID
		}
	}); err != nil {
		t.Fatal(err)
	}
	MustDo(t, ctx, command(fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern, RequestStage: stage}}}))
	return func() fetch.RequestID {
		t.Helper()
		select {
		case id := <-paused:
			return id
		case <-time.After(10 * time.Second):
			t.Fatalf("no request to %s was held", pattern)
		}
		return ""
	}
}

// mustStoredOnce checks that each of texts is the text of exactly one
// message in the lobby's history (its newest 200 events), as ck reads
// it: what a page sent again, or two tabs sent, was stored once.
func (ts *testServer) mustStoredOnce(t *testing.T, ck *http.Cookie, texts ...string) {
	t.Helper()
	_, body := ts.get(t, "/api/rooms/lobby/messages?limit=200", ck)
	for _, text := range texts {
		if n := strings.Count(body, `"`+text+`"`); n != 1 {
			t.Errorf("%q is stored %d times: %s", text, n, body)
		}
	}
}

// mustUseUpHistoryRate has session ck spend its HISTORY_RATE burst on
// path, as another of its tabs would, until the server answers 429.
func (ts *testServer) mustUseUpHistoryRate(t *testing.T, ck *http.Cookie, path string) {
	t.Helper()
	for i := 0; ; i++ {
		resp, _ := ts.get(t, path, ck)
		if resp.StatusCode == http.StatusTooManyRequests {
			return
		}
		if i > 2*historyBurst {
			t.Fatalf("no 429 after %d requests to %s", i+1, path)
		}
	}
}

// storeFailing answers a request MustHoldRequests held as the server
// does when its store fails: 503 unavailable.
func storeFailing(id fetch.RequestID) chromedp.Action[chromedp.Void] {
	return answerJSON(id, http.StatusServiceUnavailable, `{"error":{"code":"unavailable","message":"The server cannot do that right now; try again shortly."}}`)
}

// letGo lets a request MustHoldRequests held go on as it would have,
// at either stage: to the server, or with the server's answer.
func letGo(id fetch.RequestID) chromedp.Action[chromedp.Void] {
	return command(fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
}

// answerJSON answers a request MustHoldRequests held with status and the
// JSON body, in the server's place.
func answerJSON(id fetch.RequestID, status int64, body string) chromedp.Action[chromedp.Void] {
	return command(fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID:       id,
		ResponseCode:    status,
		ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}},
		Body:            []byte(body),
	})
}

// recordAnswers is JS that lists in window.answered the address of each
// answer of the server's APIs the page reads. The page's own code after
// reading one runs before the list can be read, so a test that sees an
// answer there knows the page has dealt with it.
const recordAnswers = `window.answered = []; const json = Response.prototype.json; Response.prototype.json = function () { return json.call(this).then((v) => { window.answered.push(this.url); return v; }); }`

// recordAsked is JS that lists in window.asked the query of each page of
// the history the page asks for (before= or after=, and limit=), whether
// or not an answer comes.
const recordAsked = `(() => {
	window.asked = [];
	const fetch = window.fetch;
	window.fetch = (url, ...rest) => {
		if (String(url).includes("/messages?")) window.asked.push(String(url).replace(/^.*\?/, ""));
		return fetch(url, ...rest);
	};
})()`
