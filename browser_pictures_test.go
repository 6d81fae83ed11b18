package main

import (
	"bytes"
	"context"
	"image/jpeg"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// pictures is what the first message on screen shows: "width×height
// loaded" for each picture.
const pictures = `[...document.querySelectorAll("#messages .msg .picture img")].map(i => i.getAttribute("width") + "×" + i.getAttribute("height") + (i.complete && i.naturalWidth > 0 ? " loaded" : " not loaded")).join("|")`

// MustPictureFile writes data to a file called name in a folder of its
// own, for the page's file picker, and returns its path.
func MustPictureFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// picturesOffered is true once the page offers 🖼: pictures.js has set
// it up, and a picture picked now is taken.
const picturesOffered = `!document.getElementById("attach").hidden`

// pickPicture picks a PNG of w×h pixels called name with 🖼, as the page's
// file chooser would.
func pickPicture(t *testing.T, name string, w, h int) chromedp.Action[chromedp.Void] {
	t.Helper()
	return chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{MustPictureFile(t, name, MustPicture(t, "png", w, h))})
}

// withExif is a JPEG with a camera's APP1 segment in it, saying where
// it was taken.
func withExif(jpg []byte) []byte {
	payload := []byte("Exif\x00\x00GPS 52.3676 N 4.9041 E: where alice lives")
	app1 := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	return append(append(append([]byte{}, jpg[:2]...), app1...), jpg[2:]...)
}

// A picture picked with 🖼 goes to everyone; a JPEG goes drawn again, at
// most 2560 pixels a side and without what the camera wrote in it. A
// pasted one goes as it is. One the server refuses says why and can be
// removed, and a delete takes a picture away from every page.
func TestBrowserPictures(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)

	photo := MustPictureFile(t, "holiday.jpg", withExif(MustPicture(t, "jpeg", 3000, 2000)))
	MustWait(t, alice, picturesOffered)
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{photo}))
	MustWait(t, bob, pictures+` === "2560×1707 loaded"`)
	MustWait(t, alice, pictures+` === "2560×1707 loaded" && !document.querySelector("#pending .msg")`)
	id := MustEval[string](t, bob, `document.querySelector("#messages .picture").getAttribute("href").slice(8)`)
	_, data, ok, err := ts.store.ImageData(context.Background(), id)
	if err != nil || !ok || bytes.Contains(data, []byte("Exif")) || bytes.Contains(data, []byte("alice lives")) {
		t.Fatalf("the stored photo (%d bytes, %v %v) still has the camera's segment", len(data), ok, err)
	}
	if info, _, _ := ts.store.ImageInfo(context.Background(), id); info.Width != 2560 || info.Height != 1707 || info.Type != "image/jpeg" {
		t.Errorf("the stored photo is %+v, want a 2560×1707 JPEG", info)
	}
	// And it is the photo: white, as drawn (a canvas the page forgot to
	// draw on is black).
	if img, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("the stored photo does not decode: %v", err)
	} else if l := meanLightness(img); l < 0.9 {
		t.Errorf("the stored photo's mean lightness is %.2f, want the white photo's (over 0.9)", l)
	}

	// A pasted screenshot (a PNG) goes as it is.
	paste := func(w, h int) string {
		return `(async () => {
			const c = document.createElement("canvas"); c.width = ` + strconv.Itoa(w) + `; c.height = ` + strconv.Itoa(h) + `;
			const g = c.getContext("2d"); g.fillStyle = "#c33"; g.fillRect(0, 0, 10, 10);
			const blob = await new Promise((done) => c.toBlob(done, "image/png"));
			const dt = new DataTransfer();
			dt.items.add(new File([blob], "screenshot.png", { type: "image/png" }));
			document.getElementById("text").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
		})()`
	}
	MustExec(t, alice, paste(300, 120))
	MustWait(t, bob, pictures+` === "2560×1707 loaded|300×120 loaded"`)
	MustWait(t, alice, `document.getElementById("text").value === ""`)
	shotID := MustEval[string](t, bob, `document.querySelectorAll("#messages .picture")[1].getAttribute("href").slice(8)`)
	if info, _, _ := ts.store.ImageInfo(context.Background(), shotID); info.Type != "image/png" {
		t.Errorf("the stored screenshot is %+v, want the PNG as pasted", info)
	}

	// One the server refuses (too many pixels) says why, and Remove
	// takes it off the page; there is nothing to retry.
	MustExec(t, alice, paste(10001, 1))
	MustWait(t, alice, `document.querySelector("#pending .msg.failed .pending-note")?.textContent.includes("at most 10000 pixels a side")`)
	if n := MustEval[int](t, alice, `document.querySelectorAll("#pending .retry").length`); n != 0 {
		t.Errorf("a refused picture offers Retry")
	}
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#pending .remove")))
	MustWait(t, alice, `!document.querySelector("#pending .msg")`)

	// A reply to a picture quotes it as one. (The toolbar is on a
	// message's top edge, so its top is brought into view first.)
	MustExec(t, bob, `document.querySelector("#messages .msg").scrollIntoView()`)
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustSay(t, bob, "where is that?")
	MustWait(t, alice, `document.querySelector("#messages .quote")?.textContent === "alice 🖼 Picture"`)
	// A picture pasted while "Replying to" shows is that reply, and the
	// bar goes, as it does when a message is sent. (Sending scrolled the
	// page down, smoothly: the hover waits for it to end.)
	MustWait(t, bob, texts+`.includes("where is that?")`)
	MustExec(t, bob, `document.querySelector("#messages .msg").scrollIntoView()`)
	MustScrollStill(t, bob)
	MustHover(t, bob, "#messages .msg")
	MustDo(t, bob, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustWait(t, bob, `!document.getElementById("replying").hidden`)
	MustExec(t, bob, paste(200, 100))
	MustWait(t, bob, `document.getElementById("replying").hidden`)
	replied := `(() => { const li = [...document.querySelectorAll("#messages .msg")].at(-1); return li.querySelector(".picture img")?.getAttribute("width") + " " + li.querySelector(".quote")?.textContent; })()`
	for _, ctx := range []context.Context{alice, bob} {
		MustWait(t, ctx, replied+` === "200 alice 🖼 Picture"`)
	}

	// Deleted, it is gone from every page.
	MustExec(t, alice, `window.confirm = () => true; document.querySelector("#messages .msg").scrollIntoView()`)
	MustHover(t, alice, "#messages .msg")
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg .delete")))
	MustWait(t, bob, pictures+` === "300×120 loaded|200×100 loaded" && `+texts+`[0] === "This message was deleted."`)
	MustWait(t, alice, pictures+` === "300×120 loaded|200×100 loaded"`)
	if _, _, ok, _ := ts.store.ImageData(context.Background(), id); ok {
		t.Error("the deleted message's photo is still stored")
	}
}

