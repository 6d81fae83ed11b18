package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Links end where a reader sees them end: at Chinese text written straight
// after them, at the sentence's punctuation, and not at a bracket the URL
// itself opened. The rest of the text stays as it was.
func TestBrowserLinks(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "zh-CN"))
	MustEnter(t, p, ts, "alice", "")
	cases := []struct{ text, links string }{
		{"看这个https://example.com/a很好", "https://example.com/a"},
		{"去https://example.com/b，然后告诉我。", "https://example.com/b"},
		{"链接：https://example.com/c。", "https://example.com/c"},
		{"「https://example.com/d」", "https://example.com/d"},
		{"see https://en.wikipedia.org/wiki/Go_(programming_language).", "https://en.wikipedia.org/wiki/Go_(programming_language)"},
		{"(also https://example.com/e)", "https://example.com/e"},
		{"*https://example.com/f* and ~https://example.com/g~", "https://example.com/f https://example.com/g"},
		{"https://example.com/%E4%B8%AD%E6%96%87?q=1#top and http://example.org", "https://example.com/%E4%B8%AD%E6%96%87?q=1#top http://example.org"},
		{"not a link: https:// or https://. or xhttps://example.com", ""},
	}
	for _, c := range cases {
		MustPaste(t, p, c.text)
	}
	MustWait(t, p, texts+`.length === `+fmt.Sprint(len(cases)))
	got := MustEval[[][]string](t, p, `[...document.querySelectorAll("#messages .msg .text")].map(e => [e.textContent, [...e.querySelectorAll("a")].map(a => a.getAttribute("href")).join(" ")])`)
	for i, c := range cases {
		if got[i][0] != c.text {
			t.Errorf("%q shows as %q", c.text, got[i][0])
		}
		if got[i][1] != c.links {
			t.Errorf("%q links %q, want %q", c.text, got[i][1], c.links)
		}
	}
}

// The new-messages button takes the reader down to them. On a desktop the
// cursor goes to the composer; on a phone it does not, as that would open
// the keyboard over the messages.
func TestBrowserNewMessagesButtonKeepsPhoneKeyboardShut(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("old %02d", 40)
	b := MustBrowser(t, "en-US")
	for _, c := range []struct {
		name      string
		viewport  chromedp.Action[chromedp.Void]
		wantFocus bool
	}{
		{"desktop", chromedp.EmulateViewport(1000, 600), true},
		{"phone", chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile, chromedp.EmulateTouch), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := MustPerson(t, b)
			MustDo(t, p, c.viewport)
			MustEnter(t, p, ts, "reader-"+c.name, "")
			MustWait(t, p, texts+`.includes("old 39")`)
			MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 100`))
			w.say("new for "+c.name, "")
			MustWait(t, p, `!document.getElementById("new-messages").hidden`)
			MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
			MustWait(t, p, `document.getElementById("new-messages").hidden && (() => { const l = document.getElementById("log"); return l.scrollHeight - l.scrollTop - l.clientHeight < 48; })()`)
			if got := MustEval[bool](t, p, `document.activeElement === document.getElementById("text")`); got != c.wantFocus {
				t.Errorf("composer focused: %t, want %t", got, c.wantFocus)
			}
		})
	}
}

// A message in Arabic or Hebrew reads right to left, with its punctuation
// where its writer put it; others stay left to right. So does the composer
// while one types it.
func TestBrowserRightToLeftText(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	cases := []struct{ text, dir string }{
		{"שלום, מה שלומך?", "rtl"},
		{"مرحبا! 123", "rtl"},
		{"hello, שלום", "ltr"},
		{"你好", "ltr"},
	}
	for _, c := range cases {
		MustPaste(t, p, c.text)
	}
	MustWait(t, p, texts+`.length === `+fmt.Sprint(len(cases)))
	got := MustEval[[]string](t, p, `[...document.querySelectorAll("#messages .msg .text")].map(e => getComputedStyle(e).direction)`)
	for i, c := range cases {
		if got[i] != c.dir {
			t.Errorf("%q shows %s, want %s", c.text, got[i], c.dir)
		}
	}
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`), chromedp.SendKeys(chromedp.ID("text"), "שלום"))
	if d := MustEval[string](t, p, `getComputedStyle(document.getElementById("text")).direction`); d != "rtl" {
		t.Errorf("the composer shows Hebrew %s, want rtl", d)
	}
}

