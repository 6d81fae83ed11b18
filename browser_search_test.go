package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The header's Search finds messages, newest first, with what was found
// marked, says when nothing is, pages on with More results, and a click
// on one found further up than the page has loaded shows it there.
func TestBrowserSearch(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.say("The Deploy of v1", "")
	w.MustSayMany("chatter %d", 2*historyOnJoin)
	w.MustSayMany("deploy number %d", 25)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.includes("deploy number 24") && !`+texts+`.includes("The Deploy of v1")`)

	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustWait(t, p, `!document.getElementById("search").hidden && document.activeElement.id === "search-input"`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), "nothing like it"+kb.Enter))
	MustWait(t, p, `document.getElementById("search-status").textContent === "No messages found."`)

	found := `[...document.querySelectorAll("#search-results .result-text")].map(e => e.textContent)`
	MustExec(t, p, `document.getElementById("search-input").value = ""`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("search-input"), "DEPLOY"+kb.Enter))
	MustWait(t, p, found+`.length === 20 && !document.getElementById("search-more").hidden`)
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
	MustWait(t, p, `document.getElementById("search").hidden && [...document.querySelectorAll("#messages .msg.flash")].map(li => li.querySelector(".text").textContent).join() === "The Deploy of v1"`)

	// Escape closes the panel.
	MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")))
	MustWait(t, p, `!document.getElementById("search").hidden`)
	MustDo(t, p, chromedp.KeyEvent(kb.Escape))
	MustWait(t, p, `document.getElementById("search").hidden && document.activeElement.id === "search-toggle"`)
}
