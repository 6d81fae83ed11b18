package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// One's own message can be edited, for everyone: the composer takes its
// text while what was being written waits aside, and every page shows
// the new text, marked edited, now and after a reload. Escape gives an
// edit up; Up in an empty composer edits one's last message.
func TestBrowserEditMessage(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "meet at 5")
	MustSay(t, bob, "ok")
	MustWait(t, alice, texts+`.includes("ok")`)
	if n := MustEval[int](t, alice, `document.querySelectorAll("#messages .msg .edit").length`); n != 1 {
		t.Fatalf("%d Edit buttons on alice's page, want 1 (on her own message only)", n)
	}
	MustPasteInto(t, alice, "text", "half a thought")

	// Out of sight until the mouse is on the message, as Delete.
	clipped := `getComputedStyle(document.querySelector("#messages .msg.mine .edit")).clipPath`
	if c := MustEval[string](t, alice, clipped); c == "none" {
		t.Errorf("Edit shows without the mouse on the message")
	}
	MustHover(t, alice, "#messages .msg.mine")
	MustWait(t, alice, clipped+` === "none"`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg.mine .edit")))
	editing := `!document.getElementById("editing").hidden && document.getElementById("send").textContent === "Save" && !!document.querySelector("#messages .msg.mine.editing")`
	MustWait(t, alice, editing+` && document.getElementById("text").value === "meet at 5" && document.activeElement.id === "text"`)

	// Typing over it and Enter save it, and the draft comes back.
	MustExec(t, alice, `document.getElementById("text").select()`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "meet at 6, not 5"), enter())
	shown := `[...document.querySelectorAll("#messages .msg .text")].some(p => p.firstChild.textContent === "meet at 6, not 5" && p.querySelector(".edited")?.textContent === "(edited)" && p.querySelector(".edited").title.startsWith("Edited "))`
	MustWait(t, bob, shown)
	MustWait(t, alice, shown+` && document.getElementById("editing").hidden && document.getElementById("send").textContent === "Send" && !document.querySelector(".msg.editing")`)
	if draft := MustEval[string](t, alice, `document.getElementById("text").value`); draft != "half a thought" {
		t.Errorf("after the edit the composer holds %q, want the draft back", draft)
	}
	if got := MustEval[[]string](t, bob, texts); len(got) != 2 || got[1] != "ok" || strings.Contains(got[0], "meet at 5") {
		t.Errorf("bob's page shows %q, want the edited message in its place and his after it", got)
	}
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+texts+`.includes("ok") && `+shown)

	// Escape gives up an edit: the message and the draft stay as they were.
	MustHover(t, alice, "#messages .msg.mine")
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg.mine .edit")))
	MustWait(t, alice, editing)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), " or 7"), chromedp.KeyEvent(kb.Escape))
	MustWait(t, alice, `document.getElementById("editing").hidden && document.getElementById("text").value === "half a thought"`)

	// An empty edit is not saved: Delete is for that.
	MustDo(t, alice, upToEdit()...)
	MustWait(t, alice, editing+` && document.getElementById("text").value === "meet at 6, not 5"`)
	MustDo(t, alice, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = "  "`), enter())
	MustWait(t, alice, editing+` && document.getElementById("composer-error").textContent === "A message cannot be empty; delete it instead."`)
	// Cancel gives the composer back its draft, empty here, so Send is
	// off as it was before the edit.
	MustDo(t, alice, chromedp.Click(chromedp.ID("cancel-edit")))
	MustWait(t, alice, `document.getElementById("editing").hidden && document.getElementById("text").value === "" && document.getElementById("send").disabled`)

	// A phone has no hover: a tap on the message opens its row with the
	// date, Edit and Delete.
	MustDo(t, alice, chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile, chromedp.EmulateTouch))
	mine := `document.querySelector("#messages .msg.mine")`
	MustExec(t, alice, mine+`.querySelector(".text").click()`)
	MustWait(t, alice, `!!`+mine+`.querySelector(".full-time .edit")`)
	MustExec(t, alice, mine+`.querySelector(".full-time .edit").click()`)
	MustWait(t, alice, editing)
	MustExec(t, alice, `document.getElementById("text").value = "meet at 7"`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("send")))
	MustWait(t, bob, `[...document.querySelectorAll("#messages .msg .text")].some(p => p.firstChild.textContent === "meet at 7")`)
}

// A name's next holder did not write what its earlier holder wrote: those
// messages show no Edit or Delete (the server would refuse them), Up in
// an empty composer does not edit them, and the new holder's own do.
func TestBrowserEarlierHolderCannotChange(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "from the first alice")
	MustWait(t, p, `document.querySelectorAll("#messages .msg.mine .edit").length === 1`)
	MustDo(t, p, chromedp.Click(chromedp.ID("logout")))
	MustWait(t, p, `location.pathname === "/" && !!document.getElementById("name")`)
	MustEnter(t, p, ts, "alice", "")
	// Nor does Up in an empty composer take one of them up to edit.
	MustWait(t, p, texts+`.includes("from the first alice")`)
	MustDo(t, p, upToEdit()...)
	if MustEval[bool](t, p, `!document.getElementById("editing").hidden`) {
		t.Error("Up in an empty composer edits the earlier holder's message")
	}
	MustSay(t, p, "from the second")
	MustWait(t, p, texts+`.includes("from the second")`)
	got := MustEval[[]string](t, p, `[...document.querySelectorAll("#messages .msg")].map(li => li.querySelector(".text").textContent + ": " + !!li.querySelector(".edit") + " " + !!li.querySelector(".delete"))`)
	if want := []string{"from the first alice: false false", "from the second: true true"}; !slices.Equal(got, want) {
		t.Errorf("messages and their Edit and Delete: %q, want %q", got, want)
	}
}

// Saving an edit that changed nothing just closes it: nothing is sent,
// and no error. Saving one while the connection is down says so and
// keeps the edit open.
func TestBrowserEditUnchangedOrOffline(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "meet at 5")
	MustWait(t, p, texts+`.includes("meet at 5")`)
	editing := `!document.getElementById("editing").hidden`
	errText := `document.getElementById("composer-error").textContent`

	MustDo(t, p, upToEdit()...)
	MustWait(t, p, editing+` && document.getElementById("text").value === "meet at 5"`)
	MustDo(t, p, enter())
	MustWait(t, p, `document.getElementById("editing").hidden`)
	if e := MustEval[string](t, p, errText); e != "" {
		t.Errorf("saving an unchanged edit said %q", e)
	}

	MustDo(t, p, upToEdit()...)
	MustWait(t, p, editing)
	ts.MustClose(t)
	MustWait(t, p, disconnected)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), " or 6"), enter())
	MustWait(t, p, editing+` && `+errText+` !== "" && document.getElementById("send").textContent === "Save"`)
}

// A message deleted elsewhere (in another of her tabs) while she edits it
// here ends the edit: the composer is hers again, and nothing is saved.
func TestBrowserEditEndsWhenMessageDeleted(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	tabs := MustTabs(t, ts, ts.MustLogin(t, "alice"), "lobby", 2)
	MustSay(t, tabs[0], "meet at 5")
	MustWait(t, tabs[1], texts+`.includes("meet at 5")`)
	MustDo(t, tabs[1], upToEdit()...)
	MustWait(t, tabs[1], `!document.getElementById("editing").hidden && document.getElementById("text").value === "meet at 5"`)

	MustExec(t, tabs[0], `window.confirm = () => true`)
	MustHover(t, tabs[0], "#messages .msg.mine")
	MustDo(t, tabs[0], chromedp.Click(chromedp.CSS("#messages .msg.mine .delete")))
	MustWait(t, tabs[1], `document.getElementById("editing").hidden && document.getElementById("send").textContent === "Send" && document.getElementById("text").value === "" && !!document.querySelector("#messages .msg .text.deleted")`)
}

// An edit on its way stays on its way while the server refuses another
// of the reader's frames: here a topic over the rate limit, sent while
// the edit's commit is held. Only the edit's own refusal, or a lost
// socket, gives Save back; its own does.
func TestBrowserEditSavingOutlivesOtherRefusals(t *testing.T) {
	ts, held := MustStartHeld(t, t.TempDir(), "meet at 6", func(c *Config) { c.MsgRate, c.MsgBurst = 0.001, 2 })
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "meet at 5")
	MustWait(t, p, nonePending+` && `+texts+`.includes("meet at 5")`)
	MustDo(t, p, upToEdit()...)
	MustWait(t, p, `document.getElementById("text").value === "meet at 5"`)
	MustExec(t, p, `document.getElementById("text").value = "meet at 6"`)
	MustDo(t, p, chromedp.Click(chromedp.ID("send")))
	held.MustEnter(t, "the edit")
	const saving = `document.getElementById("send").textContent === "Saving…" && document.getElementById("send").disabled`
	MustWait(t, p, saving)

	MustDo(t, p, chromedp.Click(chromedp.ID("topic-edit")))
	MustPasteInto(t, p, "topic-input", "plans for tonight")
	MustDo(t, p, enter())
	MustWait(t, p, `document.getElementById("composer-error").textContent === "You are sending too fast; wait a moment." && !document.getElementById("topic-form").hidden`)
	if !MustEval[bool](t, p, saving) {
		t.Errorf("the topic's refusal gave Save back while the edit was on its way: the button says %q", MustEval[string](t, p, `document.getElementById("send").textContent`))
	}

	held.release()
	MustWait(t, p, `document.getElementById("editing").hidden && document.getElementById("send").textContent === "Send" && [...document.querySelectorAll("#messages .msg .text")].some(p => p.firstChild.textContent === "meet at 6" && !!p.querySelector(".edited"))`)

	// The edit's own refusal (over the rate limit now) gives Save back,
	// with its text kept to save again.
	MustDo(t, p, chromedp.Click(chromedp.ID("topic-cancel")))
	MustExec(t, p, `document.getElementById("composer-error").textContent = ""`)
	MustDo(t, p, upToEdit()...)
	MustWait(t, p, `document.getElementById("text").value === "meet at 6"`)
	MustExec(t, p, `document.getElementById("text").value = "meet at 7"`)
	MustDo(t, p, chromedp.Click(chromedp.ID("send")))
	MustWait(t, p, `document.getElementById("composer-error").textContent === "You are sending too fast; wait a moment." && document.getElementById("send").textContent === "Save" && !document.getElementById("send").disabled && !document.getElementById("editing").hidden && document.getElementById("text").value === "meet at 7"`)
}

// An edit lost with its socket (its frame went nowhere) gives Save back
// once the page knows the socket is gone, with the text kept: saved
// again on the new socket, it is stored, once.
func TestBrowserEditLostWithItsSocket(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	MustSay(t, p, "meet at 5")
	MustWait(t, p, nonePending+` && `+texts+`.includes("meet at 5")`)
	MustDo(t, p, upToEdit()...)
	MustWait(t, p, `document.getElementById("text").value === "meet at 5"`)
	MustExec(t, p, `document.getElementById("text").value = "meet at 6"`)
	fz.freezeUp() // what the page sends goes nowhere
	MustDo(t, p, chromedp.Click(chromedp.ID("send")))
	MustWait(t, p, `document.getElementById("send").textContent === "Saving…"`)

	fz.cut()
	MustWait(t, p, connected+` && document.getElementById("send").textContent === "Save" && !document.getElementById("send").disabled && !document.getElementById("editing").hidden && document.getElementById("text").value === "meet at 6"`)
	bob := ts.MustLogin(t, "bob")
	if _, body := ts.get(t, "/api/rooms/lobby/messages", bob); strings.Contains(body, "meet at 6") {
		t.Fatalf("the edit lost with its socket was stored: %s", body)
	}
	MustDo(t, p, chromedp.Click(chromedp.ID("send")))
	MustWait(t, p, `document.getElementById("editing").hidden && [...document.querySelectorAll("#messages .msg .text")].some(p => p.firstChild.textContent === "meet at 6" && !!p.querySelector(".edited"))`)
	if _, body := ts.get(t, "/api/rooms/lobby/messages", bob); strings.Count(body, `"type":"edit"`) != 1 {
		t.Errorf("the edit saved again is not stored once: %s", body)
	}
}

// Edit on another message while one is being edited moves the edit to
// it: the first is no longer marked, and Escape brings back what the
// composer held before either, not the first message's text. An edit
// over the limit is kept in the composer, said, and not saved; one at
// the limit is.
func TestBrowserEditAnotherOrTooLong(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "first")
	MustSay(t, alice, "second")
	MustWait(t, bob, texts+`.join("|") === "first|second"`)
	MustPasteInto(t, alice, "text", "my draft")
	edit := func(text string) {
		t.Helper()
		sel := `#messages .msg.mine[data-id="` + MustEval[string](t, alice, `[...document.querySelectorAll("#messages .msg.mine")].find(li => li.querySelector(".text").firstChild.textContent === `+jsString(text)+`).dataset.id`) + `"]`
		MustHover(t, alice, sel)
		MustDo(t, alice, chromedp.Click(chromedp.CSS(sel+" .edit")))
		MustWait(t, alice, `document.getElementById("text").value === `+jsString(text))
	}
	editing := `[...document.querySelectorAll("#messages .msg.editing")].map(li => li.querySelector(".text").firstChild.textContent).join("|")`
	edit("first")
	edit("second")
	if got := MustEval[string](t, alice, editing); got != "second" {
		t.Errorf("marked as being edited: %q, want second alone", got)
	}
	MustDo(t, alice, chromedp.KeyEvent(kb.Escape))
	MustWait(t, alice, `document.getElementById("editing").hidden && !document.querySelector(".msg.editing")`)
	if draft := MustEval[string](t, alice, `document.getElementById("text").value`); strings.TrimSpace(draft) != "my draft" {
		t.Errorf("after Escape the composer holds %q, want the draft", draft)
	}

	MustExec(t, alice, `document.getElementById("text").value = ""`)
	edit("first")
	long := strings.Repeat("x", 2001)
	MustExec(t, alice, `document.getElementById("text").select()`)
	MustPaste(t, alice, long)
	MustDo(t, alice, chromedp.Focus(chromedp.ID("text")), enter())
	MustWait(t, alice, errorShown("Messages have at most 2000 characters."))
	if got := MustEval[string](t, alice, `[...document.getElementById("text").value].length + " " + !document.getElementById("editing").hidden`); got != "2001 true" {
		t.Errorf("after Enter on a long edit: %q, want it kept, still editing", got)
	}
	MustSay(t, bob, "nothing came")
	MustWait(t, alice, texts+`.at(-1) === "nothing came"`)
	MustWait(t, bob, texts+`.at(-1) === "nothing came"`)
	if got := MustEval[string](t, bob, texts+`.join("|")`); got != "first|second|nothing came" {
		t.Errorf("bob's page: %q, want no edit", got)
	}
	// One character less is the limit itself, and is saved.
	MustExec(t, alice, `document.getElementById("text").select()`)
	MustPaste(t, alice, long[1:])
	MustDo(t, alice, chromedp.Focus(chromedp.ID("text")), enter())
	MustWait(t, bob, texts+`[0] === "x".repeat(2000) + " (edited)"`)
}