// The room box takes what the server takes (Thai writes vowels with
// combining marks), and says why for what it does not, staying put.
func TestBrowserGoToRoom(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("room-input"), "a b"), chromedp.Click(chromedp.CSS(`#room-form button`)))
	MustWait(t, p, `!document.getElementById("composer-error").hidden && document.getElementById("composer-error").textContent.startsWith("Room names have")`)
	if path := MustEval[string](t, p, `location.pathname`); path != "/r/lobby" {
		t.Errorf("went to %s", path)
	}
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("room-input").value = ""`))
	MustPasteInto(t, p, "room-input", "สวัสดี")
	MustDo(t, p, chromedp.Click(chromedp.CSS(`#room-form button`)))
	MustWait(t, p, `document.body.dataset.room === "สวัสดี" && `+connected)

	// The room box offers the rooms this browser was in lately, newest
	// first, not the one open; logging out forgets them.
	offered := `[...document.querySelectorAll("#recent-rooms option")].map(o => o.value).join("|")`
	if got := MustEval[string](t, p, offered); got != "lobby" {
		t.Errorf("in สวัสดี the room box offers %q, want lobby", got)
	}
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/kitchen"))
	MustWait(t, p, connected+` && `+offered+` === "สวัสดี|lobby"`)

	// A name in capitals goes to the room a link in capitals goes to: the
	// server lowers it, as JavaScript would not for a final Σ.
	MustPasteInto(t, p, "room-input", "ΟΔΟΣ")
	MustDo(t, p, chromedp.Click(chromedp.CSS(`#room-form button`)))
	MustWait(t, p, `document.body.dataset.room === "οδοσ" && location.pathname === "/r/" + encodeURIComponent("οδοσ") && `+connected)

	// It keeps ten rooms, the open one included, and drops what is not a
	// room name, however the list came to hold it; what was read in a
	// room it drops goes too.
	kept := `["kitchen", "r1", "a b", "r2", 7, "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"]`
	// (Set from a page of the site that is no room's: a room's page,
	// leaving, would write what was read there, by its own list.)
	MustDo(t, p, chromedp.Navigate(ts.URL+"/static/icon.svg"),
		chromedp.Evaluate[chromedp.Void](`localStorage.setItem("chat.rooms", JSON.stringify(`+kept+`)); localStorage.setItem("chat.seen", JSON.stringify({kitchen: 2, r1: 3, r10: 4, r11: 5}))`),
		chromedp.Navigate(ts.URL+"/r/r5"))
	MustWait(t, p, connected+` && "r5" in JSON.parse(localStorage.getItem("chat.seen"))`)
	if got := MustEval[string](t, p, `Object.keys(JSON.parse(localStorage.getItem("chat.seen"))).sort().join("|")`); got != "kitchen|r1|r5" {
		t.Errorf("the browser keeps what was read in %q, want kitchen, r1 and r5", got)
	}
	const want = "kitchen|r1|r2|r3|r4|r6|r7|r8|r9"
	if got := MustEval[string](t, p, offered); got != want {
		t.Errorf("in r5 the room box offers %q, want %q", got, want)
	}
	if got := MustEval[string](t, p, `localStorage.getItem("chat.rooms")`); got != `["r5","`+strings.ReplaceAll(want, "|", `","`)+`"]` {
		t.Errorf("the browser keeps %s", got)
	}
	MustDo(t, p, chromedp.Click(chromedp.ID("logout")))
	MustWait(t, p, `location.pathname === "/" && localStorage.getItem("chat.rooms") === null`)
}

