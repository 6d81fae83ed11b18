package main

import (
	"fmt"
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
	// Screen readers hear it as one group of buttons, named.
	if got := MustEval[string](t, bob, `(() => { const p = document.querySelector("#messages .palette"); return p.getAttribute("role") + " " + p.getAttribute("aria-label"); })()`); got != "group React" {
		t.Errorf("the palette is %q to a screen reader, want group React", got)
	}
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

	// Names in the order of their newest reaction, also when a page
	// replays the events over the message as it is now: carol's second
	// 👍 came before dave's, though her first one was taken back.
	carol.send(reactFrame(typeUnreact, m.ID, "👍", ""))
	carol.send(reactFrame(typeReact, m.ID, "👍", ""))
	dave, _ := ts.MustDial(t, ts.MustLogin(t, "dave"), "lobby", -1)
	dave.send(reactFrame(typeReact, m.ID, "👍", ""))
	const names = `document.querySelector(".reaction").title === "carol, dave reacted with 👍"`
	MustWait(t, bob, names)
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+reactionRow+` === "👍 2 false|🎉 1 false" && `+names)
}

// A reaction's title names the first ten who reacted, in order, and
// counts the rest, in English and in Chinese: in a busy room a popular
// one would otherwise be a tooltip of hundreds of names.
func TestBrowserReactionNames(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice := MustPerson(t, MustBrowser(t, "en-US"))
	li := MustPerson(t, MustBrowser(t, "zh-CN"))
	MustEnter(t, alice, ts, "alice", "")
	MustEnter(t, li, ts, "li", "")
	MustSay(t, alice, "cake in the kitchen")
	MustWait(t, li, texts+`.includes("cake in the kitchen")`)

	var names []string
	react := func(n int) {
		for range n {
			name := fmt.Sprintf("p%02d", len(names)+1)
			c, _ := ts.MustDial(t, ts.MustLogin(t, name), "lobby", -1)
			c.send(reactFrame(typeReact, c.MustNextOf(typeMessage).ID, "👍", ""))
			names = append(names, name)
		}
	}
	title := `document.querySelector(".reaction").title`
	first := "p01, p02, p03, p04, p05, p06, p07, p08, p09, p10"
	for _, tc := range []struct {
		more     int
		en, zhCN string
	}{
		{10, first + " reacted with 👍", first + " 回应了 👍"},
		{1, first + " and 1 other reacted with 👍", first + " 等 11 人回应了 👍"},
		{2, first + " and 3 others reacted with 👍", first + " 等 13 人回应了 👍"},
	} {
		react(tc.more)
		t.Run(fmt.Sprint(len(names)), func(t *testing.T) {
			MustWait(t, alice, reactionRow+fmt.Sprintf(` === "👍 %d false"`, len(names)))
			MustWait(t, li, reactionRow+fmt.Sprintf(` === "👍 %d false"`, len(names)))
			if got := MustEval[string](t, alice, title); got != tc.en {
				t.Errorf("in English: %q, want %q", got, tc.en)
			}
			if got := MustEval[string](t, li, title); got != tc.zhCN {
				t.Errorf("in Chinese: %q, want %q", got, tc.zhCN)
			}
		})
	}
}

// A reaction is its name's however the name was written when it was
// made: alice, who reacted as "Alice" in an earlier session, sees it as
// hers (pressed), and a press takes it off.
func TestBrowserReactionUnderAnotherSpelling(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	msg := bob.MustSay("we shipped it", "1")
	ck := ts.MustLogin(t, "Alice")
	earlier, _ := ts.MustDial(t, ck, "lobby", -1)
	earlier.send(reactFrame("react", msg.ID, "👍", "r1"))
	if ev := bob.MustNextOf(typeReact); ev.User != "Alice" {
		t.Fatalf("the reaction is %q's", ev.User)
	}
	earlier.conn.Close()
	ts.MustLogout(t, ck)

	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	reaction := `document.querySelector("#messages .msg .reaction")`
	MustWait(t, p, reaction+`?.getAttribute("aria-pressed") === "true"`)
	MustDo(t, p, chromedp.Click(chromedp.CSS("#messages .msg .reaction")))
	if ev := bob.MustNextOf(typeReact, typeUnreact); ev.Type != typeUnreact {
		t.Errorf("a press on her reaction sent a %s", ev.Type)
	}
	MustWait(t, p, `!`+reaction)
}

// A reaction pressed while the page is disconnected says it could not be
// saved, rather than nothing at all, and changes nothing on screen; one
// that went says nothing.
func TestBrowserReactOffline(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "we shipped it")
	MustWait(t, p, texts+`.includes("we shipped it") && `+nonePending)
	MustHover(t, p, "#messages .msg")
	MustDo(t, p, chromedp.Click(chromedp.CSS("#messages .msg .react")))
	MustDo(t, p, chromedp.Click(chromedp.CSS(`#messages .palette .pick[data-emoji="🎉"]`)))
	MustWait(t, p, reactionRow+` === "🎉 1 true"`)
	if !MustEval[bool](t, p, `document.getElementById("composer-error").hidden`) {
		t.Errorf("a reaction that went says %q", MustEval[string](t, p, `document.getElementById("composer-error").textContent`))
	}

	ts.MustClose(t)
	MustWait(t, p, disconnected)
	for _, press := range []struct {
		name string
		do   []chromedp.Action[chromedp.Void]
	}{
		{"taking one's own off", []chromedp.Action[chromedp.Void]{chromedp.Click(chromedp.CSS(".reaction"))}},
		{"a new one from the palette", []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS("#messages .msg .react")),
			chromedp.Click(chromedp.CSS(`#messages .palette .pick[data-emoji="👍"]`)),
		}},
	} {
		MustExec(t, p, `document.getElementById("composer-error").hidden = true`)
		MustHover(t, p, "#messages .msg")
		MustDo(t, p, press.do...)
		MustWait(t, p, errorShown("The server could not save that; try again."))
		if got := MustEval[string](t, p, reactionRow); got != "🎉 1 true" {
			t.Errorf("%s while disconnected: the reactions read %q", press.name, got)
		}
	}
}
