package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// setNotifications sets the browser's notification permission for the
// server, as a person answering the browser's question would.
func setNotifications(ts *testServer, ctx context.Context, setting browser.PermissionSetting) chromedp.Action[chromedp.Void] {
	return command(browser.SetPermission, browser.SetPermissionParams{
		Permission: &browser.PermissionDescriptor{Name: "notifications"}, Setting: setting,
		Origin: ts.URL, BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	})
}

// A mention or a reply to one's message, while away, shows a system
// notification, once asked for with the header's button; other messages,
// and any while the reader is looking, do not. Those that come while away
// are one notification, which goes when the reader is back. A browser
// that blocks notifications is said to.
func TestBrowserNotify(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, alice, ts, "alice", "")
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	notify := `document.getElementById("notify")`
	if got := MustEval[string](t, alice, notify+`.hidden + " " + `+notify+`.textContent + " " + `+notify+`.getAttribute("aria-pressed")`); got != "false 🔕 Notify me false" {
		t.Fatalf("the button: %q, want it shown, off", got)
	}
	// A screen reader hears its words, not the bell.
	if got := MustAccessibleName(t, alice, notify); got != "Notify me" {
		t.Errorf("the button's name to a screen reader: %q, want Notify me", got)
	}

	MustDo(t, alice, setNotifications(ts, alice, browser.PermissionSettingDenied))
	MustDo(t, alice, chromedp.Click(chromedp.ID("notify")))
	MustWait(t, alice, `document.getElementById("composer-error").textContent.startsWith("Notifications are blocked") && `+notify+`.textContent === "🔕 Notify me"`)
	MustDo(t, alice, setNotifications(ts, alice, browser.PermissionSettingGranted))
	MustDo(t, alice, chromedp.Click(chromedp.ID("notify")))
	MustWait(t, alice, notify+`.textContent === "🔔 Notifications on" && `+notify+`.getAttribute("aria-pressed") === "true"`)

	// What the page shows, as the browser is asked to: title|body, and
	// "closed" when it takes one away.
	MustExec(t, alice, `window.shown = []; window.tags = new Set(); window.Notification = class extends Notification {
		constructor(title, o) { super(title, o); window.shown.push(title + "|" + o.body); window.tags.add(o.tag + " " + o.renotify); }
		close() { window.shown.push("closed"); super.close(); }
	};`)
	watcher, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1) // for the ids of messages
	next := func(text string) int64 {
		t.Helper()
		m := watcher.MustNextOf(typeMessage)
		for m.Text != text {
			m = watcher.MustNextOf(typeMessage)
		}
		return m.ID
	}
	seen := func(text string) {
		t.Helper()
		MustWait(t, alice, texts+`.some(s => s.startsWith(`+jsString(text)+`))`)
	}
	bob.say("@alice while you look", "")
	seen("@alice while you look")
	MustExec(t, alice, setFocus(false))
	bob.say("hello all", "")
	bob.say("@alice are you there?", "")
	seen("@alice are you there?")
	MustExec(t, alice, setFocus(true))
	MustSay(t, alice, "mine")
	mine := next("mine")

	// While away, the messages that call the reader are one
	// notification, replaced as more come: how many, and the newest.
	MustExec(t, alice, setFocus(false))
	bob.send(replyFrame("a reply to you", "", mine))
	seen("a reply to you")
	bob.say("@alice and again", "")
	seen("@alice and again")
	// The tab shown again behind another window is no return to it.
	MustExec(t, alice, setHidden(false))
	want := []string{"bob in #lobby|@alice are you there?", "closed", "bob in #lobby|a reply to you", "2 messages for you in #lobby|bob: @alice and again"}
	if got := MustEval[[]string](t, alice, `window.shown`); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notifications shown: %q, want %q", got, want)
	}
	if got := MustEval[[]string](t, alice, `[...window.tags]`); len(got) != 1 || got[0] != "chat:lobby true" {
		t.Errorf("tags and renotify: %q, want one tag for the room, each alerting", got)
	}
	MustExec(t, alice, setFocus(true))
	want = append(want, "closed")
	MustWait(t, alice, `window.shown.join("\n") === `+jsString(strings.Join(want, "\n")))

	// A browser whose Notification will not be constructed (Chrome on
	// Android) shows it through the service worker, with the first
	// message's link for a click to open; the message shows all the same.
	MustExec(t, alice, `window.Notification = class extends Notification { constructor() { throw new TypeError("Illegal constructor"); } };
		window.byWorker = [];
		setInterval(async () => {
			const reg = await navigator.serviceWorker.getRegistration("/static/");
			window.byWorker = reg ? (await reg.getNotifications()).map((n) => n.title + "|" + n.body + "|" + n.data.url) : [];
		}, 100);`)
	MustExec(t, alice, setFocus(false))
	bob.say("@alice on a phone", "")
	link := "|/r/lobby#msg-" + strconv.FormatInt(next("@alice on a phone"), 10)
	seen("@alice on a phone")
	MustWait(t, alice, `window.byWorker.join("\n") === `+jsString("bob in #lobby|@alice on a phone"+link))
	bob.say("@alice twice on a phone", "")
	seen("@alice twice on a phone")
	MustWait(t, alice, `window.byWorker.join("\n") === `+jsString("2 messages for you in #lobby|bob: @alice twice on a phone"+link))
	MustExec(t, alice, setFocus(true))
	MustWait(t, alice, `window.byWorker.length === 0`)

	// Off again: nothing more.
	MustDo(t, alice, chromedp.Click(chromedp.ID("notify")))
	MustWait(t, alice, notify+`.textContent === "🔕 Notify me" && localStorage.getItem("chat.notify") === null`)

	// A phone's narrow header shows the bell alone; the words stay its name.
	MustDo(t, alice, chromedp.EmulateViewport(390, 700, chromedp.EmulateMobile))
	if w := MustEval[float64](t, alice, notify+`.getBoundingClientRect().width`); w > 60 {
		t.Errorf("the button is %.0f px wide on a phone, want the bell alone", w)
	}
	MustExec(t, alice, setFocus(false))
	bob.say("@alice once more", "")
	seen("@alice once more")
	if got := MustEval[[]string](t, alice, `window.shown`); len(got) != len(want) {
		t.Errorf("notifications shown after turning them off: %q", got)
	}
}

