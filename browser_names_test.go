package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// People are told apart at a glance: a name has one of eight colours,
// the same wherever and however it is written (names compare as the
// server compares them), and different names mostly differ.
func TestBrowserNameColours(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "hi")
	MustSay(t, bob, "hello")
	MustWait(t, alice, texts+`.length === 2`)
	got, err := chromedp.Run(alice, chromedp.Evaluate[map[string]int](importModule("view.js")+`.then((m) => {
		const cls = (name) => m.authorEl(name).className;
		const names = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "小明", "Ωmega"];
		return {
			colours: new Set(names.map(cls)).size,
			unfolded: ["ALICE", "Alice", "ａｌｉｃｅ"].filter((n) => cls(n) !== cls("alice")).length,
			wellFormed: names.filter((n) => /^author n[0-7]$/.test(cls(n))).length,
			shownOther: [...document.querySelectorAll("#messages .msg .author")].filter((a) => a.className !== cls(a.textContent)).length,
		};
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got["colours"] < 4 || got["unfolded"] != 0 || got["wellFormed"] != 12 || got["shownOther"] != 0 {
		t.Errorf("twelve names in %d colours (want at least 4); alice written otherwise in another colour %d times; %d of 12 classes well formed; %d names on screen in another colour than authorEl gives",
			got["colours"], got["unfolded"], got["wellFormed"], got["shownOther"])
	}
}
