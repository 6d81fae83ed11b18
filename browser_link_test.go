package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Link under a message copies a link to it; a page opened with such a
// link shows that message once it is live, loading the history up to it,
// and so does a page whose link changes to one.
func TestBrowserMessageLink(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.say("the one to link to", "")
	linked := w.MustNextOf(typeMessage)
	last := w.MustSayMany("later %d", 2*historyOnJoin)
	b := MustBrowser(t, "en-US")
	p := MustPerson(t, b)
	MustEnter(t, p, ts, "alice", "")
	MustDo(t, p, command(browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted,
		Origin: ts.URL, BrowserContextID: chromedp.FromContext(p).BrowserContextID,
	}))
	lastLi := `[...document.querySelectorAll("#messages .msg")].at(-1)`
	MustExec(t, p, lastLi+`.querySelector(".link").click()`)
	MustWait(t, p, lastLi+`.querySelector(".link").textContent === "Link copied"`)
	MustExec(t, p, `navigator.clipboard.readText().then((v) => { window.clip = v; }, (e) => { window.clip = String(e); })`)
	MustWait(t, p, `window.clip !== undefined`)
	if got, want := MustEval[string](t, p, `window.clip`), fmt.Sprintf("%s/r/lobby#msg-%d", ts.URL, last.ID); got != want {
		t.Errorf("clipboard holds %q, want %q", got, want)
	}

	// Opened with a link to a message further up than a page loads.
	friend := MustPerson(t, b)
	MustDo(t, friend, setCookie(ts, ts.MustLogin(t, "bob")), chromedp.Navigate(fmt.Sprintf("%s/r/lobby#msg-%d", ts.URL, linked.ID)))
	MustWait(t, friend, connected+` && `+flashed+` === "the one to link to"`)
	// The link changes to another message on the page.
	MustExec(t, friend, fmt.Sprintf(`location.hash = "#msg-%d"`, last.ID))
	MustWait(t, friend, flashed+` === "later 99"`)
	// A link to no message of this room says so.
	MustExec(t, friend, fmt.Sprintf(`location.hash = "#msg-%d"`, last.ID+1000))
	MustWait(t, friend, `document.getElementById("composer-error").textContent === "There is no such message in this room."`)
	MustExec(t, friend, `document.getElementById("composer-error").textContent = ""; location.hash = "#msg-1"`) // the writer's join
	MustWait(t, friend, `document.getElementById("composer-error").textContent === "There is no such message in this room."`)
}

// A link to a message opened by someone not logged in goes through the
// login page, and on to the message.
func TestBrowserMessageLinkThroughLogin(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	w.say("look at this", "")
	linked := w.MustNextOf(typeMessage)
	w.MustSayMany("later %d", historyOnJoin)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, chromedp.Navigate(fmt.Sprintf("%s/r/lobby#msg-%d", ts.URL, linked.ID)))
	MustWait(t, p, `location.pathname === "/" && !!document.getElementById("name")`)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("name"), "newcomer"), chromedp.Click(chromedp.CSS(`#login-form button[type="submit"]`)))
	MustWait(t, p, fmt.Sprintf(`location.pathname === "/r/lobby" && location.hash === "#msg-%d"`, linked.ID))
	MustWait(t, p, connected+` && `+flashed+` === "look at this"`)
}
