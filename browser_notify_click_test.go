package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// A click on a notification shows the first message it told of, where
// the room's page is: the page's own notification, and one the service
// worker showed (Chrome on Android), whose click the worker tells the
// open page. The message is scrolled to and flashed, as a link to it
// would be.
func TestBrowserNotificationClick(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, alice, ts, "alice", "")
	MustDo(t, alice, setNotifications(ts, alice, browser.PermissionSettingGranted), chromedp.Click(chromedp.ID("notify")))
	MustWait(t, alice, `document.getElementById("notify").getAttribute("aria-pressed") === "true"`)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)

	// shownThere is JS: the message flashed and in view, its text.
	const shownThere = `[...document.querySelectorAll("#messages .msg.flash")].filter((li) => {
		const r = li.getBoundingClientRect();
		return r.top >= 0 && r.bottom <= innerHeight;
	}).map((li) => li.querySelector(".text").textContent).join("|")`
	// away has bob call alice twice while she is away, then say enough
	// more that the first call is out of view at the bottom of the page.
	away := func(first string) {
		t.Helper()
		MustExec(t, alice, setFocus(false))
		bob.say(first, "")
		bob.say("@alice again", "")
		for i := range 30 {
			bob.say(fmt.Sprintf("more %d", i), "")
		}
		MustWait(t, alice, texts+`.includes("more 29")`)
		if got := MustEval[string](t, alice, shownThere); got != "" {
			t.Fatalf("flashed in view before any click: %q", got)
		}
	}

	// The page's own notification (a desktop browser).
	MustExec(t, alice, `window.made = []; window.Notification = class extends Notification {
		constructor(title, o) { super(title, o); window.made.push(this); }
	};`)
	away("@alice look at this")
	if n := MustEval[int](t, alice, `window.made.length`); n != 2 {
		t.Fatalf("%d notifications made, want 2 (the second replacing the first)", n)
	}
	MustExec(t, alice, `window.made.at(-1).dispatchEvent(new Event("click"))`)
	MustWait(t, alice, shownThere+` === "@alice look at this"`)
	MustExec(t, alice, setFocus(true))

	// One the worker showed: the worker's click tells the page.
	// The test asks the worker's registration for its notifications only
	// once the page's two shows are done (workerShown counts them).
	// Asked while they were under way, as this test once did every few
	// milliseconds, Chrome lost both, in about one run of fifteen under
	// load: both shows resolved, and the list stayed empty.
	MustExec(t, alice, `window.Notification = class extends Notification { constructor() { throw new TypeError("Illegal constructor"); } };
		window.workerShown = 0;
		const show = ServiceWorkerRegistration.prototype.showNotification;
		ServiceWorkerRegistration.prototype.showNotification = function (...args) {
			return show.apply(this, args).then((v) => { window.workerShown++; return v; });
		};
		document.querySelectorAll("#messages .flash").forEach((li) => li.classList.remove("flash"));`)
	away("@alice on a phone")
	MustWait(t, alice, `window.workerShown === 2`)
	if !MustEval[bool](t, alice, `navigator.serviceWorker.getRegistration("/static/").then(async (reg) => (await reg.getNotifications()).length === 1)`, chromedp.EvalAwaitPromise) {
		t.Fatal("the worker's two notifications are not one, the second replacing the first")
	}
	var worker target.ID
	targets, err := chromedp.Targets(alice)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		if tg.Type == "service_worker" && strings.HasSuffix(tg.URL, "/static/sw.js") {
			worker = tg.TargetID
		}
	}
	if worker == "" {
		t.Fatal("no service worker running for the notification")
	}
	sw, cancel := chromedp.NewContext(alice, chromedp.WithTargetID(worker))
	defer cancel()
	// The event is the browser's but for isTrusted: the worker cannot
	// focus a window for it, nor wait on it, and tells the page first.
	if got := MustEval[string](t, sw, `(async () => {
		const [n] = await registration.getNotifications();
		self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n }));
		return n.data.url;
	})()`, chromedp.EvalAwaitPromise); !strings.HasPrefix(got, "/r/lobby#msg-") {
		t.Fatalf("the notification's link: %q", got)
	}
	MustWait(t, alice, shownThere+` === "@alice on a phone"`)
}
