package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
)

// days is the day dividers on screen, joined with "|".
const days = `[...document.querySelectorAll("#messages .divider")].map(e => e.textContent).join("|")`

// Day dividers say "Today" and "Yesterday". A tab left open past midnight
// must say so of the right days, not show two "Today"s. The server's clock
// and the page's are both moved to just before midnight in Shanghai.
func TestBrowserDayDividersTurnAtMidnight(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(shanghai)
	midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, shanghai)
	// Ten seconds before midnight, long enough to log in and say something.
	offset := midnight.Add(-10 * time.Second).Sub(now)
	var clock testClock
	clock.skip(offset)
	ts := MustStartClock(t, t.TempDir(), &clock)

	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p,
		command(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Shanghai"}),
		command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: shiftedDate(offset)}),
	)
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "before midnight")
	MustWait(t, p, texts+`.includes("before midnight") && `+days+` === "Today"`)
	if clock.now().After(midnight) {
		t.Fatal("logging in took more than 10 s; the message is not from before midnight")
	}

	MustWait(t, p, days+` === "Yesterday"`)
	MustSay(t, p, "after midnight")
	MustWait(t, p, texts+`.includes("after midnight") && `+days+` === "Yesterday|Today"`)
}

// A laptop that slept through midnight wakes with its midnight timer not
// due yet (timers do not count sleep): looked at again, the page labels
// its dividers again. The page's clock jumps a day, as after a night's
// sleep; its timers do not. The page's day starts at noon, in UTC, so
// no real midnight comes while the test runs.
func TestBrowserDayDividersAfterSleep(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	now := time.Now().UTC()
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC)
	MustDo(t, p,
		command(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "UTC"}),
		command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: shiftedDate(noon.Sub(now))}),
	)
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "good night")
	MustWait(t, p, texts+`.includes("good night") && `+days+` === "Today" && document.querySelector("#messages .divider").getAttribute("role") === "separator"`)
	MustExec(t, p, setHidden(true)+`shiftDate(24 * 3600 * 1000);`+setHidden(false))
	MustWait(t, p, days+` === "Yesterday"`)
}

// shiftedDate is a script that moves the page's clock (Date) on by d,
// and gives the page shiftDate(ms) to move it on again.
func shiftedDate(d time.Duration) string {
	return fmt.Sprintf(`(() => {
  const Real = Date;
  let shift = %d;
  globalThis.shiftDate = (ms) => { shift += ms; };
  class Shifted extends Real {
    constructor(...a) { if (a.length === 0) super(Real.now() + shift); else super(...a); }
    static now() { return Real.now() + shift; }
  }
  globalThis.Date = Shifted;
})();`, d.Milliseconds())
}
