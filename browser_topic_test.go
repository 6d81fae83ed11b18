package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Anyone can set the room's topic from the header: every page shows it
// under the header and says in the conversation who set what, a page
// opened later shows it too, and an empty one clears it. One the server
// refuses stays in the editor, also when another's topic comes.
func TestBrowserTopic(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	topic := `(document.getElementById("topic").hidden ? "" : document.getElementById("topic").textContent)`
	if got := MustEval[string](t, alice, topic+` + "|" + document.getElementById("topic-bar").hidden`); got != "|true" {
		t.Fatalf("a room with no topic shows %q", got)
	}
	MustDo(t, alice, chromedp.Click(chromedp.ID("topic-edit")))
	MustWait(t, alice, `!document.getElementById("topic-form").hidden && document.activeElement.id === "topic-input"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("topic-input"), "Release day: see https://example.com/v2"+kb.Enter))
	line := `[...document.querySelectorAll("#messages .system")].map(e => e.textContent.replace(/ · .*/, "")).join("|")`
	MustWait(t, bob, topic+` === "Release day: see https://example.com/v2" && !!document.querySelector("#topic a[href='https://example.com/v2']")`)
	MustWait(t, bob, line+`.endsWith("alice set the topic: Release day: see https://example.com/v2")`)
	MustWait(t, alice, `document.getElementById("topic-form").hidden && `+topic+` === "Release day: see https://example.com/v2"`)

	// A page opened later shows it from its welcome.
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+topic+` === "Release day: see https://example.com/v2"`)

	// Too long: refused, and kept in the editor.
	long := strings.Repeat("长", maxTopicLen+1)
	// The editor opens with the topic selected, so typing replaces it.
	MustDo(t, bob, chromedp.Click(chromedp.ID("topic-edit")))
	MustWait(t, bob, `(() => { const i = document.getElementById("topic-input"); return document.activeElement === i && i.value === "Release day: see https://example.com/v2" && i.selectionStart === 0 && i.selectionEnd === i.value.length; })()`)
	MustExec(t, bob, `document.getElementById("topic-input").value = `+jsString(long))
	MustDo(t, bob, chromedp.Click(chromedp.CSS(`#topic-form button[type="submit"]`)))
	MustWait(t, bob, `document.getElementById("composer-error").textContent !== "" && !document.getElementById("topic-form").hidden && document.getElementById("topic-input").value === `+jsString(long))

	// Another's topic coming meanwhile leaves it open: what bob wrote is
	// not saved.
	MustDo(t, alice, chromedp.Click(chromedp.ID("topic-edit")))
	MustExec(t, alice, `document.getElementById("topic-input").value = "Lunch"`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS(`#topic-form button[type="submit"]`)))
	MustWait(t, bob, `document.getElementById("topic").textContent === "Lunch" && !document.getElementById("topic-form").hidden && document.getElementById("topic-input").value === `+jsString(long))

	// Empty clears it; Escape closes the editor.
	MustExec(t, bob, `document.getElementById("topic-input").value = ""`)
	MustDo(t, bob, chromedp.Click(chromedp.CSS(`#topic-form button[type="submit"]`)))
	MustWait(t, alice, `document.getElementById("topic-bar").hidden && `+line+`.endsWith("bob cleared the topic")`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("topic-edit")))
	MustWait(t, alice, `document.activeElement.id === "topic-input"`)
	MustDo(t, alice, chromedp.KeyEvent(kb.Escape))
	MustWait(t, alice, `document.getElementById("topic-bar").hidden`)
}

// Saving the topic as it is closes the editor and sends nothing (the
// server would refuse it as no change); saving one while disconnected
// keeps the editor open, saying so.
func TestBrowserTopicUnchangedOrOffline(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	const (
		errText = `document.getElementById("composer-error").textContent`
		open    = `!document.getElementById("topic-form").hidden`
	)
	MustDo(t, p, chromedp.Click(chromedp.ID("topic-edit")))
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("topic-input"), "Release day"+kb.Enter))
	if ev := watcher.MustNextOf(typeTopic); ev.Text != "Release day" {
		t.Fatalf("topic %q", ev.Text)
	}
	MustWait(t, p, `document.getElementById("topic-form").hidden`)

	MustDo(t, p, chromedp.Click(chromedp.ID("topic-edit")))
	MustWait(t, p, open+` && document.getElementById("topic-input").value === "Release day"`)
	MustDo(t, p, chromedp.KeyEvent(kb.Enter))
	MustWait(t, p, `document.getElementById("topic-form").hidden`)
	// A topic sent would come to bob before the message said next.
	MustSay(t, p, "after")
	if ev := watcher.MustNextOf(typeMessage, typeTopic); ev.Type != typeMessage {
		t.Errorf("the unchanged topic was sent: bob got %+v", ev)
	}
	if e := MustEval[string](t, p, errText); e != "" {
		t.Errorf("saving the unchanged topic said %q", e)
	}

	ts.MustClose(t)
	MustWait(t, p, disconnected)
	MustDo(t, p, chromedp.Click(chromedp.ID("topic-edit")))
	MustExec(t, p, `document.getElementById("topic-input").value = "Release night"`)
	MustDo(t, p, chromedp.Click(chromedp.CSS(`#topic-form button[type="submit"]`)))
	MustWait(t, p, open+` && `+errText+` === "The server could not save that; try again." && document.getElementById("topic-input").value === "Release night"`)
}
