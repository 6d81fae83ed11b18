package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// Browser tests drive Debian's Chromium through chromedp. Without Chromium
// they skip, except in CI (CI or CHAT_REQUIRE_BROWSER set), where .ci/run
// installs it and a missing browser is a failure.

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" || os.Getenv("CHAT_REQUIRE_BROWSER") != "" {
		t.Fatal("Chromium is required in CI but not installed (apt-get install -y chromium)")
	}
	t.Skip("no Chromium installed; apt-get install -y chromium to run the browser tests")
	return ""
}

// MustBrowser starts a headless Chromium with its own profile. lang sets
// the browser's language (navigator.language and Accept-Language).
func MustBrowser(t *testing.T, lang string) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test; skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, // we run as root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
		chromedp.Env("LANGUAGE="+strings.ReplaceAll(lang, "-", "_")),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 800),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelA()
		t.Fatalf("starting Chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelA() })
	recordJSCoverage(t, ctx)
	return ctx
}

// MustPerson opens a new isolated browser context (own cookies) in the
// browser: a second person on another computer, as far as the server knows.
func MustPerson(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	return mustTarget(t, browser, chromedp.WithNewBrowserContext())
}

// mustTarget opens a tab in parent's browser, as opts say. The tab is
// made here, by a first action on its own context rather than one with a
// timeout (MustDo's), which would close it when the timeout's context
// ends.
func mustTarget(t *testing.T, parent context.Context, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	recordJSCoverage(t, ctx)
	return ctx
}

