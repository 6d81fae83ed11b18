package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A phone shows the whole page at its width: nothing scrolls sideways,
// and the composer is on screen.
func TestBrowserPhoneHasNoHorizontalScroll(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	b := MustBrowser(t, "en-US")
	p := MustPerson(t, b)
	MustDo(t, p, chromedp.EmulateViewport(375, 667, chromedp.EmulateMobile))
	MustDo(t, p, chromedp.Navigate(ts.URL+"/"))
	noScroll := `document.documentElement.scrollWidth <= document.documentElement.clientWidth && document.body.scrollWidth <= document.documentElement.clientWidth`
	if !MustEval[bool](t, p, noScroll) {
		t.Error("login page scrolls sideways on a phone")
	}
	MustEnter(t, p, ts, "phone user with longname", "a-rather-long-room-name-on-phone") // 24 and 32: the longest
	MustSay(t, p, "https://example.com/"+strings.Repeat("averyveryverylongpath", 8))
	MustSay(t, p, strings.Repeat("不换行的中文", 30))
	// A code block scrolls inside itself, not the page; a code span wraps.
	fence := strings.Repeat("`", 3)
	MustPasteInto(t, p, "text", fence+"\n"+strings.Repeat("long_code_line(", 20)+"\n"+fence+" and `"+strings.Repeat("span", 40)+"`")
	MustDo(t, p, enter())
	MustWait(t, p, texts+`.length === 3`)
	if !MustEval[bool](t, p, noScroll+` && document.getElementById("log").scrollWidth <= document.getElementById("log").clientWidth`) {
		t.Error("chat page scrolls sideways on a phone")
	}
	// The composer is on screen and usable.
	if !MustEval[bool](t, p, `(() => { const r = document.getElementById("text").getBoundingClientRect(); return r.bottom <= innerHeight && r.width > 150; })()`) {
		t.Error("composer is off screen or too narrow on a phone")
	}
}

// headerRows is JS for how many lines the chat page's header takes, as
// flex-wrap lays its items out.
const headerRows = `(() => {
	const rs = [...document.querySelector("header").children].map(e => e.getBoundingClientRect()).filter(r => r.width > 0).sort((a, b) => a.top - b.top);
	let rows = 0, bottom = -Infinity;
	for (const r of rs) {
		if (r.top >= bottom - 1) { rows++; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
	}
	return rows;
})()`

// A phone's header takes two lines while connected, with a short room
// name shown whole and with the longest name and room, in English and in
// Chinese (whose words are wider): the status is its dot alone, its word
// kept for a screen reader, and the online count "👥 n", its words kept
// likewise. What else the status says (here a reconnect's countdown)
// takes a line of its own while it lasts, in full.
func TestBrowserPhoneHeader(t *testing.T) {
	status, online := `document.getElementById("status")`, `document.getElementById("online-toggle")`
	var ts *testServer
	var last context.Context
	for _, lang := range []struct{ lang, longName, want string }{
		{"zh-CN", "名字很长的人名字很长的人名字很长的人名字很长的人", "|已连接|👥 1||👥 11 人在线"},
		{"en-US", "someone with a long name", "|Connected|👥 1||👥 11 online"}, // the one reconnecting below
	} {
		ts = MustStart(t, t.TempDir())
		b := MustBrowser(t, lang.lang)
		for _, tc := range []struct{ name, room string }{
			{"alice", "lobby"},
			{lang.longName, "a-rather-long-room-name-on-phone"}, // 24 and 32: the longest
		} {
			p := MustPerson(t, b)
			last = p
			MustDo(t, p, chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile)) // a common Android width
			MustEnter(t, p, ts, tc.name, tc.room)
			// An old or small phone's 320 px keeps two lines too; there,
			// news in other rooms may take a third while it shows (it
			// does with an emoji font; glyphs' widths decide).
			for _, vw := range []struct {
				width    int64
				withNews int
			}{{360, 2}, {320, 3}} {
				MustDo(t, p, chromedp.EmulateViewport(vw.width, 640, chromedp.EmulateMobile))
				t.Run(fmt.Sprintf("%s/%s/%d", lang.lang, tc.room, vw.width), func(t *testing.T) {
					if rows := MustEval[int](t, p, headerRows); rows != 2 {
						t.Errorf("connected, the header takes %d lines, want 2", rows)
					}
					// What is seen of the status and the count, and their words.
					seen := `(e) => e.getBoundingClientRect().width > 1 && parseFloat(getComputedStyle(e).fontSize) > 0 ? e.textContent : ""`
					if got := MustEval[string](t, p, `((seen) => [seen(`+status+`), `+status+`.textContent, ...[...`+online+`.children].map(seen), `+online+`.textContent].join("|"))(`+seen+`)`); got != lang.want {
						t.Errorf("the status and the online count: %q, want %q", got, lang.want)
					}
					whoami := `(() => { const w = document.querySelector(".whoami"); return w.getBoundingClientRect().width > 30 && w.getBoundingClientRect().right <= innerWidth && document.documentElement.scrollWidth <= innerWidth; })()`
					if !MustEval[bool](t, p, whoami) {
						t.Error("the name one is signed in as is not on screen, or the page scrolls sideways")
					}
					cut := MustEval[bool](t, p, `(() => { const h = document.querySelector(".room-name"); return h.scrollWidth > h.clientWidth; })()`)
					if cut != (tc.room != "lobby") {
						t.Errorf("the room's name cut short: %v", cut)
					}
					// News in other rooms (as wide as it gets: "💬 100+")
					// takes its place from the room box, and leaves one's
					// name on screen.
					MustExec(t, p, showNews("100+"))
					if rows := MustEval[int](t, p, headerRows); rows > vw.withNews {
						t.Errorf("with news elsewhere, the header takes %d lines, want at most %d", rows, vw.withNews)
					}
					if !MustEval[bool](t, p, whoami) {
						t.Error("with news elsewhere, the name one is signed in as is not on screen, or the page scrolls sideways")
					}
					MustExec(t, p, `document.getElementById("rooms-unread").hidden = true`)
				})
			}
			MustDo(t, p, chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile))
		}
	}

	ts.MustClose(t)
	p := last
	MustWait(t, p, status+`.dataset.state === "reconnecting"`)
	if rows := MustEval[int](t, p, headerRows); rows != 3 {
		t.Errorf("reconnecting, the header takes %d lines, want 3", rows)
	}
	if !MustEval[bool](t, p, `(() => { const s = `+status+`, r = s.getBoundingClientRect(); return s.textContent.startsWith("Reconnecting in ") && parseFloat(getComputedStyle(s).fontSize) > 10 && s.scrollWidth <= s.clientWidth + 1 && r.width > innerWidth / 2; })()`) {
		t.Error("reconnecting, the status is not shown in full on a line of its own")
	}
}

