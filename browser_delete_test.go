package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// One's own message can be deleted, for everyone: it stays in its place,
// says it was deleted, and its text is gone from every page, now and
// after a reload. Others' messages have no Delete.
func TestBrowserDeleteMessage(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "my password is hunter2")
	MustSay(t, bob, "hm?")
	MustWait(t, alice, texts+`.includes("hm?")`)
	// bob's reaction to it goes with it.
	MustExec(t, bob, `document.querySelector("#messages .msg:not(.mine) .react").click()`)
	MustExec(t, bob, `document.querySelector("#messages .palette .pick").click()`)
	MustWait(t, alice, `document.querySelector("#messages .msg.mine .reaction")?.textContent === "👍 1"`)
	if n := MustEval[int](t, alice, `document.querySelectorAll("#messages .msg .delete").length`); n != 1 {
		t.Fatalf("%d Delete buttons on alice's page, want 1 (on her own message only)", n)
	}

	// Out of sight until the mouse is on the message; then a click, and a
	// confirmation.
	clipped := `getComputedStyle(document.querySelector("#messages .msg.mine .delete")).clipPath`
	if c := MustEval[string](t, alice, clipped); c == "none" {
		t.Errorf("Delete shows without the mouse on the message")
	}
	MustHover(t, alice, "#messages .msg.mine")
	MustWait(t, alice, clipped+` === "none"`)
	MustExec(t, alice, `window.confirm = (q) => { window.asked = q; return true; }`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg.mine .delete")))
	gone := `document.querySelector("#messages .msg .text.deleted")?.textContent === "This message was deleted." && !document.getElementById("messages").textContent.includes("hunter2") && !document.querySelector("#messages .reactions")`
	MustWait(t, bob, gone)
	MustWait(t, alice, gone+` && window.asked === "Delete this message for everyone?" && !document.querySelector("#messages .delete")`)
	if got := MustEval[[]string](t, bob, texts); len(got) != 2 || got[1] != "hm?" {
		t.Errorf("bob's page shows %q, want the deleted message and bob's after it", got)
	}
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+texts+`.includes("hm?") && `+gone)

	// A phone has no hover: a tap on the message opens its row with the
	// date and Delete.
	MustSay(t, alice, "sent twice")
	MustWait(t, alice, texts+`.includes("sent twice")`)
	MustDo(t, alice, chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile, chromedp.EmulateTouch))
	last := `[...document.querySelectorAll("#messages .msg.mine")].at(-1)`
	MustExec(t, alice, last+`.querySelector(".text").click()`)
	MustWait(t, alice, `!!`+last+`.querySelector(".full-time .delete")`)
	MustExec(t, alice, last+`.querySelector(".full-time .delete").click()`)
	MustWait(t, bob, `document.querySelectorAll("#messages .text.deleted").length === 2`)
}

// Delete asks first, and No keeps the message: nothing is sent. Asked
// while the page is disconnected, it says the message could not be
// deleted, rather than nothing at all.
func TestBrowserDeleteDeclinedOrOffline(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "keep me")
	MustWait(t, p, texts+`.includes("keep me") && `+nonePending)
	const del = `document.querySelector("#messages .msg.mine .delete").click()`
	const deleted = `document.querySelectorAll("#messages .text.deleted").length`

	MustExec(t, p, `window.confirm = () => false`)
	MustExec(t, p, del)
	// A delete sent would come back before the echo of what is said next.
	MustSay(t, p, "still here")
	MustWait(t, p, texts+`.includes("still here") && `+nonePending)
	if n := MustEval[int](t, p, deleted); n != 0 {
		t.Errorf("%d messages deleted after No", n)
	}

	ts.MustClose(t)
	MustWait(t, p, disconnected)
	MustExec(t, p, `window.confirm = () => true`)
	MustExec(t, p, del)
	MustWait(t, p, `document.getElementById("composer-error").textContent === "The server could not save that; try again." && `+deleted+` === 0`)
}
