package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

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
	MustDo(t, p, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Shanghai"}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: shiftedDate(offset)})
		return err
	}))
	MustEnter(t, p, ts, "alice", "")
	MustSay(t, p, "before midnight")
	const days = `[...document.querySelectorAll("#messages .divider")].map(e => e.textContent).join("|")`
	MustWait(t, p, texts+`.includes("before midnight") && `+days+` === "Today"`)
	if clock.now().After(midnight) {
		t.Fatal("logging in took more than 10 s; the message is not from before midnight")
	}

	MustWait(t, p, days+` === "Yesterday"`)
	MustSay(t, p, "after midnight")
	MustWait(t, p, texts+`.includes("after midnight") && `+days+` === "Yesterday|Today"`)
}

// shiftedDate is a script that moves the page's clock (Date) on by d.
func shiftedDate(d time.Duration) string {
	return fmt.Sprintf(`(() => {
  const Real = Date, shift = %d;
  class Shifted extends Real {
    constructor(...a) { if (a.length === 0) super(Real.now() + shift); else super(...a); }
    static now() { return Real.now() + shift; }
  }
  globalThis.Date = Shifted;
})();`, d.Milliseconds())
}
