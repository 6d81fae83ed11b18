package main

import (
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Invite copies the room's link; a friend who opens it gets the login page
// with the room filled in. Where the page may not write the clipboard,
// the link is shown to copy by hand.
func TestBrowserInvite(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	b := MustBrowser(t, "en-US")
	alice, friend := MustPerson(t, b), MustPerson(t, b)
	MustEnter(t, alice, ts, "alice", "kitchen")
	// Reading the clipboard back needs a permission a person would be
	// asked for; writing it, on a click, does not.
	MustDo(t, alice, command(browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "clipboard-read"}, Setting: browser.PermissionSettingGranted,
		Origin: ts.URL, BrowserContextID: chromedp.FromContext(alice).BrowserContextID,
	}))
	link := ts.URL + "/r/kitchen"
	MustDo(t, alice, chromedp.Click(chromedp.ID("invite")))
	MustWait(t, alice, `document.getElementById("invite").textContent === "Link copied"`)
	MustExec(t, alice, `navigator.clipboard.readText().then((v) => { window.clip = v; }, (e) => { window.clip = String(e); })`)
	MustWait(t, alice, `window.clip !== undefined`)
	if got := MustEval[string](t, alice, `window.clip`); got != link {
		t.Errorf("clipboard holds %q, want %q", got, link)
	}
	MustWait(t, alice, `document.getElementById("invite").textContent === "Invite"`)

	// Pressed again while it says so, it says so for 2 s from then: the
	// first press's 2 s do not cut the second's short. Each change of
	// the label is recorded with its time; noise can only make the last
	// one later.
	MustExec(t, alice, `window.labels = []; new MutationObserver(() => window.labels.push([document.getElementById("invite").textContent, performance.now()])).observe(document.getElementById("invite"), { childList: true, characterData: true, subtree: true })`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("invite")))
	MustWait(t, alice, `window.labels.length === 1 && performance.now() - window.labels[0][1] > 1000`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("invite")))
	MustWait(t, alice, `window.labels.at(-1)?.[0] === "Invite"`)
	labels := MustEval[[][]any](t, alice, `window.labels`)
	if len(labels) == 3 { // pressed again before the first 2 s ran out
		if shown := labels[2][1].(float64) - labels[1][1].(float64); shown < 1990 {
			t.Errorf("pressed again, Invite said Link copied for %.0f ms, want 2000 (labels %v)", shown, labels)
		}
	} else if len(labels) != 4 {
		t.Errorf("Invite's labels after two presses: %v", labels)
	}

	MustDo(t, friend, chromedp.Navigate(link))
	MustWait(t, friend, `document.getElementById("room")?.value === "kitchen"`)

	// Plain HTTP to an address other than localhost has no clipboard API.
	MustExec(t, alice, `Object.defineProperty(navigator, "clipboard", {value: undefined}); window.prompt = (msg, value) => { window.prompted = [msg, value]; return null; }`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("invite")))
	MustWait(t, alice, `window.prompted?.[1] === `+jsString(link)+` && window.prompted[0].startsWith("Copy this link")`)

	// A phone opens its share sheet (Linux Chromium has none: a stand-in
	// records what it was given).
	MustDo(t, alice, chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile, chromedp.EmulateTouch))
	MustExec(t, alice, `navigator.share = (data) => { window.shared = data; return Promise.resolve(); }`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("invite")))
	MustWait(t, alice, `window.shared?.url === `+jsString(link)+` && window.shared.title === "#kitchen"`)
}
