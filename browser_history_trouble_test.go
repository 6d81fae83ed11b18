package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// From far back, a page below the window that the server fails to give
// says so and leaves the window as it was, not live: the page does not
// ask again by itself, not even when the socket brings something (a
// server in trouble is not asked in a loop), and the next scroll does.
// "Latest messages ↓" failing says so too. Once the server answers,
// scrolling down goes on until the page is live with nothing missed or
// twice.
func TestBrowserFarBackPageFails(t *testing.T) {
	_, w, old, last, p := mustFarRoom(t)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, old.ID))
	const newBtn = `document.getElementById("new-messages")`
	MustWait(t, p, flashed+` === "the old one" && !`+newBtn+`.hidden`)
	shown := MustEval[[]string](t, p, texts)

	MustExec(t, p, recordAsked)
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	fail := func(what string) {
		t.Helper()
		MustDo(t, p, storeFailing(next()))
		MustWait(t, p, errorShown("Could not load newer messages."))
		// A frame from the socket does not ask again either, once the
		// page has read it: here a pong; in a busy room, every message
		// and typing notice would.
		MustPong(t, p)
		// Anything the page went on to ask would be on its way by now:
		// it asks from the same task that says so.
		if asked := MustEval[[]string](t, p, `window.asked`); len(asked) != 1 || !MustEval[bool](t, p, `document.getElementById("history-bottom").hidden`) {
			t.Errorf("%s: the page asked for %q, want the one that failed, and no more loading", what, asked)
		}
		if got := MustEval[[]string](t, p, texts); fmt.Sprint(got) != fmt.Sprint(shown) || MustEval[bool](t, p, newBtn+`.hidden`) {
			t.Errorf("%s: the window changed or went live: %d messages, %q … %q", what, len(got), got[0], got[len(got)-1])
		}
		MustExec(t, p, `window.asked = []; document.getElementById("composer-error").textContent = ""`)
	}
	scrollDown := `(() => { const l = document.getElementById("log"); l.scrollTop = l.scrollHeight - l.clientHeight - 300; l.scrollTop = l.scrollHeight; })()`
	// The link's smooth scroll to the message ends first: one of its
	// scroll events after the failure would rightly ask again.
	MustScrollStill(t, p)
	MustExec(t, p, scrollDown)
	MustWait(t, p, `!document.getElementById("history-bottom").hidden && document.getElementById("history-bottom").textContent === "Loading newer messages…"`)
	fail("scrolling down")
	// Away from the bottom, so that the press is all that asks.
	MustExec(t, p, `(() => { const l = document.getElementById("log"); l.scrollTop = l.scrollHeight - l.clientHeight - 400; })()`)
	MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
	fail("Latest messages ↓")

	// The server answers again.
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	MustWait(t, p, scrollDown+`, `+texts+`.at(-1) === `+jsString(last.Text)+` && `+newBtn+`.hidden`)
	MustContiguous(t, p, "after the failures")
	w.MustSay("live again", "")
	MustWait(t, p, texts+`.at(-1) === "live again"`)
}

// Going to a message far back (a link) whose pages the server fails to
// give, the one that ends with it or the one after, says so and leaves
// the page as it was, live; the link followed again shows it.
func TestBrowserFarBackJumpFails(t *testing.T) {
	_, _, old, _, p := mustFarRoom(t)
	live := MustEval[[]string](t, p, texts)

	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	for _, failing := range []string{"the page ending with it", "the page after it"} {
		MustExec(t, p, `document.getElementById("composer-error").textContent = ""`)
		followLink(t, p, old.ID)
		if failing == "the page after it" {
			MustDo(t, p, command(fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: next()}))
		}
		MustDo(t, p, storeFailing(next()))
		MustWait(t, p, errorShown("Could not load that message."))
		if got := MustEval[[]string](t, p, texts); fmt.Sprint(got) != fmt.Sprint(live) || !MustEval[bool](t, p, `document.getElementById("new-messages").hidden`) {
			t.Errorf("%s failing: the page is no longer the live one: %d messages, %q … %q", failing, len(got), got[0], got[len(got)-1])
		}
	}
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	followLink(t, p, old.ID)
	MustWait(t, p, flashed+` === "the old one" && !document.getElementById("new-messages").hidden`)
}