// A picture picked while the server is down (a restart, or no network)
// waits on the page, and goes by itself once the socket is back, as
// text typed offline does.
func TestBrowserPictureWaitsForConnection(t *testing.T) {
	dir, port := t.TempDir(), freePort(t)
	cfg := func(c *Config) { c.Addr = "127.0.0.1:" + port; c.PresenceGrace = 30 * time.Second }
	ts := MustStart(t, dir, cfg)
	alice, bob := MustAliceAndBob(t, ts)
	shot := MustPictureFile(t, "screenshot.png", MustPicture(t, "png", 300, 120))
	MustWait(t, alice, picturesOffered)

	ts.MustClose(t)
	MustWait(t, alice, disconnected)
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{shot}))
	MustWait(t, alice, `document.querySelector("#pending .msg:not(.failed) .pending-note")?.textContent.startsWith("Will send when connected")`)

	MustStart(t, dir, cfg) // closed by its cleanup
	MustWait(t, bob, pictures+` === "300×120 loaded"`)
	MustWait(t, alice, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg")`)
}

// A proxy's 502 or 504 (Fly's, while the server restarts behind it) is
// no verdict on the picture: it waits and goes again by itself, as when
// there is no server at all.
func TestBrowserPictureWaitsOutAGatewayError(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	next := MustHoldRequests(t, alice, "*/api/rooms/*/images", fetch.RequestStageRequest)
	MustWait(t, alice, picturesOffered)
	MustDo(t, alice, pickPicture(t, "screenshot.png", 300, 120))
	for _, status := range []int64{http.StatusBadGateway, http.StatusGatewayTimeout} {
		MustDo(t, alice, command(fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: next(), ResponseCode: status, Body: []byte("<html>the app is not answering</html>")}))
		MustWait(t, alice, `document.querySelector("#pending .msg:not(.failed) .pending-note")?.textContent.startsWith("Will send when connected")`)
	}
	MustDo(t, alice, letGo(next()))
	MustWait(t, bob, pictures+` === "300×120 loaded"`)
	MustWait(t, alice, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg")`)
}

