package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestBrowserChatBothWays(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, `document.getElementById("online-toggle").innerText === "2 online"`)
	// Each page says whom it speaks as, beside Log out.
	for who, p := range map[string]context.Context{"alice": alice, "bob": bob} {
		if got := MustEval[string](t, p, `(() => { const e = document.querySelector(".whoami"); return e.offsetWidth > 0 ? e.textContent : "(not shown)"; })()`); got != "Signed in as "+who {
			t.Errorf("%s's header says %q", who, got)
		}
	}

	MustSay(t, alice, "hello bob")
	MustWait(t, bob, texts+`.includes("hello bob")`)
	MustSay(t, bob, "hi alice")
	MustWait(t, alice, texts+`.includes("hi alice")`)
	// The sender's copy is confirmed (no longer pending) and marked as theirs.
	MustWait(t, alice, nonePending+` && document.querySelector("#messages .msg.mine .text").textContent === "hello bob"`)
	if mine := MustEval[bool](t, bob, `document.querySelector("#messages .msg:not(.mine) .author").textContent === "alice"`); !mine {
		t.Error("bob does not see alice's name on her message")
	}
	// bob's join shows as a quiet system line for alice.
	MustWait(t, alice, `[...document.querySelectorAll("#messages .system")].some(e => e.textContent.includes("bob") && e.textContent.includes("joined"))`)

	// Shift+Enter is a new line, Enter sends.
	MustDo(t, alice,
		chromedp.SendKeys(chromedp.ID("text"), "line one"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(chromedp.ID("text"), "line two"), enter(),
	)
	MustWait(t, bob, texts+`.includes("line one\nline two")`)

	// Logging out sends alice to the login page; her socket is gone.
	MustDo(t, alice, chromedp.Click(chromedp.ID("logout")))
	MustWait(t, alice, `location.pathname === "/" && !!document.getElementById("name")`)
	MustWait(t, bob, `[...document.querySelectorAll("#messages .system")].some(e => e.textContent.includes("alice") && e.textContent.includes("left"))`)
}

func TestBrowserNameInUse(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	b := MustBrowser(t, "en-US")
	MustEnter(t, MustPerson(t, b), ts, "alice", "")
	other := MustPerson(t, b)
	MustDo(t, other,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.SendKeys(chromedp.ID("name"), "ALICE"),
		chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)),
	)
	MustWait(t, other, `!!document.getElementById("name-error")`)
	if msg := MustEval[string](t, other, `document.getElementById("name-error").textContent`); !strings.Contains(msg, "in use") {
		t.Errorf("error shown: %q", msg)
	}
	if v := MustEval[string](t, other, `document.getElementById("name").value`); v != "ALICE" {
		t.Errorf("typed name not kept: %q", v)
	}
}

func TestBrowserUserTextIsText(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	hostile := []string{
		`<img src=x onerror="window.__pwned=1">`,
		`<script>window.__pwned=2</script>`,
		`javascript:window.__pwned=3`,
		`<a href="javascript:window.__pwned=4">click</a>`,
		`你好，世界！🎉 👩‍👩‍👧 naïve café`,
		`see https://example.com/a?b=1&c=<2>. ok`,
	}
	for _, h := range hostile {
		MustPaste(t, alice, h)
	}
	MustWait(t, bob, fmt.Sprintf(`%s.length === %d`, texts, len(hostile)))
	MustWait(t, alice, fmt.Sprintf(`%s.length === %d`, texts, len(hostile)))
	got := MustEval[[]string](t, bob, texts)
	for i, h := range hostile {
		if got[i] != h {
			t.Errorf("message %d shows %q, want %q", i, got[i], h)
		}
	}
	// A reply quotes it, and a topic says it: as text too.
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustSay(t, bob, "what is this?")
	MustDo(t, bob, chromedp.Click(chromedp.ID("topic-edit")))
	MustExec(t, bob, `document.getElementById("topic-input").value = `+jsString(hostile[0]))
	MustDo(t, bob, chromedp.Click(chromedp.CSS(`#topic-form button[type="submit"]`)))
	for _, p := range []context.Context{alice, bob} {
		MustWait(t, p, quoteOf("what is this?")+` === `+jsString("alice|"+hostile[0])+` && document.getElementById("topic").textContent === `+jsString(hostile[0])+
			` && [...document.querySelectorAll("#messages .system q")].some(q => q.textContent === `+jsString(hostile[0])+`)`)
	}
	checks := map[string]string{
		"no script ran":              `window.__pwned === undefined`,
		"no element from user text":  `document.querySelectorAll("#messages img, #messages script, #messages a[href^='javascript'], #topic-bar img, #topic-bar script").length === 0`,
		"only the URL became a link": `[...document.querySelectorAll("#messages a")].map(a => a.href).join() === "https://example.com/a?b=1&c="`,
		"links open safely":          `[...document.querySelectorAll("#messages a")].every(a => a.rel.includes("noopener") && a.rel.includes("noreferrer"))`,
	}
	for what, js := range checks {
		if !MustEval[bool](t, bob, js) || !MustEval[bool](t, alice, js) {
			t.Errorf("%s: no", what)
		}
	}
}

