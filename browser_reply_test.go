package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// quoteOf is what the reply with this text on screen shows of the message
// it answers: "author|text", or "" without a quote.
func quoteOf(text string) string {
	return `(() => { const li = [...document.querySelectorAll("#messages .msg")].find(li => li.querySelector(".text")?.firstChild?.textContent === ` + jsString(text) + `); const q = li?.querySelector(".quote"); return q ? q.querySelector(".author").textContent + "|" + q.querySelector(".quote-text").textContent : ""; })()`
}

// Any message can be replied to: the composer says to whom until the
// reply is sent or given up, and every page shows what the reply
// answers over it, kept up to date with edits and deletes, now and after
// a reload. A tap on the quote goes to the message.
func TestBrowserReply(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "lunch at noon? "+strings.Repeat("the long way round ", 30))
	MustWait(t, bob, texts+`.some(s => s.startsWith("lunch at noon?"))`)
	if n := MustEval[int](t, bob, `document.querySelectorAll("#messages .msg .reply").length`); n != 1 {
		t.Fatalf("%d Reply buttons on bob's page, want 1", n)
	}
	clipped := `getComputedStyle(document.querySelector("#messages .msg .reply")).clipPath`
	if c := MustEval[string](t, bob, clipped); c == "none" {
		t.Errorf("Reply shows without the mouse on the message")
	}
	MustHover(t, bob, "#messages .msg")
	MustWait(t, bob, clipped+` === "none"`)
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	replying := `!document.getElementById("replying").hidden && document.getElementById("replying").textContent.startsWith("Replying to alice") && document.activeElement.id === "text"`
	MustWait(t, bob, replying)
	// Escape gives it up; the next message is no reply.
	MustDo(t, bob, chromedp.KeyEvent(kb.Escape))
	MustWait(t, bob, `document.getElementById("replying").hidden`)
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustWait(t, bob, replying)
	MustSay(t, bob, "yes!")

	want := "alice|lunch at noon? the long way round"
	for _, ctx := range []context.Context{bob, alice} {
		MustWait(t, ctx, quoteOf("yes!")+`.startsWith(`+jsString(want)+`)`)
	}
	MustWait(t, bob, `document.getElementById("replying").hidden`)
	// A reply to alice calls her as a mention does; bob's own is just his.
	mention := `[...document.querySelectorAll("#messages .msg.mention")].map(li => li.querySelector(".text").firstChild.textContent).join("|")`
	MustWait(t, alice, mention+` === "yes!"`)
	if m := MustEval[string](t, bob, mention); m != "" {
		t.Errorf("bob's page highlights %q, want nothing", m)
	}
	// One line, cut with an ellipsis: the quote is not the message.
	if h := MustEval[float64](t, alice, `document.querySelector(".quote").getBoundingClientRect().height`); h > 30 {
		t.Errorf("the quote is %.0f px high, want one line", h)
	}

	// A tap on the quote shows the message it answers.
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .quote")))
	MustWait(t, alice, `document.querySelector("#messages .msg").classList.contains("flash")`)

	// An edit of the message shows in the reply's quote too, on every
	// page, and so does a reload.
	MustHover(t, alice, "#messages .msg.mine")
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg.mine .edit")))
	MustExec(t, alice, `document.getElementById("text").value = "lunch at one?"`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("send")))
	MustWait(t, bob, quoteOf("yes!")+` === "alice|lunch at one?"`)
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+quoteOf("yes!")+` === "alice|lunch at one?"`)
	MustExec(t, alice, `window.confirm = () => true`)
	MustHover(t, alice, "#messages .msg.mine")
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg.mine .delete")))
	MustWait(t, bob, quoteOf("yes!")+` === "alice|This message was deleted."`)
	// A deleted message has nothing to reply to.
	if n := MustEval[int](t, bob, `document.querySelectorAll("#messages .msg .reply").length`); n != 1 {
		t.Errorf("%d Reply buttons on bob's page after the delete, want 1 (on his reply only)", n)
	}
}

