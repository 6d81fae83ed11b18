package main

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// reactionRow is the row of reactions under the first message on screen:
// "emoji count pressed|…".
const reactionRow = `[...document.querySelector("#messages .msg").querySelectorAll(".reaction")].map(b => b.textContent + " " + b.getAttribute("aria-pressed")).join("|")`

// Anyone can put a reaction on a message and take theirs off: React opens
// the palette, a press on a reaction under the message adds or removes
// one's own, and every page shows the same row, now and after a reload
// (which replays the reactions after the message as it is now).
func TestBrowserReactions(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "we shipped it")
	MustWait(t, bob, texts+`.includes("we shipped it")`)

	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .react")))
	MustWait(t, bob, `document.querySelectorAll("#messages .palette .pick").length === 8 && document.activeElement.classList.contains("pick")`)
	MustDo(t, bob, chromedp.KeyEvent(kb.Escape))
	MustWait(t, bob, `!document.querySelector("#messages .palette")`)
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .react")))
	MustDo(t, bob, chromedp.Click(chromedp.CSS(`#messages .palette .pick[data-emoji="🎉"]`)))
	MustWait(t, bob, reactionRow+` === "🎉 1 true" && !document.querySelector("#messages .palette")`)
	MustWait(t, alice, reactionRow+` === "🎉 1 false"`)
	if title := MustEval[string](t, alice, `document.querySelector(".reaction").title`); title != "bob reacted with 🎉" {
		t.Errorf("the reaction's title: %q", title)
	}

	// A press on a reaction adds one's own, or takes it off.
	MustDo(t, alice, chromedp.Click(chromedp.CSS(".reaction")))
	MustWait(t, bob, reactionRow+` === "🎉 2 true" && document.querySelector(".reaction").title === "bob, alice reacted with 🎉"`)
	MustWait(t, alice, reactionRow+` === "🎉 2 true"`)
	MustDo(t, bob, chromedp.Click(chromedp.CSS(".reaction")))
	MustWait(t, alice, reactionRow+` === "🎉 1 true"`)

	// In the palette's order, whoever came first.
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	m := carol.MustNextOf(typeMessage)
	carol.send(reactFrame(typeReact, m.ID, "👍", ""))
	carol.send(reactFrame(typeReact, m.ID, "😮", ""))
	carol.send(reactFrame(typeUnreact, m.ID, "😮", ""))
	MustWait(t, bob, reactionRow+` === "👍 1 false|🎉 1 false"`)
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+reactionRow+` === "👍 1 false|🎉 1 false"`)
	MustDo(t, alice, chromedp.Reload())
	MustWait(t, alice, connected+` && `+reactionRow+` === "👍 1 false|🎉 1 true"`)
}
