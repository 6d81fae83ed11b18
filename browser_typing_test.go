package main

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const typingLine = `document.getElementById("typing").textContent`

// Someone writing is shown to the others, in their language, above the
// composer, without moving what is on screen; it goes with their message.
// The server's clock stands still but when the test moves it on (see
// stoppedClock), so each typing event comes when the test says.
func TestBrowserTyping(t *testing.T) {
	clock := newStoppedClock()
	ts := MustStartClock(t, t.TempDir(), clock)
	alice, bob := MustAliceAndBob(t, ts)
	logHeight := `document.getElementById("log").clientHeight`
	before := MustEval[float64](t, bob, logHeight)

	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "hel"))
	MustWait(t, bob, typingLine+` === "alice is typing…"`)
	if h := MustEval[float64](t, bob, logHeight); h != before {
		t.Errorf("the typing line changed the messages' height from %v to %v", before, h)
	}
	if got := MustEval[string](t, alice, typingLine); got != "" {
		t.Errorf("alice's own page says %q", got)
	}
	// Her message takes her off at once: the server's event saying so
	// would come only when the clock moves on.
	MustSay(t, alice, "lo")
	MustWait(t, bob, texts+`.includes("hello") && `+typingLine+` === ""`)

	// Carol reads Chinese. Names come in the order their typing started,
	// three at most; then "several".
	carol := MustPerson(t, MustBrowser(t, "zh-CN"))
	MustEnter(t, carol, ts, "carol", "")
	var others []*wsClient
	for _, name := range []string{"dave", "erin", "frank"} {
		c, _ := ts.MustDial(t, ts.MustLogin(t, name), "lobby", -1)
		others = append(others, c)
	}
	others[0].send(typingFrame())
	clock.skip(presenceEvery)
	MustWait(t, carol, typingLine+` === "dave 正在输入…"`)
	others[1].send(typingFrame())
	clock.skip(presenceEvery)
	MustWait(t, carol, typingLine+` === "dave 和 erin 正在输入…"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "and"))
	clock.skip(presenceEvery)
	MustWait(t, carol, typingLine+` === "dave、erin 和 alice 正在输入…"`)
	MustWait(t, alice, typingLine+` === "dave and erin are typing…"`)
	others[2].send(typingFrame())
	clock.skip(presenceEvery)
	MustWait(t, carol, typingLine+` === "多人正在输入…"`)

	// A lost socket forgets who was typing; the next welcome tells again.
	ts.MustClose(t)
	MustWait(t, carol, typingLine+` === "" && `+disconnected)
}

// Typing again right after sending is shown too: the server takes one
// notice a second per session, so the page sends it once that allows,
// even when no key follows; by Enter or the Send button.
func TestBrowserTypingRightAfterSending(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	for _, c := range []struct {
		name string
		send chromedp.Action[chromedp.Void]
	}{
		{"button", chromedp.Click(chromedp.ID("send"))},
		{"enter", enter()},
	} {
		t.Run(c.name, func(t *testing.T) {
			MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "one "+c.name), c.send)
			MustWait(t, bob, texts+`.includes("one `+c.name+`") && `+typingLine+` === ""`)
			MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "t"))
			MustWait(t, bob, typingLine+` === "alice is typing…"`)
			MustDo(t, alice, enter())
			MustWait(t, bob, texts+`.includes("t") && `+typingLine+` === ""`)
		})
	}
}

// Clearing the composer without sending takes the typist off the others'
// pages at once: the server's clock moves one coalescing second, not the
// five a notice counts for.
func TestBrowserTypingStopped(t *testing.T) {
	clock := newStoppedClock()
	ts := MustStartClock(t, t.TempDir(), clock)
	alice, bob := MustAliceAndBob(t, ts)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "on second thoughts"))
	MustWait(t, bob, typingLine+` === "alice is typing…"`)
	MustExec(t, alice, `document.getElementById("text").select()`)
	MustDo(t, alice, chromedp.KeyEvent(kb.Backspace))
	clock.skip(presenceEvery)
	MustWait(t, bob, typingLine+` === ""`)
	// Typing again lists her again, once the server takes a notice.
	clock.skip(typingGap)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "well"))
	clock.skip(presenceEvery)
	MustWait(t, bob, typingLine+` === "alice is typing…"`)
}

// Rewriting one's message is not typing: the others see the edit, and
// never "alice is typing…" while she makes it.
func TestBrowserEditingIsNotTyping(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "meet at 5")
	MustWait(t, bob, texts+`.includes("meet at 5") && `+typingLine+` === ""`)
	// Past the page's and the server's pacing of notices, so that one
	// sent for the edit would go out at once, before the edit itself.
	time.Sleep(1500 * time.Millisecond)
	MustExec(t, bob, `window.typed = []; new MutationObserver(() => { const s = `+typingLine+`; if (s) window.typed.push(s); }).observe(document.getElementById("typing"), { childList: true, subtree: true, characterData: true })`)
	MustDo(t, alice, upToEdit()...)
	MustWait(t, alice, `!document.getElementById("editing").hidden`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), " or 6"), enter())
	MustWait(t, bob, texts+`.some(s => s.startsWith("meet at 5 or 6"))`)
	// A typing event waits for the room's next coalescing second, so it
	// would come after the edit: give it two.
	time.Sleep(2 * presenceEvery)
	if got := MustEval[[]string](t, bob, `window.typed`); len(got) != 0 {
		t.Errorf("while alice edited, bob's page said %q", got)
	}
}
