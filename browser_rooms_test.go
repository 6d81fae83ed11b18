package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// showNews is JS that shows the header's badge for news in other rooms
// with count in it, as rooms.js would: for the tests of what it looks
// like, which need no second room's history.
func showNews(count string) string {
	return `(() => { const b = document.getElementById("rooms-unread"); b.querySelector(".count").textContent = ` + jsString(count) + `; b.hidden = false; })()`
}

// The rooms visited lately say how many messages came in them since they
// were last read: in the room box, and in a badge that goes to the one
// with news visited last. What came while the reader was away counts as
// unread, what the page showed them does not, and one's own never.
func TestBrowserUnreadElsewhere(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	bobCk := ts.MustLogin(t, "bob")
	dev, _ := ts.MustDial(t, bobCk, "dev", -1)
	ops, _ := ts.MustDial(t, bobCk, "ops", -1)
	dev.MustSay("read before", "0")

	aliceCk := ts.MustLogin(t, "alice")
	MustDo(t, p, setCookie(ts, aliceCk), chromedp.Navigate(ts.URL+"/r/ops"))
	MustWait(t, p, connected)
	// In #dev, one message comes while alice is in another window: it is
	// unread when she leaves, though the page showed it.
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/dev"))
	MustWait(t, p, connected+` && `+texts+`.includes("read before")`)
	MustExec(t, p, setFocus(false))
	dev.MustSay("while away", "1")
	MustWait(t, p, texts+`.includes("while away")`)
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, connected)

	badge := `(() => { const b = document.getElementById("rooms-unread"); return b.hidden ? "hidden" : b.textContent + " " + b.getAttribute("href") + " " + b.getAttribute("aria-label"); })()`
	offered := `[...document.querySelectorAll("#recent-rooms option")].map(o => o.value + (o.label ? " " + o.label : "")).join("|")`
	MustWait(t, p, badge+` === "💬 1 /r/dev 1 new message in #dev" && `+offered+` === "dev 1 new|ops"`)

	// More in #dev, and news in #ops, show as they are said: pushed over
	// the socket, with nothing asked (the next ask is minutes away).
	// alice's own message in #ops is not news to her.
	alice, _ := ts.MustDial(t, aliceCk, "ops", -1)
	alice.MustSay("mine", "a")
	dev.MustSay("more", "2")
	andMore := dev.MustSay("and more", "3")
	ops.MustSay("ops news", "4")
	MustWait(t, p, badge+` === "💬 4 /r/dev New messages in other rooms: #dev (3) and #ops (1)" && `+offered+` === "dev 3 new|ops 1 new"`)
	// A delete is not pushed; the room box, looked at, asks again.
	dev.send(deleteFrame(andMore.ID, "d"))
	dev.MustDeleted(andMore.ID, "bob")
	MustDo(t, p, chromedp.Focus(chromedp.ID("room-input")))
	MustWait(t, p, badge+` === "💬 3 /r/dev New messages in other rooms: #dev (2) and #ops (1)" && `+offered+` === "dev 2 new|ops 1 new"`)

	// The badge goes there; back, #dev is read and #ops still waits.
	MustDo(t, p, chromedp.Click(chromedp.ID("rooms-unread")))
	MustWait(t, p, `location.pathname === "/r/dev" && `+connected+` && `+texts+`.includes("more")`)
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, connected+` && `+badge+` === "💬 1 /r/ops 1 new message in #ops" && `+offered+` === "dev|ops 1 new"`)

	// Logging out forgets what was read where.
	MustDo(t, p, chromedp.Click(chromedp.ID("logout")))
	MustWait(t, p, `location.pathname === "/" && localStorage.getItem("chat.seen") === null`)
}