func TestBrowserLoadsOlderHistoryOnScroll(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "writer")
	w, _ := ts.MustDial(t, ck, "history", -1)
	const n = 180
	for i := range n {
		w.say(fmt.Sprintf("message %03d", i), "")
	}
	for range n {
		w.MustNextOf(typeMessage)
	}
	b := MustBrowser(t, "en-US")
	reader := MustPerson(t, b)
	MustEnter(t, reader, ts, "reader", "history")
	MustWait(t, reader, texts+`.at(-1) === "message 179"`)
	first := MustEval[int](t, reader, texts+`.length`)
	if first >= n {
		t.Fatalf("all %d messages loaded up front", first)
	}
	// Scroll to the top until the beginning is reached; the message that
	// was at the top stays where the reader was looking.
	for range 10 {
		anchor := MustEval[string](t, reader, `document.querySelector("#messages .msg").dataset.id`)
		MustDo(t, reader, chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 0`))
		MustWait(t, reader, `document.querySelector("#messages .msg").dataset.id !== `+jsString(anchor)+` || document.getElementById("history-top").textContent.includes("beginning")`)
		if MustEval[bool](t, reader, `document.getElementById("history-top").textContent.includes("beginning")`) {
			break
		}
		top := MustEval[float64](t, reader, `document.querySelector('[data-id="`+anchor+`"]').getBoundingClientRect().top - document.getElementById("log").getBoundingClientRect().top`)
		if top < 0 {
			t.Errorf("reading position lost: the old top message is %.0fpx above the view", -top)
		}
	}
	got := MustEval[[]string](t, reader, texts)
	if len(got) != n {
		t.Fatalf("%d messages after scrolling to the beginning, want %d", len(got), n)
	}
	for i, s := range got {
		if s != fmt.Sprintf("message %03d", i) {
			t.Fatalf("message %d is %q", i, s)
		}
	}
}

// A history request the server paces (HISTORY_RATE) is not a failure:
// the page keeps "Loading…" up, waits out Retry-After and asks again.
func TestBrowserWaitsOutHistoryRate(t *testing.T) {
	// One request per 5 s after the burst: Retry-After is 5.
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.HistoryRate = 0.2 })
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	for i := range 120 {
		w.say(fmt.Sprintf("message %03d", i), "")
		w.MustNextOf(typeMessage)
	}
	ck := ts.MustLogin(t, "reader")
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, setCookie(ts, ck), chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, connected+` && `+texts+`.at(-1) === "message 119"`)
	shown := MustEval[int](t, p, texts+`.length`)
	ts.mustUseUpHistoryRate(t, ck, "/api/rooms/lobby/messages?limit=1")
	MustExec(t, p, recordAsked)
	MustExec(t, p, recordTimers("/history.js"))
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 0`))
	// Refused, the page waits Retry-After's 5 s (its timer's delay: no
	// sleep here can tell 5 s from 3) before it asks again.
	MustWait(t, p, `document.getElementById("history-top").textContent.includes("Loading older") && window.pauses.length === 1`)
	if pauses, asked := MustEval[[]float64](t, p, `window.pauses`), MustEval[[]string](t, p, `window.asked`); fmt.Sprint(pauses) != "[5000]" || len(asked) != 1 {
		t.Fatalf("refused, the page waits %v ms, having asked %q; want 5000 ms after one ask", pauses, asked)
	}
	MustWait(t, p, texts+`.length > `+fmt.Sprint(shown)+` && !document.getElementById("history-top").textContent.includes("Loading older")`)
	if MustEval[bool](t, p, `!document.getElementById("composer-error").hidden`) {
		t.Errorf("the paced request was shown as an error: %q", MustEval[string](t, p, `document.getElementById("composer-error").textContent`))
	}
}