// Messages that come while the reader is away, in another window or
// another tab, are counted in the title, and a "New" line marks where
// they begin, with the author shown again after it. The line stays when
// the reader is back, moves when they are away again, and goes when they
// send a message. What a reconnect's replay brings counts as well.
func TestBrowserUnreadWhileAway(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	title := MustEval[string](t, p, `document.title`)
	titleIs := func(n int) string {
		if n == 0 {
			return `document.title === ` + jsString(title)
		}
		return fmt.Sprintf(`document.title === "(%d) " + %s`, n, jsString(title))
	}
	const lines = `document.querySelectorAll("#messages .unread-line").length`
	// The author and text of the message after the line.
	const afterLine = `(() => {
		const m = document.querySelector("#messages .unread-line")?.nextElementSibling;
		return m ? (m.querySelector(".author")?.textContent ?? "(no author)") + ": " + m.querySelector(".text").textContent : "";
	})()`

	bob.say("read", "")
	MustWait(t, p, texts+`.includes("read")`)
	if n := MustEval[int](t, p, lines); n != 0 {
		t.Fatalf("%d New lines while the reader is here", n)
	}

	// Another window in front. "away 1" would be grouped under "read"
	// (same author, same minute); after the line it shows its author.
	MustExec(t, p, setFocus(false))
	bob.say("away 1", "")
	bob.say("away 2", "")
	MustWait(t, p, titleIs(2)+` && `+texts+`.includes("away 2")`)
	if got := MustEval[string](t, p, afterLine); got != "bob: away 1" {
		t.Errorf("after the New line: %q, want bob: away 1", got)
	}
	if role := MustEval[string](t, p, `document.querySelector("#messages .unread-line").getAttribute("role")`); role != "separator" {
		t.Errorf("the New line's role is %q, want separator", role)
	}
	MustExec(t, p, setFocus(true))
	MustWait(t, p, titleIs(0))
	if n := MustEval[int](t, p, lines); n != 1 {
		t.Errorf("%d New lines once back, want it kept", n)
	}

	// Another tab: the line moves to the first message of this absence.
	MustExec(t, p, setHidden(true))
	bob.say("away 3", "")
	MustWait(t, p, titleIs(1))
	if n, got := MustEval[int](t, p, lines), MustEval[string](t, p, afterLine); n != 1 || got != "bob: away 3" {
		t.Errorf("%d New lines, before %q; want 1, before bob: away 3", n, got)
	}
	MustExec(t, p, setHidden(false))
	MustWait(t, p, titleIs(0))
	MustSay(t, p, "my reply")
	MustWait(t, p, texts+`.includes("my reply") && `+lines+` === 0`)

	// Away while the connection drops: the replay's messages are new.
	MustExec(t, p, setFocus(false))
	fz.hold()
	fz.cut()
	MustWait(t, p, disconnected)
	bob.say("missed 1", "")
	bob.say("missed 2", "")
	fz.release()
	MustWait(t, p, connected+` && `+texts+`.includes("missed 2")`)
	MustWait(t, p, titleIs(2))
	if got := MustEval[string](t, p, afterLine); got != "bob: missed 1" {
		t.Errorf("after the New line: %q, want bob: missed 1", got)
	}
	// Back, a picture sent does what a message does.
	MustExec(t, p, setFocus(true))
	MustWait(t, p, titleIs(0)+` && `+lines+` === 1`)
	MustDo(t, p, pickPicture(t, "chart.png", 300, 120))
	MustWait(t, p, `!!document.querySelector("#messages .picture") && `+lines+` === 0`)
}

// A touch screen has no hover, so no title, and a phone hides the time of
// grouped messages: a tap on a message (or a join) shows its full date,
// the one a mouse gets on hover, under it, and another tap hides it. A tap
// on a link is the link's. With a mouse, a click selects text as before.
func TestBrowserTapShowsDate(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.say("first", "")
	w.say("grouped under it", "")
	w.say("see https://example.com/x", "")
	for range 3 {
		w.MustNextOf(typeMessage)
	}
	b := MustBrowser(t, "en-US")
	const shown = `[...document.querySelectorAll("#messages .full-time")].map(e => (e.closest("li").querySelector(".text") ?? e.closest("li").querySelector(".author")).textContent + " @ " + e.firstChild.textContent)` // the date, before the row's buttons
	// The full date, as the message's time element gives it on hover.
	want := func(p context.Context, text string) string {
		t.Helper()
		return MustEval[string](t, p, `(() => { const li = [...document.querySelectorAll("#messages .msg")].find(e => e.querySelector(".text").textContent === `+jsString(text)+`); return li.querySelector(".text").textContent + " @ " + li.querySelector("time").title; })()`)
	}
	tap := func(p context.Context, sel string) {
		t.Helper()
		MustDo(t, p, chromedp.Click(chromedp.CSS(sel)))
	}
	year := strconv.Itoa(time.Now().Year())

	p := MustPerson(t, b)
	MustDo(t, p, chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile, chromedp.EmulateTouch))
	MustEnter(t, p, ts, "phone", "")
	MustWait(t, p, texts+`.length === 3`)
	if v := MustEval[string](t, p, `getComputedStyle(document.querySelector(".msg.grouped .side-time")).display`); v != "none" {
		t.Fatalf("a grouped message's time shows on a phone (display %s); the tap is not needed", v)
	}
	tap(p, ".msg.grouped .text")
	MustWait(t, p, shown+`.length === 1`)
	got := MustEval[[]string](t, p, shown)
	if w := want(p, "grouped under it"); got[0] != w || !strings.Contains(w, year) {
		t.Errorf("tapped the grouped message: %q, want %q (with the year)", got, w)
	}
	tap(p, ".msg:not(.grouped) .text") // the first
	MustWait(t, p, shown+`.length === 2`)
	tap(p, ".msg.grouped .text")
	MustWait(t, p, shown+`.length === 1`)
	if got, w := MustEval[[]string](t, p, shown), want(p, "first"); got[0] != w {
		t.Errorf("after tapping the grouped one again: %q, want %q", got, w)
	}
	tap(p, ".system")
	MustWait(t, p, shown+`.length === 2`)
	// A tap on a link opens it (in a new tab) and shows nothing here.
	tap(p, ".msg a")
	if n := MustEval[int](t, p, shown+`.length`); n != 2 {
		t.Errorf("a tap on a link showed or hid a date: %d shown", n)
	}

	d := MustPerson(t, b)
	MustDo(t, d, chromedp.EmulateViewport(1000, 700))
	MustEnter(t, d, ts, "desktop", "")
	MustWait(t, d, texts+`.length === 3`)
	tap(d, ".msg.grouped .text")
	if n := MustEval[int](t, d, shown+`.length`); n != 0 {
		t.Errorf("a click with a mouse showed %d dates", n)
	}
}