// An older page the server fails to give, on a screen the history does
// not fill yet, says so at the top and is asked for again after a pause,
// longer after each failure in a row, not at once: the page asks for
// older pages until the screen is full, and so asked a failing server
// again and again with no pause. Once the server answers, the history
// loads on, a page at a time, to its beginning with nothing missed.
func TestBrowserOlderPageFails(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("chatter %03d", 130)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	// Tall enough that the replay's 50, and the two pages before them,
	// do not fill it.
	MustDo(t, p, chromedp.EmulateViewport(1200, 6000))
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	MustEnter(t, p, ts, "alice", "")

	const top = `document.getElementById("history-top").textContent`
	held := next()
	MustWait(t, p, top+` === "Loading older messages…"`)
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		answered := time.Now()
		MustDo(t, p, storeFailing(held))
		MustWait(t, p, errorShown("Could not load older messages.")+` && `+top+` === "Could not load older messages."`)
		held = next()
		// A lower bound only: a slow machine makes the gap longer, never
		// shorter.
		if gap := time.Since(answered); gap < want {
			t.Errorf("failure %d: asked again %v after it, want a pause of at least %v", i+1, gap.Round(time.Millisecond), want)
		}
	}
	MustDo(t, p, command(fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: held}))
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	MustWait(t, p, top+` === "This is the beginning of #lobby." && `+texts+`[0] === "chatter 000"`)
	if got := MustContiguous(t, p, "after the failures"); len(got) != 132 {
		t.Errorf("%d events on screen, want the 130 said and the two joins", len(got))
	}
}

// A link to a message a little further up than the page has loaded,
// whose older page the server fails to give, says so and asks for that
// page no more: the page tries the window around the message instead
// (one page ending with it), which fails too and says so. Once the
// server answers, the link followed again shows it.
func TestBrowserLinkOlderPageFails(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	last := w.MustSayMany("chatter %03d", 100)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.at(-1) === "chatter 099"`)
	if MustEval[bool](t, p, texts+`.includes("chatter 020")`) {
		t.Fatal("chatter 020 is on screen already; the test needs it a page or two up")
	}
	ref := last.ID - 79 // chatter 020

	MustExec(t, p, recordAsked)
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	followLink(t, p, ref)
	MustDo(t, p, storeFailing(next())) // the page before the oldest on screen
	MustDo(t, p, storeFailing(next())) // the page ending with the message
	MustWait(t, p, errorShown("Could not load that message."))
	asked := MustEval[[]string](t, p, `window.asked`)
	if want := fmt.Sprintf("before=%d&", ref+1); len(asked) != 2 || !strings.HasPrefix(asked[1], want) {
		t.Errorf("the page asked for %q, want an older page and then the one %s…", asked, want)
	}
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	followLink(t, p, ref)
	MustWait(t, p, flashed+` === "chatter 020"`)
}

// A window far back that does not fill the screen loads the pages below
// it by itself, since it cannot be scrolled to ask. One that the server
// fails to give is not asked for again by itself, a frame from the
// socket included; but a window shown anew, by a link to another message
// far back, loads on as the first did.
func TestBrowserShortWindowFarBack(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	old := w.MustSay("the old one", "")
	w.MustSayMany("chatter %03d", 500)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	// Tall enough that a window of one page after the message does not
	// fill it, and short enough that the pages loaded at the bottom do
	// not come within reach of the message (link.js's NEAR pages).
	MustDo(t, p, chromedp.EmulateViewport(1200, 6000))
	MustEnter(t, p, ts, "alice", "")
	// overflow is how far the log can be scrolled: 0 while what it shows
	// does not fill the screen.
	const overflow = `(() => { const l = document.getElementById("log"); return l.scrollHeight - l.clientHeight; })()`
	// The live view has loaded older pages until the screen is full.
	MustWait(t, p, texts+`.at(-1) === "chatter 499" && `+overflow+` > 8 && document.getElementById("history-top").textContent === ""`)

	MustExec(t, p, recordAsked)
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	jump := func(id int64, text string) {
		t.Helper()
		followLink(t, p, id)
		for range 2 { // the page ending with it, and the page after it
			MustDo(t, p, command(fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: next()}))
		}
		MustWait(t, p, flashed+` === `+jsString(text))
		// The live view's offset, far down, fell to 0 when the window
		// took its place: that scroll event, which a page cannot tell
		// from the reader's, fires while the page below is on its way.
		MustFrames(t, p)
		if MustEval[float64](t, p, overflow) > 0 {
			t.Fatalf("%s: the window fills the screen; the test needs one that does not", text)
		}
	}
	jump(old.ID, old.Text)
	MustDo(t, p, storeFailing(next())) // the page below the window
	MustWait(t, p, errorShown("Could not load newer messages."))
	MustPong(t, p)
	if asked := MustEval[[]string](t, p, `window.asked`); len(asked) != 3 {
		t.Errorf("the page asked for %q, want the window's two pages and the one below that failed", asked)
	}

	jump(old.ID+201, "chatter 200") // chatter 000 came just after the old one
	MustDo(t, p, command(fetch.ContinueResponse, fetch.ContinueResponseParams{RequestID: next()}))
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	MustWait(t, p, overflow+` > 120`)
	MustContiguous(t, p, "after loading on")
}