// A tab left open in a busy room keeps at most 1000 events on screen
// while its reader is at the bottom; the older ones load again on scroll.
func TestBrowserBusyRoomKeepsScreenBounded(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "reader", "busy")
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "busy", -1)
	const n = 1200
	w.MustSayMany("m %04d", n)
	MustWait(t, p, texts+`.at(-1) === "m 1199"`)

	shown := MustContiguous(t, p, "at the bottom")
	if len(shown) < 500 || len(shown) > 1000 {
		t.Errorf("%d events on screen after %d messages, want 500-1000", len(shown), n)
	}
	// The room's beginning is no longer on screen, so the top of the
	// history no longer says it is.
	if top := MustEval[string](t, p, `document.getElementById("history-top").textContent`); top == "Beginning of #busy" {
		t.Errorf("with the oldest let go, the top of the history says %q", top)
	}
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 0`))
	MustWait(t, p, `+document.querySelector("#messages [data-id]").dataset.id < `+fmt.Sprint(shown[0]))
	if older := MustContiguous(t, p, "after scrolling up"); older[len(older)-1] != shown[len(shown)-1] {
		t.Errorf("newest on screen moved from %d to %d", shown[len(shown)-1], older[len(older)-1])
	}
}

func TestBrowserChinese(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	b := MustBrowser(t, "zh-CN")
	p := MustPerson(t, b)
	MustDo(t, p, chromedp.Navigate(ts.URL+"/"))
	if label := MustEval[string](t, p, `document.querySelector('label[for="name"]').textContent`); label != "昵称" {
		t.Errorf("login label %q, want 昵称", label)
	}
	MustEnter(t, p, ts, "小明", "")
	checks := map[string]string{
		"send button":  `document.getElementById("send").textContent === "发送"`,
		"status":       `document.getElementById("status").textContent === "已连接"`,
		"online count": `document.getElementById("online-toggle").innerText === "1 人在线"`,
		"logout":       `document.getElementById("logout").textContent === "退出"`,
		"name":         `document.querySelector(".whoami").textContent === "当前昵称： 小明"`,
		"lang":         `document.documentElement.lang === "zh-CN"`,
		"log's name":   `document.querySelector('[data-i18n-label="Messages"]').getAttribute("aria-label") === "消息"`,
	}
	for what, js := range checks {
		if !MustEval[bool](t, p, js) {
			t.Errorf("%s is not in Chinese", what)
		}
	}
	MustSay(t, p, "大家好")
	MustWait(t, p, texts+`.includes("大家好")`)
	if !MustEval[bool](t, p, `[...document.querySelectorAll("#messages .system")].some(e => e.textContent.includes("加入了房间"))`) {
		t.Error("join line is not in Chinese")
	}
	// The header's buttons and a message's actions.
	if got := MustEval[string](t, p, `[document.getElementById("topic-edit"), document.getElementById("search-toggle"), document.getElementById("notify"), ...document.querySelectorAll("#messages .msg .actions button")].map(b => b.textContent.trim()).join("|")`); got != "✎ 主题|🔍 搜索|🔕 通知我|回应|回复|链接|编辑|删除" {
		t.Errorf("buttons read %q, want them in Chinese", got)
	}
}

// TestBrowserScreenshots renders the pages a person sees. With
// UPDATE_SCREENSHOTS=1 it writes them to docs/ for the README.
func TestBrowserScreenshots(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	b := MustBrowser(t, "en-US")
	out := t.TempDir()
	if os.Getenv("UPDATE_SCREENSHOTS") != "" {
		out = "docs"
	}
	shot := func(ctx context.Context, name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil || len(png) < 1000 {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mei, sam := MustPerson(t, b), MustPerson(t, b)
	MustDo(t, mei, chromedp.EmulateViewport(1000, 640))
	MustDo(t, mei, chromedp.Navigate(ts.URL+"/"))
	shot(mei, "login.png")
	MustEnter(t, mei, ts, "Mei", "")
	MustEnter(t, sam, ts, "Sam", "")
	MustDo(t, mei, chromedp.Click(chromedp.ID("topic-edit")), chromedp.SendKeys(chromedp.ID("topic-input"), "v2 release day · notes in the wiki"+kb.Enter))
	MustWait(t, sam, `!document.getElementById("topic").hidden`)
	MustSay(t, sam, "Morning! Did the deploy go out?")
	MustSay(t, mei, "Yes — v2 is live on Fly. Release notes: https://example.com/releases/v2")
	MustSay(t, mei, "History survived the restart, nobody got a join/leave storm 🎉")
	MustSay(t, mei, "If it ever hangs: `fly releases rollback`")
	MustWait(t, sam, texts+`.length === 4`)
	// Sam reacts to the release notes and replies to the restart news.
	byText := func(prefix string) string {
		return `[...document.querySelectorAll("#messages .msg")].find(li => li.querySelector(".text").textContent.startsWith(` + jsString(prefix) + `))`
	}
	MustExec(t, sam, byText("Yes — v2")+`.querySelector(".react").click()`)
	MustExec(t, sam, byText("Yes — v2")+`.querySelector(".pick[data-emoji='🎉']").click()`)
	MustExec(t, mei, byText("Yes — v2")+`.querySelector(".react").click()`)
	MustExec(t, mei, byText("Yes — v2")+`.querySelector(".pick[data-emoji='👍']").click()`)
	MustExec(t, sam, byText("History survived")+`.querySelector(".reply").click()`)
	MustSay(t, sam, "好的，谢谢！I'll tell the team.")
	MustWait(t, mei, texts+`.length === 5 && document.querySelectorAll("#messages .reaction").length === 2 && !!document.querySelector("#messages .quote")`)
	// CDP's synthetic Enter also types a "\r" char event after the
	// prevented keydown (a real keyboard does not); clear it for the shot.
	clear := chromedp.Evaluate[chromedp.Void](`(() => { const t = document.getElementById("text"); t.value = ""; t.dispatchEvent(new Event("input")); t.blur(); })()`)
	MustDo(t, mei, clear)
	MustDo(t, sam, clear)
	MustDo(t, sam, chromedp.SendKeys(chromedp.ID("text"), "Sent the link to"))
	MustWait(t, mei, typingLine+` === "Sam is typing…"`)
	shot(mei, "chat-desktop.png")
	MustDo(t, sam, chromedp.EmulateViewport(390, 760, chromedp.EmulateMobile))
	MustWait(t, sam, texts+`.length === 5`)
	shot(sam, "chat-phone.png")
}

func TestBrowserNewMessagesButtonAndUnreadTitle(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "writer")
	w, _ := ts.MustDial(t, ck, "lobby", -1)
	w.MustSayMany("old %02d", 60)
	b := MustBrowser(t, "en-US")
	p := MustPerson(t, b)
	MustDo(t, p, chromedp.EmulateViewport(800, 500))
	MustEnter(t, p, ts, "reader", "")
	MustWait(t, p, texts+`.at(-1) === "old 59"`)

	// Scrolled up, new messages do not move the view; a button counts them.
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 200`))
	MustWait(t, p, `document.getElementById("log").scrollTop > 0`)
	before := MustEval[float64](t, p, `document.getElementById("log").scrollTop`)
	w.say("new one", "")
	w.say("new two", "")
	MustWait(t, p, `!document.getElementById("new-messages").hidden && document.getElementById("new-messages").textContent.startsWith("2 new messages")`)
	if after := MustEval[float64](t, p, `document.getElementById("log").scrollTop`); after < before-1 || after > before+400 {
		t.Errorf("view jumped from %.0f to %.0f", before, after)
	}
	MustDo(t, p, chromedp.Click(chromedp.ID("new-messages")))
	MustWait(t, p, `document.getElementById("new-messages").hidden`)
	MustWait(t, p, `(() => { const l = document.getElementById("log"); return l.scrollHeight - l.scrollTop - l.clientHeight < 48; })()`)

	// At the bottom, new messages keep the view at the bottom.
	atBottom := `(() => { const l = document.getElementById("log"); return l.scrollHeight - l.scrollTop - l.clientHeight < 48; })()`
	w.say("at bottom", "")
	MustWait(t, p, texts+`.at(-1) === "at bottom"`)
	MustWait(t, p, atBottom)

	// Scrolled up, one's own message takes the view down to it.
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](`document.getElementById("log").scrollTop = 200`))
	MustWait(t, p, `!`+atBottom)
	MustSay(t, p, "mine")
	MustWait(t, p, texts+`.at(-1) === "mine" && `+nonePending+` && `+atBottom)

	// A hidden tab counts unread messages in its title.
	title := MustEval[string](t, p, `document.title`)
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](setHidden(true)))
	w.say("while away 1", "")
	w.say("while away 2", "")
	MustWait(t, p, `document.title === "(2) " + `+jsString(title))
	MustDo(t, p, chromedp.Evaluate[chromedp.Void](setHidden(false)))
	MustWait(t, p, `document.title === `+jsString(title))
}

