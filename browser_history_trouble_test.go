package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// From far back, a page below the window that the server fails to give
// says so, there and at the window's bottom, and leaves the window as it
// was, not live. It is asked for again after a pause (1 s, then twice
// that after each failure in a row), by itself while the reader is near
// the window's bottom, and not before: not when the socket brings a
// frame, nor with the reader's next scroll (a server in trouble is not
// asked in a loop). A page that comes makes the next pause 1 s again.
// "Latest messages ↓" asks when pressed, and failing says so too. Once
// the server answers, the page loads on by itself after the pause, and
// scrolling down goes on until it is live with nothing missed or twice.
func TestBrowserFarBackPageFails(t *testing.T) {
	_, w, old, last, p := mustFarRoom(t)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, old.ID))
	const newBtn = `document.getElementById("new-messages")`
	const bottom = `document.getElementById("history-bottom")`
	MustWait(t, p, flashed+` === "the old one" && !`+newBtn+`.hidden`)
	shown := MustEval[[]string](t, p, texts)

	MustExec(t, p, recordAsked)
	MustExec(t, p, recordPauses)
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	// fail fails the request held, and checks that the window stayed.
	fail := func(what string, held fetch.RequestID) time.Time {
		t.Helper()
		failed := mustFailNewer(t, p, held)
		if got := MustEval[[]string](t, p, texts); fmt.Sprint(got) != fmt.Sprint(shown) || MustEval[bool](t, p, newBtn+`.hidden`) {
			t.Errorf("%s: the window changed or went live: %d messages, %q … %q", what, len(got), got[0], got[len(got)-1])
		}
		return failed
	}
	scrollDown := `(() => { const l = document.getElementById("log"); l.scrollTop = l.scrollHeight - l.clientHeight - 300; l.scrollTop = l.scrollHeight; })()`
	// The link's smooth scroll to the message ends first: one of its
	// scroll events after the failure would rightly ask again.
	MustScrollStill(t, p)
	MustExec(t, p, scrollDown)
	held := next()
	MustWait(t, p, `!`+bottom+`.hidden && `+bottom+`.textContent === "Loading newer messages…"`)
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		failed := fail(fmt.Sprintf("failure %d", i+1), held)
		// During the pause, neither a frame the socket brings (here a
		// pong; in a busy room, every message and typing notice) nor the
		// reader's scroll, still near the bottom, asks again.
		MustPong(t, p)
		MustExec(t, p, `document.getElementById("log").scrollTop -= 50`)
		MustFrames(t, p)
		MustExec(t, p, scrollDown)
		held = mustAskAgainAfter(t, next, fmt.Sprintf("failure %d", i+1), failed, want)
	}
	// The page comes, and goes below the window; scrolling down asks for
	// the next, which fails: the pause is 1 s again, as it is after each
	// page that comes.
	MustDo(t, p, letGo(held))
	MustWait(t, p, fmt.Sprintf(`%s.length === %d`, texts, len(shown)+50))
	shown = MustEval[[]string](t, p, texts)
	MustExec(t, p, scrollDown)
	held = next()
	// Away from the bottom, so that the press is all that asks: the
	// pause's end does not either.
	MustExec(t, p, `(() => { const l = document.getElementById("log"); l.scrollTop = l.scrollHeight - l.clientHeight - 400; })()`)
	fail("after a page came", held)
	MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
	fail("Latest messages ↓", next())
	asked := MustEval[[]string](t, p, `window.asked`)
	if len(asked) != 5 || asked[1] != asked[0] || asked[2] != asked[0] || !strings.HasPrefix(asked[0], "after=") || asked[3] == asked[0] || !strings.HasPrefix(asked[3], "after=") || asked[4] != "limit=50" {
		t.Errorf("the page asked for %q, want the page below the window three times, the page below that, then the newest page", asked)
	}
	if got := MustEval[[]float64](t, p, `window.pauses`); fmt.Sprint(got) != "[1000 2000 1000 2000]" {
		t.Errorf("the page paused %v ms before asking again, want 1000 and 2000, and after a page came 1000 and 2000 again", got)
	}

	// The server answers again.
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	MustWait(t, p, scrollDown+`, `+texts+`.at(-1) === `+jsString(last.Text)+` && `+newBtn+`.hidden && `+bottom+`.hidden`)
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
			MustDo(t, p, letGo(next()))
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
// longer after each failure in a row (1 s again once a page came), not
// at once: the page asks for older pages until the screen is full, and
// so asked a failing server again and again with no pause. Once the
// server answers, the history loads on, a page at a time, to its
// beginning with nothing missed. The pause grows to 30 s, and no further.
func TestBrowserOlderPageFails(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("chatter %03d", 130)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	// Tall enough that the replay's 50, and the two pages before them,
	// do not fill it.
	MustDo(t, p, chromedp.EmulateViewport(1200, 6000))
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	MustDo(t, p, command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordPauses}))
	MustEnter(t, p, ts, "alice", "")

	const top = `document.getElementById("history-top").textContent`
	held := next()
	MustWait(t, p, top+` === "Loading older messages…"`)
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		answered := time.Now()
		MustDo(t, p, storeFailing(held))
		MustWait(t, p, errorShown("Could not load older messages.")+` && `+top+` === "Could not load older messages."`)
		held = mustAskAgainAfter(t, next, fmt.Sprintf("failure %d", i+1), answered, want)
	}
	// The page comes, and the next one fails: its pause is 1 s again.
	MustDo(t, p, letGo(held))
	held = next()
	MustDo(t, p, storeFailing(held))
	MustWait(t, p, top+` === "Could not load older messages."`)
	held = next()
	if got := MustEval[[]float64](t, p, `window.pauses`); fmt.Sprint(got) != "[1000 2000 1000]" {
		t.Errorf("the page paused %v ms before asking again, want 1000, 2000 and, after a page came, 1000", got)
	}
	MustDo(t, p, letGo(held))
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	MustWait(t, p, top+` === "This is the beginning of #lobby." && `+texts+`[0] === "chatter 000"`)
	if got := MustContiguous(t, p, "after the failures"); len(got) != 132 {
		t.Errorf("%d events on screen, want the 130 said and the two joins", len(got))
	}

	// The pause stops growing at 30 s: the page's Retry failed seven times
	// in a row, each pause cut short by the next failure.
	pauses := MustEval[[]float64](t, p, importModule("state.js")+`.then((m) => {
		window.pauses = [];
		const r = new m.Retry();
		for (let i = 0; i < 7; i++) r.failed(() => {});
		r.cancel();
		return window.pauses;
	})`, chromedp.EvalAwaitPromise)
	if fmt.Sprint(pauses) != "[1000 2000 4000 8000 16000 30000 30000]" {
		t.Errorf("seven failures in a row paused %v ms, want each twice the last, up to 30000", pauses)
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
// fails to give is asked for again by itself after the pause, and not
// before, a frame from the socket included. A window shown anew, by a
// link to another message far back, loads on at once, pause or not, and
// so does one shown while the page below the last was on its way.
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
	const bottom = `document.getElementById("history-bottom").textContent`
	// The live view has loaded older pages until the screen is full.
	MustWait(t, p, texts+`.at(-1) === "chatter 499" && `+overflow+` > 8 && document.getElementById("history-top").textContent === ""`)

	MustExec(t, p, recordAsked)
	next := MustHoldRequests(t, p, "*/messages?*", fetch.RequestStageResponse)
	// jump follows a link to message id, far back, and has the server
	// give its window's two pages.
	jump := func(id int64, text string) {
		t.Helper()
		followLink(t, p, id)
		for range 2 { // the page ending with it, and the page after it
			MustDo(t, p, letGo(next()))
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
	// loadingBelow is JS that is true while the page is loading the page
	// below the window around message id (the page after it ends 50
	// events on).
	loadingBelow := func(id int64) string {
		return fmt.Sprintf(`window.asked.at(-1).startsWith("after=%d&") && %s === "Loading newer messages…"`, id+50, bottom)
	}
	// mustLoadBelow checks that the page asks for the page below the
	// window around id as it shows the window: it asks in the same task,
	// before the message flashes.
	mustLoadBelow := func(id int64) {
		t.Helper()
		if !MustEval[bool](t, p, loadingBelow(id)) {
			t.Errorf("the page asked for %q and says %q below, want it loading the page below the window", MustEval[[]string](t, p, `window.asked`), MustEval[string](t, p, bottom))
		}
	}
	jump(old.ID, old.Text)
	mustLoadBelow(old.ID)
	below := next()
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		failed := mustFailNewer(t, p, below)
		MustPong(t, p)
		below = mustAskAgainAfter(t, next, fmt.Sprintf("failure %d", i+1), failed, want)
	}
	mustFailNewer(t, p, below) // a pause of 4 s now, for the link below to come within
	if asked := MustEval[[]string](t, p, `window.asked`); len(asked) != 5 || asked[3] != asked[2] || asked[4] != asked[2] {
		t.Errorf("the page asked for %q, want the window's two pages and the one below it three times", asked)
	}

	// During the pause, a window shown anew loads on at once.
	jump(old.ID+201, "chatter 200") // chatter 000 came just after the old one
	mustLoadBelow(old.ID + 201)
	below = next()
	// While that page is on its way, another window, which could not ask
	// meanwhile: it does once the page for the last one is in (and
	// dropped).
	jump(old.ID+351, "chatter 350")
	MustDo(t, p, letGo(below))
	MustWait(t, p, loadingBelow(old.ID+351))
	MustDo(t, p, letGo(next()))
	MustDo(t, p, command(fetch.Disable, cdp.Empty{}))
	MustWait(t, p, overflow+` > 120`)
	if got := MustContiguous(t, p, "after loading on"); got[0] != int(old.ID)+302 {
		t.Errorf("on screen from id %d, want the window around chatter 350 (from %d) loaded on", got[0], old.ID+302)
	}
}

// mustFailNewer answers held, the page below a window far back, as a
// server in trouble does, and waits until the page says so, under the
// composer and at the window's bottom. It returns when the answer went:
// the page cannot have heard of it before.
func mustFailNewer(t *testing.T, p context.Context, held fetch.RequestID) time.Time {
	t.Helper()
	MustExec(t, p, `document.getElementById("composer-error").textContent = ""`)
	failed := time.Now()
	MustDo(t, p, storeFailing(held))
	MustWait(t, p, errorShown("Could not load newer messages.")+` && !document.getElementById("history-bottom").hidden && document.getElementById("history-bottom").textContent === "Could not load newer messages."`)
	return failed
}

// mustAskAgainAfter waits for the next request held (next), which must
// come at least pause after failed, and returns it: a lower bound only,
// as a slow machine makes the gap longer, never shorter.
func mustAskAgainAfter(t *testing.T, next func() fetch.RequestID, what string, failed time.Time, pause time.Duration) fetch.RequestID {
	t.Helper()
	held := next()
	if gap := time.Since(failed); gap < pause {
		t.Errorf("%s: asked again %v after it, want a pause of at least %v", what, gap.Round(time.Millisecond), pause)
	}
	return held
}

// recordPauses is JS that lists in window.pauses, in ms, each pause the
// page takes before asking again for a page of the history that failed
// (state.js's Retry): read off its timers, where a clock could tell a
// pause only from a shorter one.
var recordPauses = recordTimers("/state.js")