// News pushed over the socket and the counts the page asks for may
// cross: the store can answer with a message whose news is still on its
// way to the socket. That message counts once. And a room's count stops
// at 100, as the server's does, however much news comes on top.
func TestBrowserNewsCountedOnce(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	bobCk := ts.MustLogin(t, "bob")
	dev, _ := ts.MustDial(t, bobCk, "dev", -1)
	ops, _ := ts.MustDial(t, bobCk, "ops", -1)

	MustDo(t, p, setCookie(ts, ts.MustLogin(t, "alice")), chromedp.Navigate(ts.URL+"/r/ops"))
	MustWait(t, p, connected)
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/dev"))
	MustWait(t, p, connected)
	for _, js := range []string{holdNews, recordAnswers} {
		MustDo(t, p, command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: js}))
	}
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/lobby"))
	const badge = `(() => { const b = document.getElementById("rooms-unread"); return b.hidden ? "hidden" : b.textContent + " " + b.getAttribute("aria-label"); })()`
	// answered waits for the page to have read n answers of the counts:
	// one on its way when the page asks again makes it skip that ask.
	answered := func(n int) {
		t.Helper()
		MustWait(t, p, fmt.Sprintf(`%s === %d`, unreadAnswers, n))
	}
	MustWait(t, p, connected)
	answered(1) // the page's ask once ready
	if got := MustEval[string](t, p, badge); got != "hidden" {
		t.Fatalf("with no news the badge says %q", got)
	}

	// The news of a message comes late, after an answer that counted it
	// (the room box looked at), and changes nothing; news after it counts.
	MustExec(t, p, `window.holdingNews = true`)
	dev.MustSay("its news comes late", "1")
	MustWait(t, p, `window.newsHeld.length === 1`)
	MustDo(t, p, chromedp.Focus(chromedp.ID("room-input")))
	answered(2)
	MustWait(t, p, badge+` === "💬 1 1 new message in #dev"`)
	if got := MustEval[string](t, p, `window.holdingNews = false, window.newsHeld.shift()(), `+badge); got != "💬 1 1 new message in #dev" {
		t.Errorf("after late news of a message counted already the badge says %q", got)
	}
	dev.MustSay("after", "2")
	MustWait(t, p, badge+` === "💬 2 2 new messages in #dev"`)
	// And the other way round: news heard, then an answer that counts
	// its message too.
	MustDo(t, p, chromedp.Focus(chromedp.ID("text")), chromedp.Focus(chromedp.ID("room-input")))
	answered(3)
	if got := MustEval[string](t, p, badge); got != "💬 2 2 new messages in #dev" {
		t.Errorf("after an answer that counted news heard already the badge says %q", got)
	}
	// News that comes while an answer made before it is on its way is
	// kept when the answer comes.
	next := MustHoldRequests(t, p, "*/api/unread*", fetch.RequestStageResponse)
	MustDo(t, p, chromedp.Focus(chromedp.ID("text")), chromedp.Focus(chromedp.ID("room-input")))
	held := next()
	dev.MustSay("while the answer was on its way", "3")
	MustWait(t, p, badge+` === "💬 3 3 new messages in #dev"`)
	MustDo(t, p, letGo(held), command(fetch.Disable, cdp.Empty{}))
	answered(4)
	if got := MustEval[string](t, p, badge); got != "💬 3 3 new messages in #dev" {
		t.Errorf("after an answer made before the last news the badge says %q", got)
	}

	// 97 more make 100, and #dev's count stops there: the one after it,
	// and then one in #ops, make "101+" in all, not "102+".
	dev.MustSayMany("many %d", 97)
	MustWait(t, p, badge+` === "💬 100+ 100+ new messages in #dev"`)
	dev.MustSay("one more", "4")
	ops.MustSay("in ops", "5")
	MustWait(t, p, badge+` === "💬 101+ New messages in other rooms: #dev (100+) and #ops (1)"`)
}

// holdNews is JS, for before a page loads, that holds the frames of news
// its socket brings while window.holdingNews is true: window.newsHeld
// lists a function for each, which hands it to the page. A frame late
// on the network, as the page sees it.
const holdNews = `(() => {
	window.newsHeld = [];
	const on = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage");
	Object.defineProperty(WebSocket.prototype, "onmessage", {
		get() { return on.get.call(this); },
		set(f) {
			on.set.call(this, (e) => {
				if (window.holdingNews && String(e.data).includes('"type":"news"')) window.newsHeld.push(() => f.call(this, e));
				else f.call(this, e);
			});
		},
	});
})()`