func TestBrowserFailedMessageRetries(t *testing.T) {
	clock := &testClock{}
	ts := MustStartClock(t, t.TempDir(), clock, func(c *Config) { c.MsgRate, c.MsgBurst = 0.5, 1 })
	b := MustBrowser(t, "en-US")
	p := MustPerson(t, b)
	MustEnter(t, p, ts, "hasty", "")
	MustSay(t, p, "first")
	MustSay(t, p, "second")
	MustWait(t, p, `document.querySelectorAll("#pending .msg.failed").length === 1`)
	MustWait(t, p, `!document.getElementById("composer-error").hidden && document.getElementById("composer-error").textContent.includes("too fast")`)
	if got := MustEval[string](t, p, `document.querySelector("#pending .msg.failed .text").textContent`); got != "second" {
		t.Errorf("failed message shows %q", got)
	}
	// After the bucket refills (the server's clock moved on 2 s), Retry
	// delivers it, once.
	clock.skip(2 * time.Second)
	MustDo(t, p, chromedp.Click(chromedp.CSS("#pending .retry")))
	MustWait(t, p, texts+`.join("|") === "first|second" && `+nonePending)
}

func TestBrowserSessionEndedElsewhere(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	// Two browser windows holding one session: alice's cookie in both.
	tabs := MustTabs(t, ts, ts.MustLogin(t, "alice"), "cats", 2)
	MustDo(t, tabs[0], chromedp.Click(chromedp.ID("logout")))
	// The other window's socket closes with 4001: back to login, with a
	// note and the room kept for the next login.
	MustWait(t, tabs[1], `location.pathname === "/" && !!document.querySelector(".notice")`)
	if v := MustEval[string](t, tabs[1], `document.getElementById("room").value`); v != "cats" {
		t.Errorf("room field %q, want cats", v)
	}
}

