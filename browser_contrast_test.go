package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Every text a person can see, in every state the pages have, is readable:
// WCAG AA contrast against what is painted behind it, in the light and the
// dark colour scheme. The check (testdata/contrast.js) composites
// backgrounds and opacity as the browser paints them.
func TestBrowserContrast(t *testing.T) {
	check, err := os.ReadFile("testdata/contrast.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			// History to scroll in, from a first server on the directory.
			dir := t.TempDir()
			first := MustStart(t, dir)
			w, _ := first.MustDial(t, first.MustLogin(t, "writer"), "lobby", -1)
			for i := range 40 {
				w.say(fmt.Sprintf("earlier %d, with a link: https://example.com/%d and `code`", i, i), "")
			}
			for range 40 {
				w.MustNextOf(typeMessage)
			}
			first.MustClose(t)
			// A rate limit that refuses the third message: a failed one.
			ts := MustStart(t, dir, func(c *Config) { c.MsgRate, c.MsgBurst = 0.01, 2 })

			p := MustPerson(t, MustBrowser(t, "en-US"))
			MustDo(t, p, chromedp.EmulateViewport(800, 600), command(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
			}))
			mustReadable := func(state string) {
				t.Helper()
				if bad := MustEval[[]string](t, p, string(check)); len(bad) > 0 {
					t.Errorf("%s, too little contrast:\n%s", state, strings.Join(bad, "\n"))
				}
			}

			// The login page: a session that ended, and a name in use.
			bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
			MustDo(t, p, chromedp.Navigate(ts.URL+"/?ended=1"), chromedp.SendKeys(chromedp.ID("name"), "bob"),
				chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
			MustWait(t, p, `!!document.querySelector(".field-error:not([hidden])")`)
			mustReadable("the login page with an error")
			MustDo(t, p, chromedp.Navigate(ts.URL+"/r/a%20b"))
			mustReadable("the page for a link to no room")

			// The chat: others' messages, links, joins, days, own messages
			// (grouped, one failed), an error, the counter over the limit,
			// the online list, the new-messages button, a hovered message,
			// a mention of her, bob typing (over the messages, scrolled up),
			// the topic and its line, a deleted message, an edited one with reactions, Edit and Delete on a hovered
			// own message, and the
			// line over messages that came while the reader was away.
			MustEnter(t, p, ts, "alice", "")
			MustSay(t, p, "mine one")
			MustSay(t, p, "mine two")
			MustWait(t, p, texts+`.includes("mine two") && `+nonePending)
			MustSay(t, p, "mine three")
			MustWait(t, p, `!!document.querySelector("#pending .msg.failed") && !document.getElementById("composer-error").hidden`)
			MustPaste(t, p, strings.Repeat("x", maxTextLen+50))
			MustDo(t, p, chromedp.Click(chromedp.ID("online-toggle")),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 300`))
			// (Carol takes hers back and dave edits his: bob's allowance is for
			// his mention.)
			carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
			carol.say("taken back", "tb")
			m := carol.MustNextOf(typeMessage)
			for ; m.Nonce != "tb"; m = carol.MustNextOf(typeMessage) {
			}
			MustWait(t, p, texts+`.includes("taken back")`)
			carol.send(deleteFrame(m.ID, ""))
			dave, _ := ts.MustDial(t, ts.MustLogin(t, "dave"), "lobby", -1)
			dave.say("speling", "sp")
			for m = dave.MustNextOf(typeMessage); m.Nonce != "sp"; m = dave.MustNextOf(typeMessage) {
			}
			dave.send(editFrame(m.ID, "spelling", ""))
			MustWait(t, p, `!!document.querySelector("#messages .edited")`)
			erin, _ := ts.MustDial(t, ts.MustLogin(t, "erin"), "lobby", -1)
			erin.send(reactFrame(typeReact, m.ID, "🎉", ""))
			erin.send(reactFrame(typeReact, m.ID, "👀", ""))
			MustWait(t, p, `document.querySelectorAll("#messages .reaction").length === 2`)
			frank, _ := ts.MustDial(t, ts.MustLogin(t, "frank"), "lobby", -1)
			frank.send(topicFrame("What this room is for, with https://example.com/topic", ""))
			MustWait(t, p, `!document.getElementById("topic").hidden`)
			bob.say("@alice, while you read", "")
			bob.send(typingFrame())
			MustWait(t, p, `!document.getElementById("new-messages").hidden && document.getElementById("counter").classList.contains("over") && `+typingLine+` === "bob is typing…"`)
			MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.querySelector(".msg.mine.grouped").scrollIntoView({block: "center"})`))
			MustHover(t, p, ".msg.mine.grouped")
			MustWait(t, p, `getComputedStyle(document.querySelector(".msg.mine.grouped .side-time")).visibility === "visible" && getComputedStyle(document.querySelector(".msg.mine.grouped .delete")).clipPath === "none" && getComputedStyle(document.querySelector(".msg.mine.grouped .edit")).clipPath === "none" && !!document.querySelector(".text.deleted")`)
			// The badge for news in another room.
			MustExec(t, p, showNews("3"))
			mustReadable("the chat")
			// Every name colour, on every background a name is shown on.
			MustExec(t, p, `for (const cls of ["msg", "msg mine", "msg mention"]) { const li = document.createElement("li"); li.className = cls; for (let i = 0; i < 8; i++) { const s = document.createElement("span"); s.className = "author n" + i; s.textContent = "name" + i + " "; li.append(s); } document.getElementById("messages").prepend(li); }`)
			MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.querySelector("#messages li").scrollIntoView()`))
			mustReadable("the name colours")
			MustExec(t, p, `for (let i = 0; i < 3; i++) document.querySelector("#messages li").remove()`)

			// Searching: the panel, what was found, and its marks.
			MustDo(t, p, chromedp.Click(chromedp.ID("search-toggle")), chromedp.SendKeys(chromedp.ID("search-input"), "earlier"+kb.Enter))
			MustWait(t, p, `document.querySelectorAll("#search-results mark").length === 20 && !document.getElementById("search-more").hidden`)
			mustReadable("the search panel")
			MustDo(t, p, chromedp.KeyEvent(kb.Escape))

			// Away in another window: the line over what came meanwhile.
			MustExec(t, p, setFocus(false))
			bob.say("while alice is away", "")
			MustWait(t, p, `!!document.querySelector("#messages .unread-line")`)
			mustReadable("the chat with a New line")

			// Offline: reconnecting, and a message waiting for it.
			ts.MustClose(t)
			MustWait(t, p, `document.getElementById("status").dataset.state === "reconnecting"`)
			MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`))
			MustSay(t, p, "typed offline")
			MustWait(t, p, `[...document.querySelectorAll("#pending .msg:not(.failed)")].some(e => e.textContent.includes("typed offline"))`)
			mustReadable("the chat offline")
		})
	}
}