// A message from someone else that says "@" and the reader's name is
// highlighted, whatever the case or width, where the mention stands on
// its own; the reader's own messages and other names are not.
func TestBrowserMentions(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "Mary Jane", "")
	MustSay(t, p, "@mary jane, that is me") // own: not highlighted
	MustWait(t, p, texts+`.length === 1 && `+nonePending)
	cases := []struct {
		text string
		want bool
	}{
		{"@Mary Jane look", true},
		{"thanks, @mary jane.", true},
		{"(@MARY JANE)", true},
		{"ｈｉ ＠ｍａｒｙ ｊａｎｅ", true}, // full width
		{"@mary jane… are you there?", true},
		{"@mary jane's turn", true},
		{"@mary janet", false},
		{"@mary jane2 is someone else", false},
		{"@mary jane.b too", false},
		{"write to x@mary jane", false},
		{"mary jane without the at", false},
	}
	for _, c := range cases {
		bob.say(c.text, "")
	}
	MustWait(t, p, fmt.Sprintf(`%s.length === %d`, texts, len(cases)+1))
	got := MustEval[[]bool](t, p, `[...document.querySelectorAll("#messages .msg")].slice(1).map(e => e.classList.contains("mention"))`)
	if mine := MustEval[bool](t, p, `document.querySelector("#messages .msg.mine").classList.contains("mention")`); mine {
		t.Error("the reader's own message is highlighted as a mention")
	}
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("%q: mention %t, want %t", c.text, got[i], c.want)
		}
	}
}

// A name in the online list mentions them: "@name " goes into the composer
// where the cursor is, and the message that says it is highlighted for
// them. Escape closes the list.
func TestBrowserMentionFromOnlineList(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, `document.getElementById("online-toggle").innerText === "2 online"`)
	if got := MustAccessibleName(t, alice, `document.getElementById("online-toggle")`); got != "2 online" {
		t.Errorf("the online button's name to a screen reader: %q, want 2 online", got)
	}
	MustDo(t, alice, chromedp.Click(chromedp.ID("online-toggle")))
	if v := MustEval[string](t, alice, `document.getElementById("online-toggle").getAttribute("aria-expanded")`); v != "true" {
		t.Errorf("the open list's button says aria-expanded=%s", v)
	}
	if n := MustEval[int](t, alice, `document.querySelectorAll("#online-names .mention-name").length`); n != 1 {
		t.Errorf("%d names to mention, want 1 (bob; not alice herself)", n)
	}
	if got := MustAccessibleName(t, alice, `document.querySelector("#online-names .mention-name")`); got != "Mention bob" {
		t.Errorf("bob's button to a screen reader: %q, want Mention bob", got)
	}
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "thanks"))
	MustDo(t, alice, chromedp.Click(chromedp.CSS(`#online-names .mention-name`)))
	if v := MustEval[string](t, alice, `document.activeElement.id + ": " + document.getElementById("text").value`); v != "text: thanks @bob " {
		t.Errorf("after the click: %q, want the composer focused with %q", v, "thanks @bob ")
	}
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "!"), enter())
	MustWait(t, bob, `[...document.querySelectorAll("#messages .msg.mention .text")].some(e => e.textContent === "thanks @bob !")`)
	// Into an empty composer it is something to send.
	MustWait(t, alice, `document.getElementById("text").value === "" && document.getElementById("send").disabled`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS(`#online-names .mention-name`)))
	MustWait(t, alice, `document.getElementById("text").value === "@bob " && !document.getElementById("send").disabled`)
	MustExec(t, alice, `document.getElementById("text").value = ""`)

	// Escape closes the list; from inside it, focus goes back to its button.
	MustDo(t, alice, chromedp.Focus(chromedp.CSS(`#online-names .mention-name`)), chromedp.KeyEvent(kb.Escape))
	if v := MustEval[string](t, alice, `document.getElementById("online-list").hidden + " " + document.getElementById("online-toggle").getAttribute("aria-expanded") + " " + document.activeElement.id`); v != "true false online-toggle" {
		t.Errorf("after Escape: hidden, expanded, focus = %s; want true false online-toggle", v)
	}
}

