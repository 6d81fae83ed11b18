package main

import (
	"testing"

	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// 🖼 opens the browser's own file chooser (the other picture tests give
// the hidden input its files directly), and what is chosen there goes.
func TestBrowserAttachOpensFileChooser(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, picturesOffered)
	opened := make(chan *page.EventFileChooserOpened, 1)
	chromedp.Listen(alice, func(ev any) {
		if ev, ok := ev.(*page.EventFileChooserOpened); ok {
			select {
			case opened <- ev:
			default:
			}
		}
	})
	MustDo(t, alice, command(page.SetInterceptFileChooserDialog, page.SetInterceptFileChooserDialogParams{Enabled: true}))
	MustDo(t, alice, chromedp.Click(chromedp.ID("attach")))
	var chooser *page.EventFileChooserOpened
	MustEventually(t, "the file chooser opens", func() bool {
		select {
		case chooser = <-opened:
			return true
		default:
			return false
		}
	})
	if chooser.Mode != page.FileChooserOpenedModeSelectMultiple {
		t.Errorf("the chooser takes %s, want several pictures at once", chooser.Mode)
	}
	MustDo(t, alice, command(dom.SetFileInputFiles, dom.SetFileInputFilesParams{
		Files:         []string{MustPictureFile(t, "chart.png", MustPicture(t, "png", 300, 120))},
		BackendNodeID: chooser.BackendNodeID,
	}))
	MustWait(t, bob, pictures+` === "300×120 loaded"`)
	MustWait(t, alice, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg")`)
}

// Each of the controls that opens something closes it again: the
// "Replying to" bar's Cancel (the composer keeps the focus, and the next
// message is no reply), React pressed again, and the topic's Edit
// pressed again (nothing sent).
func TestBrowserControlsCloseWhatTheyOpened(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustSay(t, alice, "lunch at noon?")
	MustWait(t, bob, texts+`.includes("lunch at noon?")`)

	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustWait(t, bob, `!document.getElementById("replying").hidden`)
	MustDo(t, bob, chromedp.Click(chromedp.ID("cancel-reply")))
	MustWait(t, bob, `document.getElementById("replying").hidden && document.activeElement.id === "text"`)
	MustSay(t, bob, "no reply")
	MustWait(t, alice, texts+`.includes("no reply")`)
	if n := MustEval[int](t, alice, `document.querySelectorAll("#messages .msg .quote").length`); n != 0 {
		t.Errorf("%d quotes after Cancel, want the message to be no reply", n)
	}

	palette := `document.querySelectorAll("#messages .palette").length`
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .react")))
	MustWait(t, bob, palette+` === 1`)
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .react")))
	MustWait(t, bob, palette+` === 0`)

	MustDo(t, bob, chromedp.Click(chromedp.ID("topic-edit")))
	MustWait(t, bob, `!document.getElementById("topic-form").hidden`)
	MustDo(t, bob, chromedp.Click(chromedp.ID("topic-edit")))
	MustWait(t, bob, `document.getElementById("topic-form").hidden`)

	// Nothing was sent by any of it: a reaction or a topic would come
	// before this.
	MustSay(t, alice, "the end")
	MustWait(t, bob, texts+`.at(-1) === "the end"`)
	if got := MustEval[string](t, bob, `document.querySelectorAll("#messages .reaction").length + " " + document.getElementById("topic").textContent`); got != "0 " {
		t.Errorf("reactions and topic after closing everything: %q", got)
	}
}