func MustDo(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// MustEval evaluates a JavaScript expression and returns its value
// (with chromedp.EvalAwaitPromise, what its promise resolves to).
func MustEval[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// MustExec runs JavaScript in the page for its effect.
func MustExec(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	MustDo(t, ctx, chromedp.Evaluate[chromedp.Void](js))
}

// MustWait polls a JavaScript condition until it is true. A navigation
// (form posts, redirects) ends a poll in the old page; it starts again in
// the new one. A condition that makes a promise fails the wait: the
// promise itself is true at once, whatever it would resolve to.
func MustWait(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	guarded := `(() => { const v = (` + cond + `); if (v instanceof Promise) throw new Error("a promise is no condition: wait with MustEventually and chromedp.EvalAwaitPromise"); return v; })()`
	for {
		tctx, cancel := context.WithDeadline(ctx, deadline)
		_, err := chromedp.Run(tctx, chromedp.Poll[chromedp.Void](guarded, chromedp.WithPollingInterval(50*time.Millisecond)))
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) || !(strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context")) {
			t.Fatalf("waiting for %s: %v\nthe page: %s", cond, err, snapshot(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// snapshot is what a page shows, in short, for a failed wait's message:
// a CI log then says what the page did instead.
func snapshot(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const q = (s) => [...document.querySelectorAll(s)].map(e => e.innerText.replace(/\s+/g, " ").trim().slice(0, 100));
		return JSON.stringify({path: location.pathname, status: document.getElementById("status")?.dataset.state,
			messages: q("#messages > li").slice(-5), pending: q("#pending .msg"), error: document.getElementById("composer-error")?.innerText});
	})()`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

const connected = `document.getElementById("status").dataset.state === "connected"`

// disconnected is JS that is true once the page knows its socket is down.
const disconnected = `document.getElementById("status").dataset.state !== "connected"`

// flashed is JS for the texts of the messages flashed on screen (a
// message gone to, as by a link), "|" between them.
const flashed = `[...document.querySelectorAll("#messages .msg.flash")].map(li => li.querySelector(".text").textContent).join("|")`

// nonePending is JS that is true while the outbox is empty: the server
// has confirmed everything the page sent.
const nonePending = `document.querySelectorAll("#pending li").length === 0`

// MustEnter logs in through the real form and waits for the live chat.
func MustEnter(t *testing.T, ctx context.Context, ts *testServer, name, room string) {
	t.Helper()
	MustDo(t, ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), name),
	)
	if room != "" {
		MustDo(t, ctx, chromedp.SendKeys(chromedp.ID("room"), room))
	}
	MustDo(t, ctx, chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
	MustWait(t, ctx, `location.pathname.startsWith("/r/") && document.getElementById("status") && `+connected)
}

// MustAliceAndBob starts a browser with two people in the lobby.
func MustAliceAndBob(t *testing.T, ts *testServer) (alice, bob context.Context) {
	t.Helper()
	b := MustBrowser(t, "en-US")
	alice, bob = MustPerson(t, b), MustPerson(t, b)
	MustEnter(t, alice, ts, "alice", "")
	MustEnter(t, bob, ts, "bob", "")
	return alice, bob
}

// MustTabs opens n tabs of one browser holding one session (ck), each
// connected in room: one person with several windows.
func MustTabs(t *testing.T, ts *testServer, ck *http.Cookie, room string, n int) []context.Context {
	t.Helper()
	tabs := []context.Context{MustPerson(t, MustBrowser(t, "en-US"))}
	for len(tabs) < n {
		tabs = append(tabs, MustTab(t, tabs[0]))
	}
	MustDo(t, tabs[0], setCookie(ts, ck))
	for _, tab := range tabs {
		MustDo(t, tab, chromedp.Navigate(ts.URL+"/r/"+room))
		MustWait(t, tab, connected)
	}
	return tabs
}

// MustTab opens another tab of person p's browser context: the same
// cookies and storage.
func MustTab(t *testing.T, p context.Context) context.Context {
	t.Helper()
	return mustTarget(t, p)
}

// upToEdit is Up in the empty composer, which edits one's last message.
// The composer is emptied first (a test may have left a draft there) and
// focused (a tab that has not typed has it elsewhere).
func upToEdit() []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{
		chromedp.Evaluate[chromedp.Void](`document.getElementById("text").value = ""`),
		chromedp.Focus(chromedp.ID("text")),
		chromedp.KeyEvent(kb.ArrowUp),
	}
}

// MustSay types text into the composer and presses Enter.
func MustSay(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	MustDo(t, ctx, chromedp.SendKeys(chromedp.ID("text"), text), enter())
}

// enter presses Enter in the focused element as a keyboard does: one
// keydown that carries its text, which the page may cancel, so the
// composer, whose keydown sends, gets no line break. chromedp's kb.Enter
// sends the text as a char event of its own, which no page can cancel:
// it left a line break in the composer after every message, and its
// input event did work the page must do itself (see
// TestBrowserTypingRightAfterSending).
func enter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		key := input.DispatchKeyEventParams{Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13}
		down, up := key, key
		down.Type, down.Text, down.UnmodifiedText = input.DispatchKeyEventTypeKeyDown, "\r", "\r"
		up.Type = input.DispatchKeyEventTypeKeyUp
		for _, k := range []input.DispatchKeyEventParams{down, up} {
			if _, err := cdp.Call(ctx, tg, input.DispatchKeyEvent, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// MustPaste inserts text into the composer as an emoji keyboard, an IME
// or a paste does (key events cannot type a zero-width joiner or a Thai
// vowel mark), then presses Enter.
func MustPaste(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	MustPasteInto(t, ctx, "text", text)
	MustDo(t, ctx, enter())
}

// MustPasteInto inserts text into the field with this id, as MustPaste.
func MustPasteInto(t *testing.T, ctx context.Context, id, text string) {
	t.Helper()
	MustDo(t, ctx,
		chromedp.Focus(chromedp.ID(id)),
		command(input.InsertText, input.InsertTextParams{Text: text}),
	)
}

// MustHover moves the mouse over the first element sel matches.
func MustHover(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	at := MustEval[[]float64](t, ctx, `(() => { const r = document.querySelector(`+jsString(sel)+`).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()`)
	MustDo(t, ctx, command(input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: at[0], Y: at[1]}))
}

// command sends one DevTools command to the page and drops its result: an
// emulation, a cookie, a mouse move.
func command[P, R any](c cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, c, params)
		return err
	})
}

// setCookie gives the browser context a session made with MustLogin: the
// same person in another window, or a login without the form.
func setCookie(ts *testServer, ck *http.Cookie) chromedp.Action[chromedp.Void] {
	return command(network.SetCookie, network.SetCookieParams{Name: ck.Name, Value: ck.Value, URL: ts.URL, HTTPOnly: new(true)})
}

// texts returns the text of every message on screen, in order.
const texts = `[...document.querySelectorAll("#messages .msg .text")].map(e => e.textContent)`

// pendingTexts is the text of every message waiting to be sent, in order,
// joined with "|".
const pendingTexts = `[...document.querySelectorAll("#pending .text")].map(e => e.textContent).join("|")`

// MustContiguous is the ids of the events on screen, which must follow
// one another with no gap and none twice (a room where nobody edits,
// deletes or reacts).
func MustContiguous(t *testing.T, p context.Context, what string) []int {
	t.Helper()
	got := MustEval[[]int](t, p, `[...document.querySelectorAll("#messages [data-id]")].map(e => +e.dataset.id)`)
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("%s: ids on screen not contiguous at %d: %d after %d", what, i, got[i], got[i-1])
		}
	}
	return got
}

func jsString(s string) string {
	return fmt.Sprintf("%q", s) // Go and JS agree on the escapes we use
}

// followLink has page p follow a link to message id, as one opened or
// clicked again: the hash is cleared first, so that the page hears of
// it even when it was that link already.
func followLink(t *testing.T, p context.Context, id int64) {
	t.Helper()
	MustExec(t, p, `location.hash = ""`)
	MustExec(t, p, fmt.Sprintf(`location.hash = "#msg-%d"`, id))
}

// MustPong has page p's socket bring it a frame, the pong to a ping
// sent on it, and waits until the page has read it: the page's own
// handler, added first, has run by the time a listener added now hears it.
func MustPong(t *testing.T, p context.Context) {
	t.Helper()
	MustEval[bool](t, p, importModule("state.js")+`.then((m) => {
		const ws = m.state.ws;
		window.ponged = false;
		const hear = (e) => {
			if (!String(e.data).includes(`+jsString(pongFrame)+`)) return;
			window.ponged = true;
			ws.removeEventListener("message", hear);
		};
		ws.addEventListener("message", hear);
		ws.send(JSON.stringify({type: "ping"}));
		return true;
	})`, chromedp.EvalAwaitPromise)
	MustWait(t, p, `window.ponged`)
}

// MustFrames waits until page p has rendered twice: the scroll events
// that a change of its layout queued have fired (a browser fires them
// with the next frame, or the one after when the change is found in
// that frame's layout).
func MustFrames(t *testing.T, p context.Context) {
	t.Helper()
	MustEval[bool](t, p, `new Promise((ok) => requestAnimationFrame(() => requestAnimationFrame(() => ok(true))))`, chromedp.EvalAwaitPromise)
}

// MustScrollStill waits until the log has not moved for 200 ms and is
// not between a scroll event and its scrollend: a smooth scroll, such as
// a link's to its message, has ended. Its scroll events are the reader's
// as far as the page can tell, and would ask for pages. The 200 ms cover
// the frame or two before a smooth scroll's first scroll event, and
// frames that a busy machine makes slow: equal offsets 50 ms apart, which
// this once was, can be the middle of a scroll there.
func MustScrollStill(t *testing.T, p context.Context) {
	t.Helper()
	MustExec(t, p, `(() => {
		const log = document.getElementById("log");
		if (!window.scrolling) {
			window.scrolling = {now: false};
			log.addEventListener("scroll", () => { scrolling.now = true; scrolling.at = performance.now(); });
			log.addEventListener("scrollend", () => { scrolling.now = false; });
		}
		scrolling.at = performance.now();
		scrolling.top = log.scrollTop;
	})()`)
	MustWait(t, p, `(() => {
		const top = document.getElementById("log").scrollTop;
		if (top !== scrolling.top) { scrolling.top = top; scrolling.at = performance.now(); }
		return !scrolling.now && performance.now() - scrolling.at > 200;
	})()`)
}

// errorShown is JS that is true while the line under the composer shows
// text, the page's way of saying something went wrong.
func errorShown(text string) string {
	return `!document.getElementById("composer-error").hidden && document.getElementById("composer-error").textContent === ` + jsString(text)
}

// importModule is JS for the chat page's own instance of a module, name
// (a promise of it): modules import each other with the page's version
// (?v=…), and the same file at another URL would run a second time.
func importModule(name string) string {
	return `import("/static/` + name + `" + new URL(document.querySelector("script[type=module]").src).search)`
}

// setHidden is JS that makes the tab hidden or visible, as far as the page
// can tell (document.hidden and a visibilitychange event); headless
// Chromium does not switch tabs.
func setHidden(hidden bool) string {
	return fmt.Sprintf(`Object.defineProperty(document, "hidden", {configurable: true, get: () => %t}); document.dispatchEvent(new Event("visibilitychange"));`, hidden)
}

// setFocus is JS that gives the window focus or takes it away, as far as
// the page can tell (document.hasFocus and a focus or blur event): another
// application in front of the browser. Headless Chromium does not switch
// windows.
func setFocus(focus bool) string {
	ev := map[bool]string{true: "focus", false: "blur"}[focus]
	return fmt.Sprintf(`document.hasFocus = () => %t; window.dispatchEvent(new Event(%q));`, focus, ev)
}

// MustAccessibleName is the name the browser gives a screen reader for
// the element that the expression expr evaluates to, without the white
// space at its ends, which is not heard.
func MustAccessibleName(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	var name string
	MustDo(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		el, err := cdp.Call(ctx, tg, cdpruntime.Evaluate, cdpruntime.EvaluateParams{Expression: expr})
		if err != nil {
			return err
		}
		if el.ExceptionDetails != nil || el.Result.ObjectID == "" {
			return fmt.Errorf("%s is no element", expr)
		}
		ax, err := cdp.Call(ctx, tg, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{ObjectID: el.Result.ObjectID, FetchRelatives: new(false)})
		if err != nil {
			return err
		}
		if len(ax.Nodes) == 0 || ax.Nodes[0].Name == nil {
			return fmt.Errorf("%s has no accessible name", expr)
		}
		return json.Unmarshal(ax.Nodes[0].Name.Value, &name)
	}))
	return strings.TrimSpace(name)
}

// recordTimers is JS that lists in window.pauses the delay, in ms, of
// each timer set from code whose stack names where: a file, or a
// function.
func recordTimers(where string) string {
	return `(() => {
	window.pauses = [];
	const set = setTimeout;
	globalThis.setTimeout = (f, ms, ...args) => {
		if (new Error().stack.includes(` + jsString(where) + `)) window.pauses.push(ms);
		return set(f, ms, ...args);
	};
})()`
}