// A reply written while the server cannot be reached waits with its
// quote, through a reload, and goes out as a reply once it can.
func TestBrowserReplyWaitsOffline(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	bob.say("anyone there?", "q")
	q := bob.MustNextOf(typeMessage)
	MustWait(t, p, texts+`.includes("anyone there?")`)
	fz.refuseSockets(true)
	fz.cut()
	MustWait(t, p, disconnected)
	MustHover(t, p, "#messages .msg")
	MustDo(t, p, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustSay(t, p, "me!")
	waiting := `document.querySelector("#pending .msg .quote")?.textContent === "bob anyone there?"`
	MustWait(t, p, waiting)
	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, texts+`.includes("anyone there?") && `+waiting)
	fz.refuseSockets(false)
	MustWait(t, p, connected+` && `+quoteOf("me!")+` === "bob|anyone there?" && !document.querySelector("#pending .msg")`)
	if m := bob.MustNextOf(typeMessage); m.Text != "me!" || m.ReplyTo != q.ID {
		t.Errorf("bob got %+v, want alice's reply to %d", m, q.ID)
	}
}

// A reply to a message further up than the page has loaded says "An
// earlier message"; a tap on it loads what lies between, shows the
// message, and the quote then says whose it is.
func TestBrowserReplyToEarlierMessage(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.say("the start of it", "start")
	start := w.MustNextOf(typeMessage)
	w.MustSayMany("meanwhile %d", 3*historyOnJoin)
	w.send(replyFrame("back to the start", "", start.ID))
	w.MustNextOf(typeMessage)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	quote := `[...document.querySelectorAll("#messages .msg")].find(li => li.querySelector(".text").textContent === "back to the start").querySelector(".quote")`
	MustWait(t, p, quote+`.textContent === "An earlier message"`)
	MustExec(t, p, quote+`.click()`)
	MustWait(t, p, flashed+` === "the start of it" && `+quoteOf("back to the start")+` === "writer|the start of it"`)
}

// Reply on another's message while editing one's own gives the edit up:
// the composer gets its draft back, and what is sent next is the reply.
// Edit while replying gives the reply up: the composer holds the message
// being edited, and what is sent after the edit is no reply.
func TestBrowserReplyAndEditEndEachOther(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, bob, "lunch?")
	MustWait(t, alice, texts+`.includes("lunch?")`)
	MustSay(t, alice, "meet at 5")
	MustWait(t, alice, texts+`.includes("meet at 5") && `+nonePending)
	MustDo(t, alice, upToEdit()...)
	MustWait(t, alice, `!document.getElementById("editing").hidden && document.getElementById("text").value === "meet at 5"`)
	MustExec(t, alice, `document.querySelector("#messages .msg:not(.mine) .reply").click()`)
	MustWait(t, alice, `document.getElementById("editing").hidden && !document.querySelector(".msg.editing") && !document.getElementById("replying").hidden && document.getElementById("text").value === ""`)
	MustSay(t, alice, "yes")
	MustWait(t, bob, quoteOf("yes")+`.startsWith("bob|lunch?") && `+texts+`.includes("meet at 5")`)

	MustWait(t, alice, texts+`.includes("yes") && `+nonePending)
	MustExec(t, alice, `document.querySelector("#messages .msg:not(.mine) .reply").click()`)
	MustWait(t, alice, `!document.getElementById("replying").hidden`)
	MustExec(t, alice, `[...document.querySelectorAll("#messages .msg.mine .edit")].at(-1).click()`)
	MustWait(t, alice, `document.getElementById("replying").hidden && !document.getElementById("editing").hidden && document.getElementById("text").value === "yes"`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "!"), chromedp.Click(chromedp.ID("send")))
	MustWait(t, alice, `document.getElementById("editing").hidden && `+texts+`.some(s => s.startsWith("yes!"))`)
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "plain"), chromedp.Click(chromedp.ID("send")))
	MustWait(t, bob, texts+`.includes("plain") && `+quoteOf("plain")+` === ""`)
}