// The browser takes the cookie the socket's handshake renews (see
// setSessionCookie), so a tab left open for weeks, reconnecting now and
// then, keeps its session although it never loads a page.
func TestBrowserSocketRenewsCookie(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	// session is the browser's session cookie for the server.
	session := func() *network.Cookie {
		t.Helper()
		var ck *network.Cookie
		MustDo(t, p, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			r, err := cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{ts.URL}})
			if err != nil {
				return err
			}
			for _, c := range r.Cookies {
				if c.Name == cookieName {
					ck = c
				}
			}
			if ck == nil {
				return fmt.Errorf("no %s cookie among %v", cookieName, r.Cookies)
			}
			return nil
		}))
		return ck
	}
	expiresIn := func() time.Duration { t.Helper(); return time.Until(time.Unix(int64(session().Expires), 0)) }
	// The cookie as it would be after weeks: a minute left.
	value := session().Value
	MustDo(t, p, command(network.SetCookie, network.SetCookieParams{Name: cookieName, Value: value, URL: ts.URL,
		HTTPOnly: new(true), Expires: cdp.TimeSinceEpoch(time.Now().Add(time.Minute).Unix())}))
	if left := expiresIn(); left > 2*time.Minute {
		t.Fatalf("cookie expires in %v after shortening it", left)
	}
	MustEval[bool](t, p, `(window.other = new WebSocket("ws://" + location.host + "/ws?room=other"), true)`)
	MustWait(t, p, `window.other.readyState === WebSocket.OPEN`)
	if left := expiresIn(); left < sessionTTL-time.Hour {
		t.Errorf("after a socket the cookie expires in %v; want about %v", left, sessionTTL)
	}
}

