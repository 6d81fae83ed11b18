package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Messages typed while the connection was down go out paced once it is
// back (eight at once, then four a second), under the server's default
// rate limit (5 a second in bursts of 10): all of them arrive, in order,
// and none comes back refused as too fast.
func TestBrowserOutboxPacedAfterReconnect(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { d := defaultConfig(); c.MsgRate, c.MsgBurst = d.MsgRate, d.MsgBurst })
	fz := MustFreezer(t, ts)
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, setCookie(ts, ts.MustLogin(t, "alice")), chromedp.Navigate(fz.URL+"/r/lobby"))
	MustWait(t, p, connected)
	fz.refuseSockets(true)
	fz.cut()
	MustWait(t, p, disconnected)
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("typed offline %02d", i))
		MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), want[i]), chromedp.Click(chromedp.ID("send")))
	}
	MustWait(t, p, fmt.Sprintf(`document.querySelectorAll("#pending .msg").length === %d`, len(want)))

	MustExec(t, p, groupedSends)
	fz.refuseSockets(false)
	MustDo(t, p, online(false), online(true)) // no wait for the countdown
	MustWait(t, p, connected+` && (`+nonePending+` || !!document.querySelector("#pending .msg.failed"))`)
	if failed := MustEval[[]string](t, p, `[...document.querySelectorAll("#pending .msg.failed .text")].map((e) => e.textContent)`); len(failed) > 0 {
		t.Fatalf("%d messages came back refused: %q", len(failed), failed)
	}
	if got := MustEval[[]string](t, p, texts); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("the page shows %q, want the 20 typed offline in order", got)
	}
	// Eight went at once, in one task, and the rest one a task.
	if sends := MustEval[[]int](t, p, `window.sends`); fmt.Sprint(sends) != "[1 1 1 1 1 1 1 1 2 3 4 5 6 7 8 9 10 11 12 13]" {
		t.Errorf("the page sent its messages in tasks %v, want eight in the first, then one in each", sends)
	}
}

// groupedSends is JS that lists in window.sends, for each message the
// page sends on its socket, which of the tasks that sent one sent it:
// those sent together, in one run of the page's code, have one number.
const groupedSends = `(() => {
	window.sends = [];
	let task = 0, inTask = false;
	const send = WebSocket.prototype.send;
	WebSocket.prototype.send = function (data) {
		if (String(data).startsWith('{"type":"message"')) {
			if (!inTask) { inTask = true; task++; queueMicrotask(() => { inTask = false; }); }
			window.sends.push(task);
		}
		return send.call(this, data);
	};
})()`