// While the page is on screen it asks for the counts again every five
// minutes, which sets right what is not pushed (here a delete), and not
// while it is hidden: then once it is looked at again. The page's long
// timers are held and run by the test (heldTimers), so no test waits
// five minutes.
func TestBrowserUnreadPolled(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	dev, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "dev", -1)
	MustDo(t, p,
		command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: heldTimers}),
		command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: countedUnreadAsks}),
		setCookie(ts, ts.MustLogin(t, "alice")), chromedp.Navigate(ts.URL+"/r/dev"))
	MustWait(t, p, connected)
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, connected)
	first := dev.MustSay("first", "1")
	dev.MustSay("second", "2")
	MustWait(t, p, newsBadge+` === "💬 2"`)

	// An ask asked for while one is on its way is not made (rooms.js's
	// asking), so each step starts with none on its way.
	const settled = `window.unreadAsks > 0 && ` + unreadAnswers + ` === window.unreadAsks`
	MustWait(t, p, settled)
	base := MustEval[int](t, p, `window.unreadAsks`) // on load
	// polls is JS for how many polls are set (five-minute timers).
	const polls = `heldTimerDelays().filter((ms) => ms === 5 * 60 * 1000).length`
	poll := func(what string, wantAsks, wantPolls int) {
		t.Helper()
		// runHeldTimers runs them in this task, and a page that asks
		// calls fetch before its first await.
		if got := MustEval[string](t, p, `(() => { runHeldTimers(5 * 60 * 1000); return window.unreadAsks + " " + `+polls+`; })()`); got != fmt.Sprint(base+wantAsks, " ", wantPolls) {
			t.Errorf("%s: %s asks and polls set, want %d %d", what, got, base+wantAsks, wantPolls)
		}
	}
	if got := MustEval[int](t, p, polls); got != 1 {
		t.Fatalf("%d polls set, want one", got)
	}
	// A delete is not pushed: the count stays till the next ask.
	dev.send(deleteFrame(first.ID, "d"))
	dev.MustDeleted(first.ID, "bob")
	MustPong(t, p)
	if got := MustEval[string](t, p, newsBadge); got != "💬 2" {
		t.Fatalf("after the delete, before an ask, the badge says %q", got)
	}
	poll("five minutes on", 1, 1)
	MustWait(t, p, settled+` && `+newsBadge+` === "💬 1"`)
	// The room box looked at asks too, and the poll starts again from
	// then: one poll set, not two.
	MustDo(t, p, chromedp.Focus(chromedp.ID("room-input")))
	MustWait(t, p, settled+` && window.unreadAsks === `+fmt.Sprint(base+2)+` && `+polls+` === 1`)

	// Hidden, the poll asks nothing and sets no timer: the page asks
	// once it is looked at again.
	MustExec(t, p, setHidden(true))
	dev.send(deleteFrame(first.ID+1, "d2"))
	dev.MustDeleted(first.ID+1, "bob")
	poll("hidden", 2, 0)
	MustExec(t, p, setHidden(false))
	MustWait(t, p, newsBadge+` === "hidden" && window.unreadAsks === `+fmt.Sprint(base+3)+` && `+polls+` === 1`)
}

// countedUnreadAsks is JS, for before a page loads, that counts its asks
// for unread counts (window.unreadAsks) and lists the answers it has
// read (recordAnswers).
const countedUnreadAsks = recordAnswers + `; (() => {
	window.unreadAsks = 0;
	const fetch = window.fetch;
	window.fetch = (url, ...rest) => {
		if (String(url).startsWith("/api/unread")) window.unreadAsks++;
		return fetch(url, ...rest);
	};
})()`

// unreadAnswers is JS for how many answers of the unread counts the
// page has read (recordAnswers).
const unreadAnswers = `window.answered.filter((url) => new URL(url).pathname === "/api/unread").length`

// newsBadge is JS for the header's badge of news in other rooms: its text,
// or "hidden".
const newsBadge = `(() => { const b = document.getElementById("rooms-unread"); return b.hidden ? "hidden" : b.textContent; })()`

// heldTimers is JS, for before a page loads, that holds its timers of a
// minute or more instead of running them: heldTimerDelays() lists their
// delays, and runHeldTimers(ms) runs those of ms at once, as if that
// time had passed.
const heldTimers = `(() => {
	const set = setTimeout, clear = clearTimeout, held = new Map();
	let last = 0;
	globalThis.setTimeout = (f, ms, ...args) => {
		if (!(ms >= 60000)) return set(f, ms, ...args);
		held.set(--last, { f, ms, args }); // negative: not a real timer's id
		return last;
	};
	globalThis.clearTimeout = (id) => { if (!held.delete(id)) clear(id); };
	globalThis.heldTimerDelays = () => [...held.values()].map((h) => h.ms);
	globalThis.runHeldTimers = (ms) => {
		const due = [...held].filter(([, h]) => h.ms === ms);
		for (const [id] of due) held.delete(id);
		for (const [, h] of due) h.f(...h.args);
	};
})()`

// What one tab shows is read, and another tab of the browser, counting
// it as news from elsewhere, learns so when it next asks.
func TestBrowserUnreadReadInAnotherTab(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	lobby := MustPerson(t, MustBrowser(t, "en-US"))
	dev, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "dev", -1)
	MustDo(t, lobby, setCookie(ts, ts.MustLogin(t, "alice")), chromedp.Navigate(ts.URL+"/r/dev"))
	MustWait(t, lobby, connected)
	MustDo(t, lobby, chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, lobby, connected)
	other := MustTab(t, lobby)
	MustDo(t, other, chromedp.Navigate(ts.URL+"/r/dev"))
	MustWait(t, other, connected)
	MustExec(t, other, setFocus(true))

	dev.MustSay("seen in the other tab", "1")
	MustWait(t, other, texts+`.includes("seen in the other tab")`)
	MustWait(t, lobby, newsBadge+` === "💬 1"`)
	// The other tab notes what it showed as it goes out of sight; the
	// room box looked at asks again.
	MustExec(t, other, setHidden(true))
	MustDo(t, lobby, chromedp.Focus(chromedp.ID("room-input")))
	MustWait(t, lobby, newsBadge+` === "hidden"`)
}
