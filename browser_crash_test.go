package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/inspector"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A message the server has not confirmed survives the tab's page being
// killed with no pagehide to save it (a phone's browser discarding a
// background tab, a renderer crash): it is kept from the moment it is
// sent, not when the page goes. The page that comes back sends it. So
// does the draft, as it was after its last change: names picked from the
// online list and after "@" included.
func TestBrowserOutboxSurvivesACrash(t *testing.T) {
	ts, fz, p := MustAliceBehindFreezer(t)
	bob := ts.MustLogin(t, "bob")
	b, _ := ts.MustDial(t, bob, "lobby", -1)
	b.MustSay("hi", "") // offered after "@" as lately heard, also offline
	ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	MustWait(t, p, `document.getElementById("online-toggle").innerText === "3 online" && `+texts+`.includes("hi")`)
	fz.refuseSockets(true)
	fz.cut()
	MustWait(t, p, disconnected)
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), "typed offline"), chromedp.Click(chromedp.ID("send")))
	draft := `document.getElementById("text").value`
	MustWait(t, p, pendingTexts+` === "typed offline" && `+draft+` === ""`)
	// Each crash comes right after the change it checks: any later change
	// would save the outbox, and the draft, again.
	MustCrash(t, p)
	MustDo(t, p, chromedp.Navigate(fz.URL+"/r/lobby"))
	MustWait(t, p, pendingTexts+` === "typed offline"`)
	if v := MustEval[string](t, p, draft); v != "" {
		t.Errorf("the composer holds %q after the crash, want it empty", v)
	}

	// A name picked after "@" (from those who spoke lately).
	MustDo(t, p, chromedp.SendKeys(chromedp.ID("text"), "ask @b"), chromedp.KeyEvent(kb.Tab))
	MustWait(t, p, draft+` === "ask @bob "`)
	MustCrash(t, p)
	MustDo(t, p, chromedp.Navigate(fz.URL+"/r/lobby"))
	MustWait(t, p, pendingTexts+` === "typed offline"`)
	if v := MustEval[string](t, p, draft); v != "ask @bob " {
		t.Errorf("the composer holds %q after the crash, want the draft", v)
	}
	fz.refuseSockets(false)
	MustWait(t, p, connected+` && `+pendingTexts+` === "" && `+texts+`.includes("typed offline")`)
	ts.mustStoredOnce(t, bob, "typed offline")

	// Once more, for a name from the online list.
	MustDo(t, p, chromedp.Click(chromedp.ID("online-toggle")), chromedp.Click(chromedp.CSS(`#online-names .mention-name[data-name="carol"]`)))
	MustWait(t, p, draft+` === "ask @bob @carol "`)
	MustCrash(t, p)
	MustDo(t, p, chromedp.Navigate(fz.URL+"/r/lobby"))
	MustWait(t, p, connected)
	if v := MustEval[string](t, p, draft); v != "ask @bob @carol " {
		t.Errorf("the composer holds %q after the third crash, want the draft", v)
	}
}

// MustCrash kills the page's renderer as the browser would a discarded
// tab: no pagehide, no unload. The tab stays, to be navigated again.
func MustCrash(t *testing.T, p context.Context) {
	t.Helper()
	crashed := make(chan struct{})
	ctx, cancel := context.WithCancel(p)
	defer cancel()
	chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*inspector.EventTargetCrashed); ok {
			select {
			case <-crashed:
			default:
				close(crashed)
			}
		}
	})
	// The renderer dies before it can answer, so the call does not return
	// until ctx ends; the browser's word that the page crashed is awaited
	// instead.
	go chromedp.Do(ctx, command(cdppage.Crash, cdp.Empty{}))
	select {
	case <-crashed:
	case <-time.After(30 * time.Second):
		t.Fatal("the page did not crash")
	}
}
