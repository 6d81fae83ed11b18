package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A message further up than a few pages (a link's, a search result's) is
// shown in a window of the history around it, not after every page
// between it and the newest. There the page shows changes to what is in
// the window, counts what comes meanwhile without putting it below, and
// loads on as the reader scrolls down until it meets the newest and is
// live again; "Latest messages ↓" and sending a message go straight to
// the newest.
func TestBrowserFarBack(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("before %d", 30)
	old := w.MustSay("the old one", "")
	const n = 1100
	w.MustSayMany("chatter %04d", n)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.at(-1) === "chatter 1099"`)

	const newBtn = `document.getElementById("new-messages")`
	far := func(how, text string) {
		t.Helper()
		followLink(t, p, old.ID)
		MustWait(t, p, flashed+` === `+jsString(text)+` && !`+newBtn+`.hidden`)
		got := MustEval[[]string](t, p, texts)
		// The page that ends with it, and the page after: not the 1100
		// messages between it and the newest.
		if len(got) > 100 || got[0] != "before 0" || got[len(got)-1] != "chatter 0049" {
			t.Fatalf("%s: the window holds %d messages from %q to %q", how, len(got), got[0], got[len(got)-1])
		}
	}
	far("from a link", "the old one")
	if got := MustEval[string](t, p, newBtn+`.textContent`); got != "Latest messages ↓" {
		t.Errorf("the button down reads %q", got)
	}

	// Meanwhile: a new message is counted, not put below the window; an
	// edit to one in the window is shown.
	w.MustSay("said meanwhile", "")
	w.send(editFrame(old.ID, "the old one, edited", "e1"))
	w.MustEdited(old.ID, "writer", "the old one, edited")
	MustWait(t, p, newBtn+`.textContent === "1 new message ↓" && `+texts+`.includes("the old one, edited (edited)")`)
	if MustEval[bool](t, p, texts+`.includes("said meanwhile")`) {
		t.Error("a new message was put below the window far back")
	}

	// Scrolling down loads on until the page is live again: nothing
	// missed or shown twice, and no more on screen than a busy room keeps.
	// The pages asked for below the window are recorded: once live, the
	// page asks for none (the socket brings what comes).
	MustExec(t, p, recordAsked)
	MustWait(t, p, `(() => { const l = document.getElementById("log"); l.scrollTop = l.scrollHeight; return `+texts+`.at(-1) === "said meanwhile"; })()`)
	want := []string{"the old one, edited (edited)"}
	for i := range n {
		want = append(want, fmt.Sprintf("chatter %04d", i))
	}
	want = append(want, "said meanwhile")
	got := MustEval[[]string](t, p, texts)
	if len(got) > 1000 || len(got) < 500 || !slices.Equal(got, want[len(want)-len(got):]) {
		t.Errorf("after scrolling down, %d messages on screen, not the newest of what was said in order: %q … %q", len(got), got[0], got[len(got)-1])
	}
	// The last page makes the page live: the button down goes, before
	// anything new comes.
	MustWait(t, p, newBtn+`.hidden`)
	w.MustSay("live again", "")
	MustWait(t, p, texts+`.at(-1) === "live again"`)
	if asked := MustEval[[]string](t, p, `window.asked.filter((q) => q.startsWith("after="))`); len(asked) == 0 || slices.ContainsFunc(asked, func(q string) bool { return strings.HasPrefix(q, "after=0&") }) {
		t.Errorf("pages asked for below the window: %q; want some, and none once live (after=0)", asked)
	}

	// From far back, "Latest messages ↓" goes to the newest page.
	far("from a link again", "the old one, edited (edited)")
	MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
	MustWait(t, p, texts+`.at(-1) === "live again" && !`+texts+`.includes("the old one, edited (edited)") && `+newBtn+`.hidden`)
	w.MustSay("after the button", "")
	MustWait(t, p, texts+`.at(-1) === "after the button"`)

	// So does sending a message.
	far("from a link once more", "the old one, edited (edited)")
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), "sent from far back"), enter())
	MustWait(t, p, texts+`.slice(-2).join("|") === "after the button|sent from far back" && !document.querySelector("#pending li")`)

	// Up in the empty composer edits one's last message, which is below
	// the window: the page goes to the newest first.
	far("from a link before Up", "the old one, edited (edited)")
	MustDo(t, p, upToEdit()...)
	MustWait(t, p, `!document.getElementById("editing").hidden && document.getElementById("text").value === "sent from far back" && `+texts+`.at(-1) === "sent from far back" && `+newBtn+`.hidden`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), kb.Escape))
	MustWait(t, p, `document.getElementById("editing").hidden`)

	// So does sending a picture, at once: it shows as on its way below
	// the newest messages while it uploads (held here).
	upload := MustHoldRequests(t, p, "*/api/rooms/lobby/images", fetch.RequestStageRequest)
	far("from a link with a picture", "the old one, edited (edited)")
	MustDo(t, p, pickPicture(t, "chart.png", 300, 120))
	held := upload()
	MustWait(t, p, `!!document.querySelector("#pending .picture") && `+texts+`.at(-1) === "sent from far back" && `+newBtn+`.hidden`)
	MustDo(t, p, letGo(held))
	MustWait(t, p, `!![...document.querySelectorAll("#messages .msg")].at(-1).querySelector(".picture") && `+texts+`.includes("sent from far back") && !document.querySelector("#pending li") && `+newBtn+`.hidden`)

	// A link to no message here still says so.
	MustExec(t, p, `location.hash = "#msg-1"`) // the writer's join
	MustWait(t, p, `document.getElementById("composer-error").textContent === "There is no such message in this room."`)
}

// A page of the history read before a change that came over the socket
// while the page was on its way shows the change all the same: what came
// meanwhile is applied again once the page is on screen.
func TestBrowserFarBackKeepsChangesMadeMeanwhile(t *testing.T) {
	_, w, old, last, p := mustFarRoom(t)

	// The page that ends with the old message is held once the server
	// has answered.
	next := MustHoldRequests(t, p, fmt.Sprintf("*/messages?before=%d&*", old.ID+1), fetch.RequestStageResponse)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, old.ID))
	mustChangeMeanwhile(t, p, w, old, last, next())
	MustWait(t, p, fmt.Sprintf(`!!document.querySelector('#messages .msg.flash[data-id="%d"]')`, old.ID))
}

// And so does a page below a window far back, loaded by scrolling down:
// an edit and a reaction to one of its messages, which came while it was
// on its way and so before its message was on screen, show on it.
func TestBrowserNewerPageKeepsChangesMadeMeanwhile(t *testing.T) {
	_, w, old, _, p := mustFarRoom(t)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, old.ID))
	MustWait(t, p, flashed+` === "the old one"`)
	// The window's newest, and one of the page after it.
	bottom := ev{ID: int64(MustEval[int](t, p, `+[...document.querySelectorAll("#messages [data-id]")].at(-1).dataset.id`)), Text: MustEval[string](t, p, texts+`.at(-1)`)}
	below := ev{ID: bottom.ID + 5, Text: fmt.Sprintf("chatter %03d", bottom.ID+5-old.ID-1)} // chatter 000 came just after the old one
	// The link's smooth scroll ends first (see TestBrowserFarBackPageFails).
	MustScrollStill(t, p)

	next := MustHoldRequests(t, p, fmt.Sprintf("*/messages?after=%d&*", bottom.ID), fetch.RequestStageResponse)
	MustExec(t, p, `(() => { const l = document.getElementById("log"); l.scrollTop = l.scrollHeight; })()`)
	mustChangeMeanwhile(t, p, w, below, bottom, next())
}

// mustFarRoom is a room with "the old one" and 300 messages after it
// (last the newest), more than the page loads up to a link, and a person
// on its newest page.
func mustFarRoom(t *testing.T) (ts *testServer, w *wsClient, old, last ev, p context.Context) {
	t.Helper()
	ts = MustStart(t, t.TempDir())
	w, _ = ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	old = w.MustSay("the old one", "")
	last = w.MustSayMany("chatter %03d", 300)
	p = MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.at(-1) === "chatter 299"`)
	return ts, w, old, last, p
}

