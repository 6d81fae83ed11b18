package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// A picture the server no longer has when its message is sent (the
// sweep takes pictures never sent, say after the message waited offline
// for days) is said as such, not as the server's words for an API, and
// its message is marked not sent, with Remove and no Retry (it would be
// refused again), also after a reload. The error, like every one the
// page flashes, goes away by itself after 5 s. Remove takes the message
// away, for good: a reload does not bring it back.
func TestBrowserPictureGoneBeforeSent(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, picturesOffered)

	// The upload is answered with a picture of no picture there.
	next := MustHoldRequests(t, p, "*/api/rooms/lobby/images", fetch.RequestStageResponse)
	MustDo(t, p, pickPicture(t, "chart.png", 300, 120))
	MustDo(t, p, answerJSON(next(), http.StatusCreated, `{"id":"`+newImageID()+`","width":300,"height":120}`))
	const note = `document.querySelector("#pending .msg.failed .pending-note")?.textContent`
	MustWait(t, p, errorShown("That picture is not there any more; send it again.")+` && `+note+` === "Not sent Remove"`)
	if n := MustEval[int](t, p, `document.querySelectorAll("#messages .picture").length`); n != 0 {
		t.Errorf("%d pictures shown in the conversation", n)
	}
	MustWait(t, p, `document.getElementById("composer-error").hidden`)
	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, connected+` && `+note+` === "Not sent Remove"`)
	MustDo(t, p, chromedp.Click(chromedp.CSS("#pending .msg.failed .remove")))
	MustWait(t, p, `!document.querySelector("#pending .msg")`)
	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, connected)
	MustSay(t, p, "after the reload")
	MustWait(t, p, texts+`.at(-1) === "after the reload" && `+nonePending)
	if n := MustEval[int](t, p, `document.querySelectorAll("#messages .picture, #pending .picture").length`); n != 0 {
		t.Errorf("%d pictures on the page after Remove and a reload", n)
	}
}

// pendingNote is what the first message waiting to be sent says of itself.
const pendingNote = `document.querySelector("#pending .msg .pending-note")?.textContent`

// An upload refused for now (429: too fast) says why, with Retry and
// Remove; Retry uploads it again, no longer marked as failed meanwhile,
// and it goes.
func TestBrowserPictureRetried(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, picturesOffered)
	next := MustHoldRequests(t, alice, "*/api/rooms/lobby/images", fetch.RequestStageRequest)
	MustDo(t, alice, pickPicture(t, "chart.png", 300, 120))
	MustDo(t, alice, answerJSON(next(), http.StatusTooManyRequests, `{"error":{"code":"rate_limited","message":"slow down"}}`))
	MustWait(t, alice, `!!document.querySelector("#pending .msg.failed") && `+pendingNote+` === "You are sending too fast; wait a moment. Retry Remove"`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#pending .msg.failed .retry")))
	held := next()
	MustWait(t, alice, `!document.querySelector("#pending .msg.failed") && `+pendingNote+` === "Uploading…"`)
	MustDo(t, alice, letGo(held))
	MustWait(t, bob, pictures+` === "300×120 loaded"`)
	MustWait(t, alice, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg")`)
}

// A picture's message the server refuses for now (its sender over the
// message rate) is not taken for a picture gone: it says why, with Retry
// and Remove, and Retry sends it once the rate allows.
func TestBrowserPictureMessageTooFast(t *testing.T) {
	clock := &testClock{}
	ts := MustStartClock(t, t.TempDir(), clock, func(c *Config) { c.MsgRate, c.MsgBurst = 0.5, 1 })
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, picturesOffered)
	MustSay(t, p, "first")
	MustWait(t, p, texts+`.includes("first") && `+nonePending)
	MustDo(t, p, pickPicture(t, "chart.png", 300, 120))
	MustWait(t, p, errorShown("You are sending too fast; wait a moment.")+` && `+pendingNote+` === "Not sent Retry Remove"`)
	clock.skip(2 * time.Second) // the bucket refills
	MustDo(t, p, chromedp.Click(chromedp.CSS("#pending .msg.failed .retry")))
	MustWait(t, p, pictures+` === "300×120 loaded" && `+nonePending)
}

// A picture waiting for a connection goes the moment the page has one
// again, not when its own wait (2 s, doubled after each failure) runs
// out: the page's ready event uploads it, before any other listener of
// that event runs.
func TestBrowserPictureGoesWhenReconnected(t *testing.T) {
	_, fz, p := MustAliceBehindFreezer(t)
	MustWait(t, p, picturesOffered)
	next := MustHoldRequests(t, p, "*/api/rooms/lobby/images", fetch.RequestStageRequest)
	fz.refuseSockets(true)
	fz.cut()
	MustWait(t, p, disconnected)
	MustDo(t, p, pickPicture(t, "chart.png", 300, 120))
	for range 2 { // its wait is 4 s now
		MustDo(t, p, command(fetch.FailRequest, fetch.FailRequestParams{RequestID: next(), ErrorReason: network.ErrorReasonConnectionRefused}))
		MustWait(t, p, pendingNote+`?.startsWith("Will send when connected")`)
	}
	MustExec(t, p, `addEventListener("chat:ready", () => { window.noteAtReady = `+pendingNote+` ?? "none"; })`)
	fz.refuseSockets(false)
	MustDo(t, p, online(false), online(true)) // the page reconnects at once
	MustWait(t, p, connected+` && window.noteAtReady !== undefined`)
	if got := MustEval[string](t, p, `window.noteAtReady`); got != "Waiting to upload…" && got != "Uploading…" {
		t.Errorf("once connected, the picture's note said %q, want it uploading", got)
	}
	MustDo(t, p, letGo(next()))
	MustWait(t, p, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg")`)
}

// A picture that fails to load (the network drops while it comes) keeps
// room enough to show its alt text, and to be clicked to open it whole,
// however small the picture is.
func TestBrowserPictureThatFailsToLoad(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, picturesOffered)
	next := MustHoldRequests(t, bob, "*/images/*", fetch.RequestStageRequest)
	MustDo(t, alice, pickPicture(t, "dot.png", 30, 20))
	MustDo(t, bob, command(fetch.FailRequest, fetch.FailRequestParams{RequestID: next(), ErrorReason: network.ErrorReasonConnectionReset}))
	MustWait(t, bob, `!!document.querySelector("#messages .picture.broken")`)
	box := MustEval[[]float64](t, bob, `(() => { const r = document.querySelector("#messages .picture img").getBoundingClientRect(); return [r.width, r.height]; })()`)
	if box[0] < 96 || box[1] < 64 {
		t.Errorf("the broken picture is %v×%v, want at least 96×64 (6rem × 4rem)", box[0], box[1])
	}
}
