package main

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The composer never cuts what is typed or pasted. Past the limit it says
// by how much, and Enter keeps the text and says why; the limit counts
// characters as the server does, so an emoji is one, not two.
func TestBrowserComposerLimit(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	oneLine := MustEval[float64](t, p, `document.getElementById("text").offsetHeight`)

	const (
		chars   = `[...document.getElementById("text").value].length`
		pending = `document.querySelectorAll("#pending li").length`
	)
	MustPaste(t, p, strings.Repeat("字", maxTextLen+100))
	MustWait(t, p, chars+` === 2100 && document.getElementById("counter").textContent === "100 characters too many" && document.getElementById("send").disabled`)
	MustWait(t, p, `document.getElementById("composer-error").textContent === "Messages have at most 2000 characters." && !document.getElementById("composer-error").hidden`)
	if n := MustEval[int](t, p, pending); n != 0 {
		t.Errorf("%d messages pending after Enter on a message that is too long", n)
	}

	// Selecting the excess and deleting it leaves the rest to send, whole.
	MustDo(t, p,
		chromedp.Evaluate[chromedp.Void](`(() => { const el = document.getElementById("text"); el.setSelectionRange(2000, el.value.length); })()`),
		chromedp.KeyEvent(kb.Backspace),
	)
	MustWait(t, p, chars+` === 2000 && document.getElementById("counter").textContent === "0 characters left" && !document.getElementById("send").disabled`)
	MustDo(t, p, chromedp.Click(chromedp.ID("send")))
	if m := watcher.MustNextOf(typeMessage); m.Text != strings.Repeat("字", maxTextLen) {
		t.Errorf("stored %d characters, want the 2000 left in the composer", utf8.RuneCountInString(m.Text))
	}
	// Sent, the composer is as it was before: one line, no count, and
	// nothing to send.
	MustWait(t, p, fmt.Sprintf(`document.getElementById("text").value === "" && document.getElementById("counter").hidden && document.getElementById("send").disabled && document.getElementById("text").offsetHeight === %v`, oneLine))

	// 1500 emoji are 3000 UTF-16 code units, and 1500 characters.
	emoji := strings.Repeat("😀", 1500)
	MustPaste(t, p, emoji)
	if m := watcher.MustNextOf(typeMessage); m.Text != emoji {
		t.Errorf("stored %d emoji, want 1500", utf8.RuneCountInString(m.Text))
	}
	MustWait(t, p, pending+` === 0 && document.getElementById("text").value === ""`)

	// The ends are trimmed as the server trims them (Go's unicode.IsSpace),
	// so the count is the server's: U+FEFF is not space there, U+0085 is;
	// JavaScript's trim holds the opposite for both.
	const counter = `document.getElementById("counter").textContent`
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`))
	MustPasteInto(t, p, "text", "\uFEFF"+strings.Repeat("x", maxTextLen))
	MustWait(t, p, counter+` === "1 character too many" && document.getElementById("send").disabled`)
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`))
	MustPaste(t, p, "\u0085"+strings.Repeat("y", maxTextLen))
	if m := watcher.MustNextOf(typeMessage); m.Text != strings.Repeat("y", maxTextLen) {
		t.Errorf("stored %d characters, want the 2000 y after the U+0085", utf8.RuneCountInString(m.Text))
	}
	MustPasteInto(t, p, "text", strings.Repeat("z", maxTextLen-1))
	MustWait(t, p, counter+` === "1 character left"`)

	// So are the other space separators, as the ideographic space of a
	// Chinese keyboard (U+3000) and the em space (U+2003): at the ends
	// they do not count, and a line of only them is empty, so Enter sends
	// nothing.
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`))
	MustPasteInto(t, p, "text", "\u3000"+strings.Repeat("w", maxTextLen)+"\u2003")
	MustWait(t, p, counter+` === "0 characters left" && !document.getElementById("send").disabled`)
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`))
	MustPasteInto(t, p, "text", "\u3000\u2003\u3000")
	MustWait(t, p, `document.getElementById("send").disabled`)
	MustDo(t, p, enter())
	if n := MustEval[int](t, p, pending); n != 0 {
		t.Errorf("%d messages pending after Enter on a line of spaces", n)
	}
}

// Enter that ends an input method's composition (Chinese typed as
// pinyin) picks the characters, and sends nothing: the browser says so
// with isComposing, or, as Safari does, with the key code 229.
func TestBrowserEnterInComposition(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustPasteInto(t, p, "text", "你好")
	for _, init := range []string{`isComposing: true`, `keyCode: 229`} {
		sent := MustEval[bool](t, p, `(() => {
			const e = new KeyboardEvent("keydown", {key: "Enter", `+init+`, bubbles: true, cancelable: true});
			document.getElementById("text").dispatchEvent(e);
			return e.defaultPrevented || document.querySelectorAll("#pending li").length > 0 || document.getElementById("text").value !== "你好";
		})()`)
		if sent {
			t.Errorf("Enter with %s was taken by the page", init)
		}
	}
	MustDo(t, p, enter())
	if m := watcher.MustNextOf(typeMessage); m.Text != "你好" {
		t.Errorf("Enter after the composition sent %q", m.Text)
	}
}