// mustChangeMeanwhile has w (the writer) edit message old and react to
// it while the page p's request held is, then edit last, the newest on
// screen: the page has had the first two once it shows that. Then it
// lets the request go, and waits for old to show the edit and the
// reaction.
func mustChangeMeanwhile(t *testing.T, p context.Context, w *wsClient, old, last ev, held fetch.RequestID) {
	t.Helper()
	oldText, lastText := old.Text+", edited", last.Text+", edited"
	w.send(editFrame(old.ID, oldText, "e1"))
	w.MustEdited(old.ID, "writer", oldText)
	w.send(reactFrame("react", old.ID, "👍", "r1"))
	w.MustNextOf(typeReact)
	w.send(editFrame(last.ID, lastText, "e2"))
	w.MustEdited(last.ID, "writer", lastText)
	MustWait(t, p, texts+`.at(-1) === `+jsString(lastText+" (edited)"))
	MustDo(t, p, letGo(held))
	MustWait(t, p, fmt.Sprintf(`(() => { const li = document.querySelector('#messages .msg[data-id="%d"]'); return !!li && li.querySelector(".text").textContent === %s && li.querySelector(".reaction")?.textContent === "👍 1"; })()`, old.ID, jsString(oldText+" (edited)")))
}

// So does a page of older messages loaded by scrolling up: an edit and
// a reaction that came while it was on its way show on its message.
func TestBrowserOlderPageKeepsChangesMadeMeanwhile(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	old := w.MustSay("the old one", "")
	last := w.MustSayMany("chatter %03d", 70)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.at(-1) === "chatter 069"`)
	if MustEval[bool](t, p, texts+`.includes("the old one")`) {
		t.Fatal("the old message is on screen from the start")
	}

	next := MustHoldRequests(t, p, "*/messages?before=*", fetch.RequestStageResponse)
	MustExec(t, p, `document.getElementById("log").scrollTop = 0`)
	mustChangeMeanwhile(t, p, w, old, last, next())
}

// A page of older messages that comes after what was on screen was
// replaced is dropped: it belonged above what is gone. Here it was asked
// for in a window far back, and "Latest messages ↓" came first.
func TestBrowserOlderPageForAReplacedScreenDropped(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("early %03d", 200)
	old := w.MustSay("the old one", "")
	w.MustSayMany("chatter %03d", 300)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, texts+`.at(-1) === "chatter 299"`)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, old.ID))
	MustWait(t, p, fmt.Sprintf(`!!document.querySelector('#messages .msg.flash[data-id="%d"]')`, old.ID))

	MustExec(t, p, recordAnswers)
	next := MustHoldRequests(t, p, "*/messages?before=*", fetch.RequestStageResponse)
	MustExec(t, p, `document.getElementById("log").scrollTop = 0`)
	older := next()
	MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
	MustWait(t, p, texts+`.at(-1) === "chatter 299" && !`+texts+`.includes("the old one")`)
	MustDo(t, p, letGo(older))
	MustWait(t, p, `window.answered.some((u) => u.includes("before="))`)
	if ids := MustContiguous(t, p, "after the older page came"); ids[0] < int(old.ID) {
		t.Errorf("the newest page starts at id %d, from before the window far back", ids[0])
	}
}

// From far back, a link to the room's newest message, said meanwhile
// (counted, not put below the window), shows it, as a link to any other
// does, not "no such message"; and its window reaching the newest, the
// page is live again.
func TestBrowserFarBackLinkToNewest(t *testing.T) {
	_, w, old, _, p := mustFarRoom(t)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, old.ID))
	MustWait(t, p, flashed+` === "the old one" && !`+texts+`.includes("chatter 299")`)
	// Said meanwhile: the room's newest event, counted on the button.
	newest := w.MustSay("the newest", "")
	MustWait(t, p, `document.getElementById("new-messages").textContent === "1 new message ↓"`)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, newest.ID))
	MustWait(t, p, flashed+` === "the newest" && document.getElementById("new-messages").hidden`)
	w.MustSay("live again", "")
	MustWait(t, p, texts+`.at(-1) === "live again"`)
}