// A tablet's header (an iPad's 768 px, upright) is one line: the buttons
// show their pictures alone, and their words stay their names.
func TestBrowserTabletHeader(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, chromedp.EmulateViewport(768, 1024))
	MustEnter(t, p, ts, "alice", "")
	if rows := MustEval[int](t, p, headerRows); rows != 1 {
		t.Errorf("the header takes %d lines, want 1", rows)
	}
	if got := MustEval[string](t, p, `[...document.querySelectorAll("header button")].filter(b => b.getBoundingClientRect().width > 0).map(b => b.innerText.trim().replace(/\s+/g, " ")).join("|")`); got != "✎ Topic|Invite|🔍 Search|🔕 Notify me|👥 1 1 online|Go|Log out" {
		t.Errorf("the header's buttons: %q", got)
	}
	if got := MustEval[string](t, p, `[...document.querySelectorAll("header .label")].filter(l => l.getBoundingClientRect().width > 1).map(l => l.textContent).join("|")`); got != "" {
		t.Errorf("words shown beside the pictures: %q", got)
	}
	// A screen reader hears the words, and no picture.
	var names []string
	for i := range MustEval[int](t, p, `document.querySelectorAll("header button").length`) {
		el := fmt.Sprintf(`document.querySelectorAll("header button")[%d]`, i)
		if MustEval[bool](t, p, el+`.getBoundingClientRect().width > 0`) {
			names = append(names, MustAccessibleName(t, p, el))
		}
	}
	if got := strings.Join(names, "|"); got != "Topic|Invite|Search|Notify me|1 online|Go|Log out" {
		t.Errorf("the header's buttons to a screen reader: %q", got)
	}
	MustExec(t, p, showNews("100+"))
	if rows := MustEval[int](t, p, headerRows); rows != 1 {
		t.Errorf("with news elsewhere, the header takes %d lines, want 1", rows)
	}
	MustDo(t, p, chromedp.EmulateViewport(1280, 800))
	if got := MustEval[string](t, p, `[...document.querySelectorAll("header .label")].filter(l => l.getBoundingClientRect().width > 1).map(l => l.textContent).join("|")`); got != "Topic|Search|Notify me|1 online" {
		t.Errorf("on a desktop, the words shown: %q", got)
	}
}

// The composer is one line at a phone's width, a 320 px one's too: the
// picture button, the text and Send side by side, the text the widest,
// so the keyboard leaves the conversation what it can.
func TestBrowserPhoneComposerOneLine(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, picturesOffered)
	for _, width := range []int64{320, 360, 390} {
		MustDo(t, p, chromedp.EmulateViewport(width, 640, chromedp.EmulateMobile))
		got := MustEval[string](t, p, `(() => {
			const [a, x, s] = ["attach", "text", "send"].map((id) => document.getElementById(id).getBoundingClientRect());
			return [a, x, s].every((r) => r.top < x.bottom && r.bottom > x.top) && a.right <= x.left && x.right <= s.left && x.width > 150 && s.right <= innerWidth
				? "one line" : JSON.stringify({ attach: a, text: x, send: s });
		})()`)
		if got != "one line" {
			t.Errorf("at %d px the composer is not one line: %s", width, got)
		}
	}
}
