package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// A tab the browser duplicates gets a copy of the tab's sessionStorage,
// and with it of the outbox: both tabs then have the message that waited
// for a connection, and both send it. The server stores it once, and
// each tab shows it once, with nothing left waiting and no error said:
// each knows the other's copy for its own by its nonce, in its replay
// or live.
func TestBrowserDuplicatedTab(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob := ts.MustLogin(t, "bob")
	once := func(text string) string {
		return fmt.Sprintf(`%s && %s === "" && %s.filter((s) => s === %s).length === 1 && %s === ""`,
			connected, pendingTexts, texts, jsString(text), `document.getElementById("composer-error").textContent`)
	}
	// offline has the tabs lose their sockets, with none to be had.
	offline := func(tabs ...context.Context) {
		t.Helper()
		fz.refuseSockets(true)
		fz.cut()
		for _, tab := range tabs {
			MustWait(t, tab, disconnected)
		}
	}
	// waiting writes text in tab while offline, and duplicates the tab.
	waiting := func(tab context.Context, text string) context.Context {
		t.Helper()
		MustDo(t, tab, chromedp.SendKeys(chromedp.ID("text"), text), chromedp.Click(chromedp.ID("send")))
		MustWait(t, tab, pendingTexts+` === `+jsString(text))
		dup := MustDuplicate(t, tab)
		MustWait(t, dup, pendingTexts+` === `+jsString(text)+` && `+disconnected)
		return dup
	}

	// One after the other: the copy that goes second is in the replay.
	offline(p)
	dup := waiting(p, "typed offline")
	MustDo(t, dup, online(false)) // it waits for the browser to be online
	fz.refuseSockets(false)
	MustDo(t, p, online(false), online(true)) // no wait for the countdown
	MustWait(t, p, once("typed offline"))
	MustDo(t, dup, online(true))
	MustWait(t, dup, once("typed offline"))
	ts.mustStoredOnce(t, bob, "typed offline")

	// Both send it: the server stores it once, and the tab that sent it
	// second has it already, live, by its nonce (the server answers that
	// frame with duplicate). The pages' frames are held until both are
	// on their way, so that both do send.
	offline(p, dup)
	dup2 := waiting(dup, "both sent")
	for _, tab := range []context.Context{dup, dup2} {
		MustExec(t, tab, holdMessageFrames)
	}
	fz.refuseSockets(false)
	for _, tab := range []context.Context{p, dup, dup2} {
		MustDo(t, tab, online(false), online(true))
	}
	for _, tab := range []context.Context{dup, dup2} {
		MustWait(t, tab, connected+` && window.framesHeld.length === 1`)
	}
	MustExec(t, dup, `window.framesHeld[0]()`)
	MustWait(t, dup2, once("both sent"))
	MustEval[bool](t, dup2, importModule("state.js")+`.then((m) => {
		window.duplicates = 0;
		m.state.ws.addEventListener("message", (e) => { if (String(e.data).includes('"type":"duplicate"')) window.duplicates++; });
		return true;
	})`, chromedp.EvalAwaitPromise)
	MustExec(t, dup2, `window.framesHeld[0]()`)
	MustWait(t, dup2, `window.duplicates === 1`)
	for _, tab := range []context.Context{p, dup, dup2} {
		MustWait(t, tab, once("both sent"))
	}
	ts.mustStoredOnce(t, bob, "both sent")
}

// MustDuplicate opens a copy of tab p as a person's browser does when
// told to duplicate it: the same address, in a new tab that starts with
// a copy of p's sessionStorage. A window the page opens (window.open)
// gets that copy too, which is how it is made here.
func MustDuplicate(t *testing.T, p context.Context) context.Context {
	t.Helper()
	opened := chromedp.WaitNewTarget(p, func(*target.Info) bool { return true })
	// A popup needs the reader's gesture, as a click would give.
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`void window.open(location.href)`, func(e *runtime.EvaluateParams) { gesture := true; e.UserGesture = &gesture }))
	id, ok := <-opened
	if !ok {
		t.Fatal("no tab opened")
	}
	ctx, cancel := chromedp.NewContext(p, chromedp.WithTargetID(id))
	t.Cleanup(cancel)
	// Attaches to the tab; an action with a timeout would close it (see
	// mustTarget).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	recordJSCoverage(t, ctx)
	return ctx
}

// holdMessageFrames is JS that holds the messages the page sends on its
// socket: window.framesHeld lists a function for each, which sends it.
const holdMessageFrames = `(() => {
	window.framesHeld = [];
	const send = WebSocket.prototype.send;
	WebSocket.prototype.send = function (data) {
		if (!String(data).startsWith('{"type":"message"')) return send.call(this, data);
		window.framesHeld.push(() => send.call(this, data));
	};
})()`