// Nor do the name and room fields cut what is pasted into them: a name or
// room cut to fit would log in under a name, or go to a room, that nobody
// typed. Too long, they are kept whole and the page says why.
func TestBrowserNamesAreNotCut(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	longName, longRoom := strings.Repeat("n", 30), strings.Repeat("r", 40)
	submit := chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`))
	field := func(id string) string { return `document.getElementById("` + id + `").value` }

	MustDo(t, p, chromedp.Navigate(ts.URL+"/"))
	MustPasteInto(t, p, "name", longName)
	MustDo(t, p, submit)
	MustWait(t, p, `document.getElementById("name-error")?.textContent === "A nickname has 1 to 24 characters." && `+field("name")+` === `+jsString(longName))

	MustDo(t, p, chromedp.Navigate(ts.URL+"/"))
	MustPasteInto(t, p, "name", "alice")
	MustPasteInto(t, p, "room", longRoom)
	MustDo(t, p, submit)
	MustWait(t, p, `!!document.getElementById("room-error") && `+field("room")+` === `+jsString(longRoom))

	MustEnter(t, p, ts, "alice", "")
	MustPasteInto(t, p, "room-input", longRoom)
	MustDo(t, p, chromedp.Click(chromedp.CSS(`#room-form button[type="submit"]`)))
	MustWait(t, p, `document.getElementById("composer-error").textContent === "Room names have 1–32 letters, digits, - or _." && `+field("room-input")+` === `+jsString(longRoom))
	if path := MustEval[string](t, p, `location.pathname`); path != "/r/lobby" {
		t.Errorf("went to %s", path)
	}
}

// An error shows for 5 s from the last time it was said: said again (Enter
// pressed again on a message too long), it is not cut short by the first
// time's 5 s. Each change of the error is recorded with its time; noise
// can only make the last one later.
func TestBrowserErrorShownFromItsLastTime(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustPasteInto(t, p, "text", strings.Repeat("x", maxTextLen+1))
	MustExec(t, p, `window.changes = []; { const e = document.getElementById("composer-error"); new MutationObserver(() => window.changes.push([e.hidden ? "hidden" : "shown", performance.now()])).observe(e, { attributes: true, childList: true, subtree: true }); }`)
	MustDo(t, p, enter())
	MustWait(t, p, `window.changes.length > 0 && performance.now() - window.changes[0][1] > 1000`)
	MustDo(t, p, enter())
	MustWait(t, p, `window.changes.at(-1)?.[0] === "hidden"`)
	changes := MustEval[[][]any](t, p, `window.changes`)
	var lastShown, hidden float64 = -1, -1
	for _, c := range changes {
		if c[0] == "shown" {
			lastShown, hidden = c[1].(float64), -1
		} else if hidden < 0 {
			hidden = c[1].(float64)
		}
	}
	if hidden-lastShown < 4990 {
		t.Errorf("the error went %.0f ms after it was last said, want 5000 (changes %v)", hidden-lastShown, changes)
	}
}

// Escape that cancels an input method's composition is the input
// method's: it gives up no edit and no reply, and closes neither the
// topic's editor nor the search panel, whichever way the browser marks
// it (isComposing, or Safari's key code 229). Escape itself still does.
func TestBrowserEscapeInComposition(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "first")
	MustWait(t, p, texts+`.at(-1) === "first" && `+nonePending)
	composedEscape := func(init, on string) {
		t.Helper()
		MustExec(t, p, `document.getElementById("`+on+`").dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", `+init+`, bubbles: true, cancelable: true}))`)
	}
	for _, tc := range []struct {
		name, open, on, shown string
	}{
		{"an edit", `document.getElementById("text").focus(); document.getElementById("text").dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowUp", bubbles: true, cancelable: true}))`,
			"text", `!document.getElementById("editing").hidden`},
		{"a reply", `document.querySelector("#messages .msg .reply").click()`, "text", `!document.getElementById("replying").hidden`},
		{"the topic's editor", `document.getElementById("topic-edit").click()`, "topic-input", `!document.getElementById("topic-form").hidden`},
		{"the search panel", `document.getElementById("search-toggle").click()`, "search-input", `!document.getElementById("search").hidden`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			MustExec(t, p, tc.open)
			MustWait(t, p, tc.shown)
			for _, init := range []string{`isComposing: true`, `keyCode: 229`} {
				composedEscape(init, tc.on)
				if !MustEval[bool](t, p, tc.shown) {
					t.Fatalf("Escape with %s closed %s", init, tc.name)
				}
			}
			MustExec(t, p, `document.getElementById("`+tc.on+`").focus()`)
			MustDo(t, p, chromedp.KeyEvent(kb.Escape))
			MustWait(t, p, `!(`+tc.shown+`)`)
		})
	}
}
