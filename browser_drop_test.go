package main

import (
	"testing"

	"github.com/chromedp/cdproto/input"
)

// A picture file dragged from the desktop and dropped on the page goes
// as one picked with 🖼 does, and the page keeps the browser from opening
// the file itself (which would leave the chat). Dragged text is left to
// the browser.
func TestBrowserPictureDropped(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, picturesOffered)
	// What the page did with each drop, seen after it (window's listeners
	// come after the document's).
	MustExec(t, alice, `window.drops = []; window.addEventListener("drop", (e) => window.drops.push(e.defaultPrevented))`)
	drag := func(data *input.DragData) {
		t.Helper()
		for _, typ := range []input.DispatchDragEventType{input.DispatchDragEventTypeDragEnter, input.DispatchDragEventTypeDragOver, input.DispatchDragEventTypeDrop} {
			MustDo(t, alice, command(input.DispatchDragEvent, input.DispatchDragEventParams{Type: typ, X: 400, Y: 300, Data: data}))
		}
	}
	drag(&input.DragData{Files: []string{MustPictureFile(t, "chart.png", MustPicture(t, "png", 300, 120))}, DragOperationsMask: 1})
	MustWait(t, bob, pictures+` === "300×120 loaded"`)
	MustWait(t, alice, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg") && window.drops.join() === "true"`)

	// Text dragged from another page: no picture, no message.
	drag(&input.DragData{Items: []*input.DragDataItem{{MimeType: "text/plain", Data: "some words"}}, DragOperationsMask: 1})
	MustSay(t, alice, "after the drop")
	MustWait(t, bob, texts+`.at(-1) === "after the drop"`)
	if got := MustEval[string](t, bob, pictures); got != "300×120 loaded" {
		t.Errorf("after dragged text, the pictures are %q", got)
	}
	// The page took no text over (dragover), so no drop came to it.
	if got := MustEval[[]bool](t, alice, `window.drops`); len(got) != 1 {
		t.Errorf("drops on the page: %v, want the file's alone", got)
	}
}
