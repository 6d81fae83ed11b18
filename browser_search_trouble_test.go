package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// searchStatuses is JS that records every text the search panel's status
// line shows, in window.statuses.
const searchStatuses = `window.statuses = [];
	new MutationObserver(() => window.statuses.push(document.getElementById("search-status").textContent))
		.observe(document.getElementById("search-status"), { childList: true, characterData: true, subtree: true })`

// A search the server paces (HISTORY_RATE, shared with the history) is
// not a failure: the panel stays at "Searching…" while the page waits out
// Retry-After, and then shows what was found.
func TestBrowserSearchWaitsOutHistoryRate(t *testing.T) {
	// One request per 5 s after the burst: Retry-After is 5.
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.HistoryRate = 0.2 })
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSay("a needle in the hay", "1")
	ck := ts.MustLogin(t, "reader")
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, setCookie(ts, ck), chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, connected+` && `+texts+`.includes("a needle in the hay")`)
	ts.mustUseUpHistoryRate(t, ck, "/api/rooms/lobby/search?q=hay")
	MustExec(t, p, searchStatuses)
	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustExec(t, p, searchFor("needle"))
	MustWait(t, p, `[...document.querySelectorAll("#search-results .result-text")].map(e => e.textContent).join("|") === "a needle in the hay"`)
	if got := MustEval[[]string](t, p, `window.statuses`); strings.Join(got, "|") != "Searching…|" {
		t.Errorf("the status line showed %q, want Searching… and then nothing", got)
	}
}

// A search the server or the network fails says so in the page's
// language (not in the API's English words) and offers no More; Enter
// asks again. A query longer than the API takes is said so before any
// is asked, and kept in the box (nothing typed is cut); one at the
// limit goes. One of only spaces is not asked.
func TestBrowserSearchFails(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSay("一根针 needle", "1")
	p := MustPerson(t, MustBrowser(t, "zh-CN"))
	MustEnter(t, p, ts, "小明", "")
	MustWait(t, p, texts+`.includes("一根针 needle")`)
	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustExec(t, p, searchStatuses)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), strings.Repeat("针", 101)+kb.Enter))
	MustWait(t, p, `window.statuses.at(-1) === "搜索最多 100 字。"`)
	if n := MustEval[int](t, p, `[...document.getElementById("search-input").value].length`); n != 101 {
		t.Errorf("the search box holds %d characters of the 101 typed", n)
	}
	MustExec(t, p, searchFor(strings.Repeat("针", 100)))
	MustWait(t, p, `window.statuses.at(-1) === "没有找到消息。"`)
	if got := MustEval[[]string](t, p, `window.statuses`); strings.Join(got, "|") != "搜索最多 100 字。|搜索中…|没有找到消息。" {
		t.Errorf("the status line showed %q: the long query asked the server?", got)
	}

	next := MustHoldRequests(t, p, "*/search?*", fetch.RequestStageResponse)
	status := `document.getElementById("search-status").textContent`
	noMore := `document.getElementById("search-more").hidden`
	for _, fail := range []struct {
		name string
		do   func(fetch.RequestID) chromedp.Action[chromedp.Void]
	}{
		{"the server's 503", storeFailing},
		{"a proxy's 502 page", func(id fetch.RequestID) chromedp.Action[chromedp.Void] {
			return command(fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: id, ResponseCode: http.StatusBadGateway, Body: []byte("<html>bad gateway</html>")})
		}},
		{"the network", func(id fetch.RequestID) chromedp.Action[chromedp.Void] {
			return command(fetch.FailRequest, fetch.FailRequestParams{RequestID: id, ErrorReason: network.ErrorReasonConnectionReset})
		}},
	} {
		MustExec(t, p, `window.statuses = []`)
		MustExec(t, p, searchFor("needle"))
		MustDo(t, p, fail.do(next()))
		MustWait(t, p, `window.statuses.at(-1) === "无法搜索。"`)
		if got := MustEval[[]string](t, p, `window.statuses`); strings.Join(got, "|") != "搜索中…|无法搜索。" {
			t.Errorf("%s: the status line showed %q, want 搜索中… and then 无法搜索。", fail.name, got)
		}
		if !MustEval[bool](t, p, noMore) || MustEval[int](t, p, `document.querySelectorAll("#search-results li").length`) != 0 {
			t.Errorf("%s: a failed search left results or More", fail.name)
		}
	}
	// Enter again, and the server answers.
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), kb.Enter))
	MustDo(t, p, letGo(next()))
	found := `[...document.querySelectorAll("#search-results .result-text")].map(e => e.textContent).join("|")`
	MustWait(t, p, status+` === "" && `+found+` === "一根针 needle"`)

	// Only spaces (an ideographic one too) are no search: nothing is
	// asked or said, and what was found stays. The form's submit runs
	// its handler at once, so a search begun would show by now.
	MustExec(t, p, searchFor(" \u3000 "))
	if got := MustEval[string](t, p, status+` + "|" + `+found); got != "|一根针 needle" {
		t.Errorf("after a search of spaces the panel shows %q, want no status and what was found", got)
	}
}