// Files picked that are no picture the server takes (a BMP, a text) are
// refused on the page, saying which kinds go; the pictures picked with
// them go.
func TestBrowserPicturesOfOtherKinds(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	MustWait(t, alice, picturesOffered)
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{
		MustPictureFile(t, "notes.txt", []byte("not a picture")),
		MustPictureFile(t, "screenshot.png", MustPicture(t, "png", 300, 120)),
	}))
	MustWait(t, alice, `document.getElementById("composer-error").textContent === "Send a PNG, JPEG, GIF or WebP picture."`)
	MustWait(t, bob, pictures+` === "300×120 loaded"`)
	MustWait(t, alice, pictures+` === "300×120 loaded" && !document.querySelector("#pending .msg")`)
}

// A picture takes its room before it has loaded, from the width and
// height that come with its message, so nothing below it jumps: at its
// own shape, at most 20rem high and the message's width.
func TestBrowserPictureTakesItsRoom(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, p, chromedp.EmulateViewport(1000, 700))
	MustEnter(t, p, ts, "alice", "")
	// A 1×1 GIF, its message saying w×h: the box must follow the message,
	// whether the GIF has loaded or not (it is measured at once).
	// It returns the picture's width and height, and the width it is in.
	box := func(w, h int) [3]float64 {
		r, err := chromedp.Run(p, chromedp.Evaluate[[3]float64](`(async () => {
			const m = await `+importModule("pictures.js")+`;
			const a = m.pictureEl({ user: "bob", image: { src: "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACwAAAAAAQABAAACAkQBADs=", width: `+strconv.Itoa(w)+`, height: `+strconv.Itoa(h)+` } });
			document.getElementById("messages").append(a);
			const r = a.querySelector("img").getBoundingClientRect(), list = document.getElementById("messages"), cs = getComputedStyle(list);
			a.remove();
			return [r.width, r.height, list.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)];
		})()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	rem := MustEval[float64](t, p, `parseFloat(getComputedStyle(document.documentElement).fontSize)`)
	width := box(1, 1)[2]
	for _, c := range []struct {
		name  string
		w, h  int
		wantW float64
	}{
		{"a wide photo, as wide as the message", 6000, 1000, width},
		{"a tall photo, 20rem high", 1200, 1600, 20 * rem * 1200 / 1600},
		{"a small one, at its own size", 120, 80, 120},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := box(c.w, c.h)
			wantH := c.wantW * float64(c.h) / float64(c.w)
			if math.Abs(got[0]-c.wantW) > 2 || math.Abs(got[1]-wantH) > 2 {
				t.Errorf("%d×%d takes %.0f×%.0f px, want %.0f×%.0f", c.w, c.h, got[0], got[1], c.wantW, wantH)
			}
		})
	}
}

// Pictures picked together arrive in the order they were picked, though
// the first, a photo drawn again, takes longest to prepare and to upload.
func TestBrowserPicturesKeepTheirOrder(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	files := []string{
		MustPictureFile(t, "photo.jpg", MustPicture(t, "jpeg", 3000, 2000)),
		MustPictureFile(t, "small.png", MustPicture(t, "png", 300, 120)),
		MustPictureFile(t, "smaller.png", MustPicture(t, "png", 200, 100)),
	}
	MustWait(t, alice, picturesOffered)
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), files))
	sizes := `[...document.querySelectorAll("#messages .msg .picture img")].map(i => i.getAttribute("width")).join("|")`
	for _, ctx := range []context.Context{bob, alice} {
		MustWait(t, ctx, sizes+` === "2560|300|200" && !document.querySelector("#pending .msg")`)
	}
}

// Pictures picked together wait their turn, and say so: the one going up
// says "Uploading…", the one behind it "Waiting to upload…" (in Chinese
// too), until the first is up.
func TestBrowserPicturesWaitTheirTurn(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice := MustPerson(t, MustBrowser(t, "zh-CN"))
	MustEnter(t, alice, ts, "alice", "")
	// Uploads are held in the browser until let go.
	next := MustHoldRequests(t, alice, "*/api/rooms/*/images", fetch.RequestStageRequest)
	MustWait(t, alice, picturesOffered)
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{
		MustPictureFile(t, "first.png", MustPicture(t, "png", 300, 120)),
		MustPictureFile(t, "second.png", MustPicture(t, "png", 200, 100)),
	}))
	notes := `[...document.querySelectorAll("#pending .msg .pending-note")].map(n => n.textContent).join("|")`
	first := next()
	MustWait(t, alice, notes+` === "上传中…|等待上传…"`)
	MustDo(t, alice, letGo(first))
	second := next()
	MustWait(t, alice, notes+` === "上传中…"`)
	MustDo(t, alice, letGo(second))
	MustWait(t, alice, pictures+` === "300×120 loaded|200×100 loaded" && !document.querySelector("#pending .msg")`)
}

// A picture not uploaded yet survives a reload (or a phone's browser
// discarding the tab): the page keeps its bytes in IndexedDB until the
// upload is done, and a reply stays a reply. One removed stays removed,
// one sent is not sent again, and a logout leaves none behind.
func TestBrowserPictureSurvivesReload(t *testing.T) {
	ts, fz, alice := MustAliceBehindFreezer(t)
	bob := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, bob, ts, "bob", "")
	var shots []string
	for _, s := range []struct {
		name string
		w, h int
	}{{"first.png", 300, 120}, {"second.png", 200, 100}, {"third.png", 100, 50}} {
		shots = append(shots, MustPictureFile(t, s.name, MustPicture(t, "png", s.w, s.h)))
	}
	block := func(on bool) chromedp.Action[chromedp.Void] {
		ps := []*network.BlockPattern{}
		if on {
			ps = append(ps, &network.BlockPattern{URLPattern: "*://*:*/api/rooms/*/images", Block: true})
		}
		return command(network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: ps})
	}
	MustSay(t, bob, "who has the photo?")
	MustWait(t, alice, texts+`.includes("who has the photo?")`)
	MustHover(t, alice, "#messages .msg")
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg .reply")))
	MustDo(t, alice, block(true))
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), shots[:2]))
	waiting := `[...document.querySelectorAll("#pending .msg")].map(li => li.querySelector(".picture img").getAttribute("width") + " " + li.querySelector(".quote")?.textContent + " " + li.querySelector(".pending-note").firstChild.textContent).join("|")`
	MustWait(t, alice, waiting+` === "300 bob who has the photo? Will send when connected|200 bob who has the photo? Will send when connected"`)
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#pending .msg:last-child .remove")))
	// What is stashed: the removed one is not, once IndexedDB has done.
	MustWait(t, alice, `document.querySelectorAll("#pending .msg").length === 1`)
	MustStashed(t, alice, 1, "the removed picture is stashed still")

	// The reloaded page shows what it stashed before its history comes
	// (here the socket cannot connect yet), and the quote says who and
	// what once that does.
	fz.refuseSockets(true)
	MustDo(t, alice, chromedp.Reload())
	MustWait(t, alice, waiting+` === "300 An earlier message Will send when connected"`)
	fz.refuseSockets(false)
	MustWait(t, alice, waiting+` === "300 bob who has the photo? Will send when connected"`)
	MustDo(t, alice, block(false))
	MustDo(t, alice, chromedp.Click(chromedp.CSS("#pending .retry")))
	sent := `[...document.querySelectorAll("#messages .msg")].map(li => li.querySelector(".picture img")?.getAttribute("width") + " " + li.querySelector(".quote")?.textContent).join("|")`
	for _, ctx := range []context.Context{bob, alice} {
		MustWait(t, ctx, sent+` === "undefined undefined|300 bob who has the photo?" && !document.querySelector("#pending .msg")`)
	}
	MustDo(t, alice, chromedp.Reload())
	MustWait(t, alice, sent+` === "undefined undefined|300 bob who has the photo?"`)
	if n := MustEval[int](t, alice, `document.querySelectorAll("#pending .msg").length`); n != 0 {
		t.Errorf("%d pictures pending after a reload, want none: the one sent is stashed still", n)
	}

	// Logging out takes what waits out of the browser.
	MustDo(t, alice, block(true))
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), shots[2:]))
	MustWait(t, alice, waiting+` === "100 undefined Will send when connected"`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("logout")))
	MustWait(t, alice, `location.pathname === "/" && !!document.getElementById("name")`)
	if n := stashCount(t, alice); n != 0 {
		t.Errorf("%d pictures stashed after a logout, want none", n)
	}
}

// A picture's caption is written with Edit, and Edit can take it away
// again: Save works with an empty composer there (and only there), and
// every page shows the picture alone, marked edited, also after a reload.
func TestBrowserPictureCaption(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, bob := MustAliceAndBob(t, ts)
	shot := MustPictureFile(t, "office.png", MustPicture(t, "png", 300, 120))
	MustWait(t, alice, picturesOffered)
	MustDo(t, alice, chromedp.SetUploadFiles(chromedp.CSS("#picture-input"), []string{shot}))
	last := `(() => { const li = [...document.querySelectorAll("#messages .msg")].at(-1); return (li?.querySelector(".picture") ? "🖼" : "") + "|" + li?.querySelector(".text")?.textContent; })()`
	MustWait(t, bob, last+` === "🖼|"`)
	edit := func() {
		t.Helper()
		MustWait(t, alice, last+`.startsWith("🖼") && !document.querySelector("#pending .msg")`)
		MustHover(t, alice, "#messages .msg.mine")
		MustDo(t, alice, chromedp.Click(chromedp.CSS("#messages .msg.mine .edit")))
		MustWait(t, alice, `!document.getElementById("editing").hidden`)
	}
	edit()
	MustWait(t, alice, `document.getElementById("text").value === ""`) // not "undefined"
	MustDo(t, alice, chromedp.SendKeys(chromedp.ID("text"), "our office"), enter())
	for _, ctx := range []context.Context{alice, bob} {
		MustWait(t, ctx, last+` === "🖼|our office (edited)"`)
	}
	edit()
	MustExec(t, alice, `document.getElementById("text").select()`)
	MustDo(t, alice, chromedp.KeyEvent(kb.Backspace))
	MustWait(t, alice, `document.getElementById("text").value === "" && !document.getElementById("send").disabled`)
	MustDo(t, alice, chromedp.Click(chromedp.ID("send")))
	for _, ctx := range []context.Context{alice, bob} {
		MustWait(t, ctx, last+` === "🖼| (edited)"`)
	}
	MustWait(t, alice, `document.getElementById("editing").hidden`)
	MustDo(t, bob, chromedp.Reload())
	MustWait(t, bob, connected+` && `+last+` === "🖼| (edited)"`)

	// A message of text alone still cannot be emptied: Save stays off.
	MustSay(t, alice, "words only")
	MustWait(t, alice, texts+`.includes("words only") && !document.querySelector("#pending .msg")`)
	MustDo(t, alice, upToEdit()...)
	MustWait(t, alice, `!document.getElementById("editing").hidden && document.getElementById("text").value === "words only"`)
	MustExec(t, alice, `document.getElementById("text").select()`)
	MustDo(t, alice, chromedp.KeyEvent(kb.Backspace))
	MustWait(t, alice, `document.getElementById("text").value === "" && document.getElementById("send").disabled`)
}

// A tall picture message whose top is scrolled out of the log keeps its
// toolbar in view, at the log's top edge, and it works there; before, it
// sat on the message's top edge, out of sight until one scrolled up.
func TestBrowserPictureToolbarInView(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice := MustPerson(t, MustBrowser(t, "en-US"))
	MustDo(t, alice, chromedp.EmulateViewport(900, 560))
	MustEnter(t, alice, ts, "alice", "")
	ck := ts.MustLogin(t, "bob")
	bob, _ := ts.MustDial(t, ck, "lobby", -1)
	info := ts.MustUpload(t, ck, "lobby", MustPicture(t, "png", 300, 900))
	bob.send(pictureFrame(info.ID, "the tower", "tower"))
	for i := range 12 { // enough below it to scroll its top away
		bob.send(map[string]any{"type": "message", "text": "and " + strconv.Itoa(i)})
	}
	MustWait(t, alice, texts+`.includes("and 11") && document.querySelector(".msg .picture img").complete`)

	// The picture message's top goes 150 px above the log's, and the
	// mouse comes onto what is still in view of it.
	const tower = `document.querySelector("#messages .msg:has(.picture)")`
	at := MustEval[[]float64](t, alice, `(() => {
		const log = document.getElementById("log"), li = `+tower+`;
		log.scrollTop += li.getBoundingClientRect().top - log.getBoundingClientRect().top + 150;
		const l = log.getBoundingClientRect(), r = li.getBoundingClientRect();
		return [r.x + r.width / 2, l.top + 60, r.top - l.top, r.bottom - l.top];
	})()`)
	if at[2] > -140 || at[3] < 120 {
		t.Fatalf("the picture message is %.0f to %.0f px from the log's top; the test wants its top cut and the rest in view", at[2], at[3])
	}
	onReact := `(() => {
		const log = document.getElementById("log").getBoundingClientRect(), b = ` + tower + `.querySelector(".react").getBoundingClientRect();
		return b.top >= log.top && document.elementFromPoint(b.x + b.width / 2, b.y + b.height / 2)?.closest(".react") !== null;
	})()`
	MustDo(t, alice, command(input.DispatchMouseEvent, input.DispatchMouseEventParams{Type: input.DispatchMouseEventTypeMouseMoved, X: at[0], Y: at[1]}))
	MustWait(t, alice, onReact)

	// It follows a scroll, and a click on it works.
	MustExec(t, alice, `document.getElementById("log").scrollTop += 80`)
	MustWait(t, alice, onReact)
	xy := MustEval[[]float64](t, alice, `(() => { const b = `+tower+`.querySelector(".react").getBoundingClientRect(); return [b.x + b.width / 2, b.y + b.height / 2]; })()`)
	MustDo(t, alice, chromedp.MouseClickXY(xy[0], xy[1]))
	MustWait(t, alice, tower+`.querySelector(".palette")`)

	// With the message's top in view again, the toolbar is back on it.
	MustExec(t, alice, `document.getElementById("log").scrollTop -= 400`)
	MustHover(t, alice, "#messages .msg:has(.picture) .meta")
	MustWait(t, alice, `(() => { const b = `+tower+`.querySelector(".actions").getBoundingClientRect(), m = `+tower+`.getBoundingClientRect(); return b.top < m.top; })()`)
}

// A page restores only what its own tab stashed in its room under its
// name: another room's picture waits for that room's page, another
// name's and another tab's for theirs. And what a tab left behind goes after two days:
// neither shown nor sent, its bytes let go.
func TestBrowserStashKeepsToItsOwn(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	const day = 24 * 3600 * 1000
	MustEval[bool](t, p, `new Promise((ok, fail) => {
		const r = indexedDB.open("chat", 1);
		r.onupgradeneeded = () => r.result.createObjectStore("uploads", { keyPath: "nonce" });
		r.onsuccess = () => {
			const tx = r.result.transaction("uploads", "readwrite"), tab = sessionStorage.getItem("chat.tab");
			const put = (nonce, room, user, age, from = tab) => tx.objectStore("uploads").put({ nonce, tab: from, room, user, at: Date.now() - age,
				blob: new Blob(["not here"], { type: "image/png" }), width: 30, height: 20, replyTo: 0, after: 0 });
			put("stale0123456789abcdef012", "lobby", "alice", 3 * `+strconv.Itoa(day)+`);
			put("room0123456789abcdef0123", "dev", "alice", 1000);
			put("name0123456789abcdef0123", "lobby", "bob", 1000);
			put("tab0123456789abcdef01234", "lobby", "alice", 1000, "another tab");
			tx.oncomplete = () => { r.result.close(); ok(true); };
			tx.onerror = fail;
		};
		r.onerror = fail;
	})`, chromedp.EvalAwaitPromise)
	MustDo(t, p, chromedp.Reload())
	MustWait(t, p, connected)
	MustStashed(t, p, 3, "the stale picture is stashed still")
	if n := MustEval[int](t, p, `document.querySelectorAll("#pending .msg").length`); n != 0 {
		t.Errorf("%d pictures pending from a stash of another tab, room or name, or three days old", n)
	}
}

// MustStashed waits until the page's stash (stash.js) holds n pictures,
// once IndexedDB has done what it was asked; if it does not, it fails
// with why.
func MustStashed(t *testing.T, p context.Context, n int, why string) {
	t.Helper()
	MustEventually(t, why, func() bool { return stashCount(t, p) == n })
}

// stashCount is how many pictures the page's stash holds now.
func stashCount(t *testing.T, p context.Context) int {
	t.Helper()
	return MustEval[int](t, p, `new Promise((ok, fail) => {
		const r = indexedDB.open("chat");
		r.onsuccess = () => { const c = r.result.transaction("uploads").objectStore("uploads").count(); c.onsuccess = () => { r.result.close(); ok(c.result); }; c.onerror = fail; };
		r.onerror = fail;
	})`, chromedp.EvalAwaitPromise)
}
