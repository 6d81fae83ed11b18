package main

import (
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The header's Search finds messages, newest first, with what was found
// marked, says when nothing is, pages on with More results, and a click
// on one found further up than the page has loaded shows it there.
func TestBrowserSearch(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.say("Ｇｏ or go: ÉCOLE", "")
	w.say("The Deploy of v1", "")
	w.MustSayMany("chatter %d", 2*historyOnJoin)
	w.MustSayMany("deploy number %d", 25)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.includes("deploy number 24") && !`+texts+`.includes("The Deploy of v1")`)

	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustWait(t, p, `!document.getElementById("search").hidden && document.activeElement.id === "search-input" && document.getElementById("search-toggle").getAttribute("aria-expanded") === "true"`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), "nothing like it"+kb.Enter))
	MustWait(t, p, `document.getElementById("search-status").textContent === "No messages found."`)

	found := `[...document.querySelectorAll("#search-results .result-text")].map(e => e.textContent)`
	MustExec(t, p, `document.getElementById("search-input").value = ""`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), "DEPLOY"+kb.Enter))
	MustWait(t, p, found+`.length === 20 && !document.getElementById("search-more").hidden`)
	// The panel takes half the screen, on a phone too: the conversation
	// under it gives way, not the results.
	for _, phone := range []bool{false, true} {
		if phone {
			MustDo(t, p, chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile))
		}
		if h := MustEval[float64](t, p, `document.getElementById("search").getBoundingClientRect().height / innerHeight`); h < 0.49 {
			t.Errorf("phone %v: the search panel is %.0f%% of the window's height, want half", phone, h*100)
		}
	}
	MustDo(t, p, chromedp.EmulateViewport(1000, 700))
	if first := MustEval[string](t, p, `document.querySelector("#search-results .result").textContent`); !strings.HasPrefix(first, "writer Today ") || !strings.HasSuffix(first, "deploy number 24") {
		t.Errorf("the first found reads %q, want who, when and the newest", first)
	}
	if mark := MustEval[string](t, p, `document.querySelector("#search-results mark").textContent`); mark != "deploy" {
		t.Errorf("marked %q, want the word found as written", mark)
	}
	MustDo(t, p, chromedp.Click(chromedp.ID("search-more")))
	MustWait(t, p, found+`.length === 26 && document.getElementById("search-more").hidden && `+found+`.at(-1) === "The Deploy of v1"`)

	// Further up than the page has loaded: loaded, shown, and flashed.
	MustExec(t, p, `[...document.querySelectorAll("#search-results .result")].at(-1).click()`)
	MustWait(t, p, `document.getElementById("search").hidden && `+flashed+` === "The Deploy of v1"`)

	// Escape closes the panel.
	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustWait(t, p, `!document.getElementById("search").hidden`)
	MustDo(t, p, chromedp.KeyEvent(kb.Escape))
	MustWait(t, p, `document.getElementById("search").hidden && document.activeElement.id === "search-toggle" && document.getElementById("search-toggle").getAttribute("aria-expanded") === "false"`)

	// Width and case aside, each place marked as it is written.
	marks := `[...document.querySelectorAll("#search-results mark")].map(e => e.textContent).join("|")`
	for _, c := range []struct{ query, want string }{{"GO", "Ｇｏ|go"}, {"école", "ÉCOLE"}} {
		MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
		MustExec(t, p, `document.getElementById("search-input").value = ""`)
		MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), c.query+kb.Enter))
		MustWait(t, p, found+`.join() === "Ｇｏ or go: ÉCOLE"`)
		if got := MustEval[string](t, p, marks); got != c.want {
			t.Errorf("%q marked %q, want %q", c.query, got, c.want)
		}
		MustDo(t, p, chromedp.KeyEvent(kb.Escape))
	}
}

// The page marks what a search found where the server found it, so its
// fold (search.js's foldChar) must be the server's (foldRune) for every
// character both know: those Go's Unicode tables assign.
func TestBrowserSearchFold(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	js, err := chromedp.Run(p, chromedp.Evaluate[map[string]int](importModule("search.js")+`.then((m) => {
		const out = {};
		for (let r = 0; r <= 0x10ffff; r++) {
			if (r >= 0xd800 && r < 0xe000) continue;
			const f = m.foldChar(String.fromCodePoint(r)).codePointAt(0);
			if (f !== r) out[r] = f;
		}
		return out;
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	known := func(r rune) bool {
		return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z)
	}
	differ := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		want := foldRune(r)
		got, ok := js[strconv.Itoa(int(r))]
		if !ok {
			got = int(r)
		}
		if known(r) && rune(got) != want {
			if differ++; differ <= 20 {
				t.Errorf("%U %q: the page folds it to %U, the server to %U", r, r, got, want)
			}
		}
	}
	if differ > 20 {
		t.Errorf("and %d more", differ-20)
	}
}

// The answer to a search that a newer one replaced is dropped, however
// late it comes: the results are the newer search's alone.
func TestBrowserSearchLateAnswerDropped(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSay("alpha release", "1")
	w.MustSay("beta release", "2")
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.includes("beta release")`)
	MustExec(t, p, recordAnswers)
	next := MustHoldRequests(t, p, "*/search?*", fetch.RequestStageResponse)
	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustExec(t, p, searchFor("alpha"))
	alpha := next()
	MustExec(t, p, searchFor("beta"))
	beta := next()
	MustDo(t, p, letGo(beta))
	MustDo(t, p, letGo(alpha))
	MustWait(t, p, `window.answered.length === 2`)
	if got := MustEval[string](t, p, `[...document.querySelectorAll("#search-results .result-text")].map(e => e.textContent).join("|")`); got != "beta release" {
		t.Errorf("after a search for beta the results are %q", got)
	}
}

// searchFor is JS that searches the open search panel for q, as Enter
// in its box does.
func searchFor(q string) string {
	return `document.getElementById("search-input").value = ` + jsString(q) + `; document.getElementById("search-form").requestSubmit()`
}