// A socket refused before the upgrade: the page cannot see the 429, so it
// asks the server why and says so while it waits, then gets in once a
// slot is free.
func TestBrowserSaysWhySocketRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.SocketsPerAddr = 1 })
	b := MustBrowser(t, "en-US")
	alice := MustPerson(t, b)
	MustEnter(t, alice, ts, "alice", "")

	bob := MustPerson(t, b)
	ck := ts.MustLogin(t, "bob")
	MustDo(t, bob, setCookie(ts, ck), chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, bob, `document.getElementById("status").dataset.why === "too_many_sockets"`)
	if s := MustEval[string](t, bob, `document.getElementById("status").textContent`); !strings.Contains(s, "Too many connections from your network") {
		t.Errorf("status %q does not say why", s)
	}

	MustDo(t, alice, chromedp.Navigate("about:blank")) // alice's socket closes
	MustWait(t, bob, connected)
	MustSay(t, bob, "in at last")
	MustWait(t, bob, texts+`.includes("in at last")`)
}

// A socket refused because its address has loaded too many rooms
// lately (ROOM_RATE) says so, and gets in once the allowance refills.
func TestBrowserSaysTooManyRooms(t *testing.T) {
	var clock testClock
	ts := MustStartClock(t, t.TempDir(), &clock, func(c *Config) { c.RoomRate = 1 })
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "") // loads the lobby
	MustDo(t, p, chromedp.Navigate(ts.URL+"/r/games"))
	MustWait(t, p, `document.getElementById("status").dataset.why === "too_many_rooms"`)
	if s := MustEval[string](t, p, `document.getElementById("status").textContent`); !strings.Contains(s, "Too many new rooms opened from your network") {
		t.Errorf("status %q does not say why", s)
	}
	clock.skip(time.Minute)
	MustWait(t, p, connected)
}

// A socket refused for its origin (ALLOWED_ORIGINS does not list the
// page's address, as behind a proxy whose name was forgotten) says so,
// instead of reconnecting without a word.
func TestBrowserSaysOriginRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.AllowedOrigins = []string{"https://chat.example"} })
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, setCookie(ts, ts.MustLogin(t, "bob")), chromedp.Navigate(ts.URL+"/r/lobby"))
	MustWait(t, p, `document.getElementById("status").dataset.why === "origin_refused"`)
	if s := MustEval[string](t, p, `document.getElementById("status").textContent`); !strings.Contains(s, "does not accept connections from this page's address") {
		t.Errorf("status %q does not say why", s)
	}
}
