package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// mentionsShown is JS for the names the list after "@" offers, the
// active one marked with "*".
const mentionsShown = `[...document.querySelectorAll("#mention-list li")].map(li => li.textContent + (li.getAttribute("aria-selected") === "true" ? "*" : "")).join("|")`

// "@" and the start of a name in the composer offers the names that begin
// so: those online first, then those who spoke lately, never one's own.
// Up, Down, Enter, Tab, Escape and a click work the list; a pick puts
// "@name " in place and sends nothing.
func TestBrowserMentionAutocomplete(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	dave, _ := ts.MustDial(t, ts.MustLogin(t, "Dave"), "lobby", -1)
	dave.say("I was here", "")
	dave.MustNextOf(typeMessage)
	dave.conn.Close()
	alice, bob := MustAliceAndBob(t, ts)
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	MustWait(t, alice, `document.getElementById("online-toggle").innerText === "3 online" && `+texts+`.includes("I was here")`)

	value := `document.getElementById("text").value`
	open := `!document.getElementById("mention-list").hidden`
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "hi @"))
	MustWait(t, alice, mentionsShown+` === "bob*|carol|Dave" && document.getElementById("text").getAttribute("aria-expanded") === "true"`)
	// To a screen reader the composer is a combobox whose options these
	// are, and the one picked by Enter is the active one.
	aria := `[...document.querySelectorAll("#mention-list li")].map(li => li.getAttribute("role")).join("|") + " " + document.getElementById(document.getElementById("text").getAttribute("aria-activedescendant"))?.textContent`
	if got := MustEval[string](t, alice, aria); got != "option|option|option bob" {
		t.Errorf("the list to a screen reader: %q", got)
	}
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "D"))
	MustWait(t, alice, mentionsShown+` === "Dave*"`)
	MustDo(t, alice, enter())
	MustWait(t, alice, value+` === "hi @Dave " && !`+open+` && `+texts+`.length === 1`)

	// Down and Tab; Up wraps round to the last.
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "and @"), chromedp.KeyEvent(kb.ArrowDown))
	MustWait(t, alice, mentionsShown+` === "bob|carol*|Dave" && `+aria+` === "option|option|option carol"`)
	MustDo(t, alice, chromedp.KeyEvent(kb.Tab))
	MustWait(t, alice, value+` === "hi @Dave and @carol " && !`+open)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "@"), chromedp.KeyEvent(kb.ArrowUp))
	MustWait(t, alice, mentionsShown+` === "bob|carol|Dave*"`)
	// Escape closes the list and leaves the text; a name that fits nobody
	// shows no list; an "@" inside a word is no mention.
	MustDo(t, alice, chromedp.KeyEvent(kb.Escape))
	MustWait(t, alice, `!`+open+` && `+value+` === "hi @Dave and @carol @" && document.getElementById("text").getAttribute("aria-expanded") === "false" && !document.getElementById("text").hasAttribute("aria-activedescendant")`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "zed x@b"))
	if MustEval[bool](t, alice, open) {
		t.Errorf("a list is open for %q", MustEval[string](t, alice, value))
	}
	// Leaving the composer closes it.
	MustExec(t, alice, `document.getElementById("text").value = "ok @"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "c"))
	MustWait(t, alice, open)
	MustDo(t, alice, chromedp.Focus(chromedp.ID("room-input")))
	MustWait(t, alice, `!`+open)
	// A click picks, in place of the name being typed.
	MustExec(t, alice, `document.getElementById("text").value = "thanks @BO"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "b"))
	MustWait(t, alice, mentionsShown+` === "bob*"`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#mention-list li")))
	MustWait(t, alice, value+` === "thanks @bob " && !`+open+` && document.activeElement.id === "text"`)

	// A pick is typing: it may take the composer over the limit, which
	// the counter says, and Send is off.
	MustExec(t, alice, `document.getElementById("text").value = "`+strings.Repeat("x", maxTextLen-3)+` @b"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "o"))
	MustWait(t, alice, mentionsShown+` === "bob*"`)
	MustDo(t, alice, chromedp.KeyEvent(kb.Tab))
	MustWait(t, alice, `document.getElementById("counter").textContent === "2 characters too many" && document.getElementById("send").disabled`)
	MustExec(t, alice, `document.getElementById("text").value = "thanks @bob "`)

	// Nothing was sent on the way; Enter sends now, and bob is mentioned.
	if got := MustEval[[]string](t, bob, texts); strings.Join(got, "|") != "I was here" {
		t.Errorf("bob's page shows %q before alice sent anything", got)
	}
	MustDo(t, alice, enter())
	MustWait(t, bob, `document.querySelector("#messages .msg.mention .text")?.textContent === "thanks @bob"`)
	carol.MustNextOf(typeMessage)
}

// While an input method composes (Chinese typed as pinyin after "@"), its
// keys are its own: Enter, Tab, the arrows and Escape pick and move among
// its characters, not in the list of names. Browsers mark such keys with
// isComposing; Safari, with the key code 229.
func TestBrowserMentionListDuringComposition(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, _ := MustAliceAndBob(t, ts)
	MustWait(t, alice, `document.getElementById("online-toggle").innerText === "2 online"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "@"))
	MustWait(t, alice, mentionsShown+` === "bob*"`)
	for _, init := range []string{`isComposing: true`, `keyCode: 229`} {
		for _, key := range []string{"Enter", "Tab", "ArrowDown", "ArrowUp", "Escape"} {
			taken := MustEval[bool](t, alice, `(() => {
				const e = new KeyboardEvent("keydown", {key: "`+key+`", `+init+`, bubbles: true, cancelable: true});
				document.getElementById("text").dispatchEvent(e);
				return e.defaultPrevented;
			})()`)
			if got := MustEval[string](t, alice, mentionsShown+` + " " + document.getElementById("text").value`); taken || got != "bob* @" {
				t.Errorf("%s with %s: taken %t, list and composer %q; want the input method's, the list open as it was", key, init, taken, got)
			}
		}
	}
	MustDo(t, alice, enter())
	MustWait(t, alice, `document.getElementById("text").value === "@bob " && document.getElementById("mention-list").hidden`)
}

// The list offers at most six names, those online first.
func TestBrowserMentionListShowsSix(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	for i := range 8 {
		ts.MustDial(t, ts.MustLogin(t, fmt.Sprint("user", i)), "lobby", -1)
	}
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, `document.getElementById("online-toggle").innerText === "9 online"`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), "@us"))
	MustWait(t, p, `document.querySelectorAll("#mention-list li").length === 6`)
}