// A reply that is a picture with no words is notified as "🖼 Picture",
// in the page's language.
func TestBrowserNotifyPicture(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	li := MustPerson(t, MustBrowser(t, "zh-CN"))
	MustEnter(t, li, ts, "li", "")
	MustDo(t, li, setNotifications(ts, li, browser.PermissionSettingGranted))
	MustDo(t, li, chromedp.Click(chromedp.ID("notify")))
	MustWait(t, li, `document.getElementById("notify").getAttribute("aria-pressed") === "true"`)
	MustExec(t, li, `window.shown = []; window.Notification = class extends Notification {
		constructor(title, o) { super(title, o); window.shown.push(title + "|" + o.body); }
	};`)
	MustSay(t, li, "谁有照片？")
	MustWait(t, li, texts+`.includes("谁有照片？") && `+nonePending)
	ck := ts.MustLogin(t, "bob")
	bob, _ := ts.MustDial(t, ck, "lobby", -1)
	mine := bob.MustNextOf(typeMessage)
	MustExec(t, li, setFocus(false))
	pic := pictureFrame(ts.MustUpload(t, ck, "lobby", MustPicture(t, "png", 40, 30)).ID, "", "p1")
	pic["reply_to"] = mine.ID
	bob.send(pic)
	MustWait(t, li, `window.shown.join("\n") === "bob（#lobby）|🖼 图片"`)
}

// The choice is kept for the browser, for every room: turned on or off
// in one tab, the other tabs' buttons say so at once, with nothing
// reloaded.
func TestBrowserNotifyOtherTab(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	first := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, first, ts, "alice", "")
	second := MustTab(t, first)
	MustDo(t, second, chromedp.Navigate(ts.URL+"/r/dev"))
	MustWait(t, second, connected)
	MustDo(t, first, setNotifications(ts, first, browser.PermissionSettingGranted))

	const button = `document.getElementById("notify").textContent + " " + document.getElementById("notify").getAttribute("aria-pressed")`
	const on, off = button + ` === "🔔 Notifications on true"`, button + ` === "🔕 Notify me false"`
	MustWait(t, second, off)
	MustDo(t, first, chromedp.Click(chromedp.ID("notify")))
	MustWait(t, first, on)
	MustWait(t, second, on)
	MustDo(t, second, chromedp.Click(chromedp.ID("notify")))
	MustWait(t, second, off)
	MustWait(t, first, off)
}
