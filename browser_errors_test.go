package main

import (
	"net/http"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// A picture the server no longer has when its message is sent (the
// sweep takes pictures never sent, say after the message waited offline
// for days) is said as such, not as the server's words for an API, and
// its message is marked not sent, with Remove and no Retry (it would be
// refused again), also after a reload. The error, like every one the
// page flashes, goes away by itself after 5 s. Remove takes the message
// away, for good: a reload does not bring it back.
func TestBrowserPictureGoneBeforeSent(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	MustWait(t, p, `!document.getElementById("attach").hidden`)

	// The upload is answered with a picture of no picture there.
	next := MustHoldRequests(t, p, "*/api/rooms/lobby/images", fetch.RequestStageResponse)
	MustDo(t, p, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{MustPictureFile(t, "chart.png", MustPicture(t, "png", 300, 120))}))
	MustDo(t, p, command(fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID:       next(),
		ResponseCode:    http.StatusCreated,
		ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}},
		Body:            []byte(`{"id":"` + newImageID() + `","width":300,"height":120}`),
	}))
	const note = `document.querySelector("#pending .msg.failed .pending-note")?.textContent`
	MustWait(t, p, errorShown("That picture is not there any more; send it again.")+` && `+note+` === "Not sent Remove"`)
	if n := MustEval[int](t, p, `document.querySelectorAll("#messages .picture").length`); n != 0 {
		t.Errorf("%d pictures shown in the conversation", n)
	}
	MustWait(t, p, `document.getElementById("composer-error").hidden`)
	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, connected+` && `+note+` === "Not sent Remove"`)
	MustDo(t, p, chromedp.Click(chromedp.CSS("#pending .msg.failed .remove")))
	MustWait(t, p, `!document.querySelector("#pending .msg")`)
	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, connected)
	MustSay(t, p, "after the reload")
	MustWait(t, p, texts+`.at(-1) === "after the reload" && `+nonePending)
	if n := MustEval[int](t, p, `document.querySelectorAll("#messages .picture, #pending .picture").length`); n != 0 {
		t.Errorf("%d pictures on the page after Remove and a reload", n)
	}
}