// Back from another window after more came than fits on screen, the "New"
// line is above the view (the view followed what came). A button at the
// top says how many came since when, and takes the reader up to the line;
// it goes once the line is in view. After a short absence, with the line
// in view, there is no button.
func TestBrowserFirstUnreadButton(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, chromedp.EmulateViewport(800, 500))
	MustEnter(t, p, ts, "alice", "")
	const button = `document.getElementById("first-unread")`

	MustExec(t, p, setFocus(false))
	bob.say("just one", "")
	MustWait(t, p, texts+`.includes("just one")`)
	MustExec(t, p, setFocus(true))
	if !MustEval[bool](t, p, button+`.hidden`) {
		t.Error("the button shows with the New line in view")
	}

	MustSay(t, p, "back") // the line goes
	MustExec(t, p, setFocus(false))
	for i := range 30 {
		bob.say(fmt.Sprintf("while away %02d", i), "")
	}
	MustWait(t, p, texts+`.includes("while away 29")`)
	if !MustEval[bool](t, p, button+`.hidden`) {
		t.Error("the button shows while the reader is away")
	}
	MustExec(t, p, setFocus(true))
	first := MustEval[string](t, p, `document.querySelector(".unread-line").nextElementSibling.querySelector("time").textContent`)
	MustWait(t, p, `!`+button+`.hidden && `+button+`.textContent === "↑ 30 new messages since `+first+`"`)
	lineInView := `(() => { const l = document.querySelector(".unread-line").getBoundingClientRect(), v = document.getElementById("log").getBoundingClientRect(); return l.top >= v.top && l.bottom <= v.bottom; })()`
	if MustEval[bool](t, p, lineInView) {
		t.Fatal("the New line is in view already; the test needs it above")
	}
	MustDo(t, p, chromedp.Click(chromedp.ID("first-unread")))
	MustWait(t, p, lineInView+` && `+button+`.hidden`)
	if got := MustEval[string](t, p, `document.querySelector(".unread-line").nextElementSibling.querySelector(".text").textContent`); got != "while away 00" {
		t.Errorf("the line is before %q, want while away 00", got)
	}

	// backTo30 has 30 messages come while the reader is away, and brings
	// the reader back. (From the bottom, so that the view follows what
	// comes.)
	backTo30 := func(prefix string) {
		MustExec(t, p, `document.getElementById("log").scrollTop = 1e6`)
		MustExec(t, p, setFocus(false))
		for i := range 30 {
			bob.say(fmt.Sprintf("%s %02d", prefix, i), "")
		}
		MustWait(t, p, texts+`.includes("`+prefix+` 29")`)
		MustExec(t, p, setFocus(true))
		MustWait(t, p, `!`+button+`.hidden && `+button+`.textContent.startsWith("↑ 30 new messages since ")`)
	}

	// Scrolling up to the line does as well as the button.
	backTo30("later")
	MustExec(t, p, `document.querySelector(".unread-line").scrollIntoView({block: "center"})`)
	MustWait(t, p, button+`.hidden`)

	// Sending a message ends it too: the line goes, and the button with it.
	backTo30("last")
	MustSay(t, p, "caught up")
	MustWait(t, p, texts+`.includes("caught up") && !document.querySelector(".unread-line") && `+button+`.hidden`)
}

// Far up the conversation (scrolled, or taken there by a search or a
// link), a button goes back down to the newest messages.
func TestBrowserLatestButton(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.MustSayMany("message %d", 3*historyOnJoin)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, chromedp.EmulateViewport(800, 500))
	MustEnter(t, p, ts, "reader", "")
	btn := `document.getElementById("new-messages")`
	MustWait(t, p, texts+`.at(-1) === "message 149" && `+btn+`.hidden`)
	MustExec(t, p, `document.getElementById("log").scrollTop = 0`)
	MustWait(t, p, `!`+btn+`.hidden && `+btn+`.textContent === "Latest messages ↓"`)
	MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
	MustWait(t, p, btn+`.hidden && (() => { const l = document.getElementById("log"); return l.scrollHeight - l.scrollTop - l.clientHeight < 48; })()`)
}
