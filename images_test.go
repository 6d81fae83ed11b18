package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MustPicture is a real picture of w×h pixels in format (png, jpeg, gif).
func MustPicture(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.RGBA{200, 30, 30, 255}})
	for x := 0; x < w; x += 3 {
		img.SetColorIndex(x, x%h, 1)
	}
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	case "gif":
		err = gif.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// WebPs as browsers and phones make them, 1×1 (Go has no WebP encoder to
// make one): lossless, lossy (the most common), lossy with an alpha
// channel, and animated (lossless frames).
var (
	webp1x1, _      = base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	webpLossy, _    = base64.StdEncoding.DecodeString("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
	webpAlpha, _    = base64.StdEncoding.DecodeString("UklGRkoAAABXRUJQVlA4WAoAAAAQAAAAAAAAAAAAQUxQSAwAAAARBxAR/Q9ERP8DAABWUDggGAAAABQBAJ0BKgEAAQAAAP4AAA3AAP7mtQAAAA==")
	webpAnimated, _ = base64.StdEncoding.DecodeString("UklGRlIAAABXRUJQVlA4WAoAAAASAAAAAAAAAAAAQU5JTQYAAAD/////AABBTk1GJgAAAAAAAAAAAAAAAAAAAGQAAABWUDhMDQAAAC8AAAAQBxAREYiI/gcA")
)

// upload posts body as a picture to room, as the web client does.
func (ts *testServer) upload(t *testing.T, ck *http.Cookie, room string, body []byte, hdr ...string) (*http.Response, string) {
	t.Helper()
	return ts.request(t, "POST", "/api/rooms/"+room+"/images", bytes.NewReader(body), ck, append([]string{"Content-Type", "image/png"}, hdr...)...)
}

// MustUpload uploads a picture and returns what the server answered.
func (ts *testServer) MustUpload(t *testing.T, ck *http.Cookie, room string, body []byte) imageInfo {
	t.Helper()
	resp, b := ts.upload(t, ck, room, body)
	var info imageInfo
	if resp.StatusCode != http.StatusCreated || json.Unmarshal([]byte(b), &info) != nil || info.ID == "" {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	return info
}

func pictureFrame(id, text, nonce string) map[string]any {
	f := map[string]any{"type": "message", "image": id, "nonce": nonce}
	if text != "" {
		f["text"] = text
	}
	return f
}

// A picture is uploaded, then sent as a message: everyone gets its id
// and size, the server serves it as what it is, the history and a
// restart keep it, a second send of it is the first one's copy, and a
// delete takes the bytes too.
func TestPictureMessage(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, bobCk, "lobby", -1)

	for _, tc := range []struct {
		format string
		body   []byte
		typ    string
		w, h   int
	}{
		{"png", MustPicture(t, "png", 40, 30), "image/png", 40, 30},
		{"jpeg", MustPicture(t, "jpeg", 64, 48), "image/jpeg", 64, 48},
		{"gif", MustPicture(t, "gif", 9, 7), "image/gif", 9, 7},
		{"webp", webp1x1, "image/webp", 1, 1},
	} {
		t.Run(tc.format, func(t *testing.T) {
			info := ts.MustUpload(t, aliceCk, "lobby", tc.body)
			if info.Width != tc.w || info.Height != tc.h {
				t.Errorf("upload answered %+v, want %d×%d", info, tc.w, tc.h)
			}
			resp, got := ts.get(t, "/images/"+info.ID, bobCk)
			h := resp.Header
			if resp.StatusCode != 200 || got != string(tc.body) || h.Get("Content-Type") != tc.typ || h.Get("X-Content-Type-Options") != "nosniff" ||
				!strings.Contains(h.Get("Content-Security-Policy"), "sandbox") || h.Get("Cache-Control") != "private, max-age=31536000, immutable" {
				t.Errorf("GET the picture: %d, %d bytes, headers %v", resp.StatusCode, len(got), h)
			}
			// A browser that has it asks again only to check it.
			etag := `"` + info.ID + `"`
			if resp, got := ts.get(t, "/images/"+info.ID, bobCk, "If-None-Match", etag); h.Get("ETag") != etag || resp.StatusCode != http.StatusNotModified || got != "" {
				t.Errorf("ETag %q; asked again with it: %d, %d bytes; want 304", h.Get("ETag"), resp.StatusCode, len(got))
			}
		})
	}
	if resp, body := ts.get(t, "/images/nosuchpicture", bobCk); resp.StatusCode != 404 {
		t.Errorf("an unknown picture: %d %s", resp.StatusCode, body)
	}

	info := ts.MustUpload(t, aliceCk, "lobby", MustPicture(t, "png", 320, 200))
	if resp, body := ts.get(t, "/images/"+info.ID, nil); resp.StatusCode != 401 {
		t.Errorf("a picture without a session: %d %s", resp.StatusCode, body)
	}
	alice.send(pictureFrame(info.ID, "", "p1"))
	e := bob.MustNextOf(typeMessage)
	if e.User != "alice" || e.Text != "" || e.Deleted || e.Image == nil || *e.Image != info {
		t.Fatalf("bob got %+v (image %+v), want alice's picture %+v", e, e.Image, info)
	}
	if mine := alice.MustNextOf(typeMessage); mine.Nonce != "p1" || mine.Image == nil {
		t.Fatalf("alice's echo %+v", mine)
	}
	// With words under it.
	captioned := ts.MustUpload(t, aliceCk, "lobby", MustPicture(t, "png", 10, 10))
	alice.send(pictureFrame(captioned.ID, "  the view from here  ", "p2"))
	if c := bob.MustNextOf(typeMessage); c.Text != "the view from here" || c.Image == nil || c.Image.ID != captioned.ID {
		t.Fatalf("a captioned picture: %+v", c)
	}
	alice.MustNextOf(typeMessage)
	// A picture is shown once: sent again (a resend after a lost echo
	// does), it is the first message's copy.
	alice.send(pictureFrame(info.ID, "", "p3"))
	if d := alice.MustNextOf(typeDuplicate, typeMessage); d.Type != typeDuplicate || d.ID != e.ID || d.Nonce != "p3" {
		t.Fatalf("the picture sent again: %+v, want a duplicate of %d", d, e.ID)
	}

	// The store has it: the history API, and a replay after a restart.
	mustHistoryImage := func(what string, want *imageInfo) {
		t.Helper()
		for _, h := range MustHistory(t, ts, bobCk, "lobby", 0, 1<<40) {
			if h.ID == e.ID {
				if (want == nil) != (h.Image == nil) || (want != nil && *h.Image != *want) {
					t.Errorf("%s: the history has %+v (image %+v), want image %+v", what, h, h.Image, want)
				}
				return
			}
		}
		t.Errorf("%s: the history has no message %d", what, e.ID)
	}
	mustHistoryImage("the history", &info)
	ts.MustClose(t)
	ts = MustStart(t, dir)
	alice, _ = ts.MustDial(t, aliceCk, "lobby", 0)
	for r := alice.MustNextOf(typeMessage); r.ID != e.ID; r = alice.MustNextOf(typeMessage) {
	}
	mustHistoryImage("the history after a restart", &info)

	// A delete takes the picture with it.
	alice.send(map[string]any{"type": "delete", "id": e.ID})
	if d := alice.MustNextOf(typeDelete); d.Ref != e.ID {
		t.Fatalf("delete event %+v", d)
	}
	if resp, _ := ts.get(t, "/images/"+info.ID, bobCk); resp.StatusCode != 404 {
		t.Errorf("a deleted message's picture: %d, want 404", resp.StatusCode)
	}
	mustHistoryImage("the history after the delete", nil)
	bob, _ = ts.MustDial(t, bobCk, "lobby", 0)
	for r := bob.MustNextOf(typeMessage); ; r = bob.MustNextOf(typeMessage) {
		if r.ID == e.ID {
			if !r.Deleted || r.Image != nil {
				t.Errorf("the deleted picture in a replay: %+v (image %+v)", r, r.Image)
			}
			break
		}
	}
	if resp, _ := ts.get(t, "/images/"+captioned.ID, bobCk); resp.StatusCode != 200 {
		t.Errorf("the other picture after the delete: %d", resp.StatusCode)
	}
}

// Every upload the server cannot take is refused with a code and
// words that say why, and stores nothing.
func TestPictureUploadRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.ImageMax = 1 << 20 })
	ck := ts.MustLogin(t, "alice")
	html := []byte(`<html><script>alert(1)</script></html>`)
	says := map[string]string{ // what the refusal's words must hold
		"too wide":        "at most 10000 pixels a side and 50 megapixels; this one is 10001×1",
		"too many pixels": "this one is 8000×7000",
	}
	for _, tc := range []struct {
		name   string
		ck     *http.Cookie
		room   string
		body   []byte
		hdr    []string
		status int
		cd     code
	}{
		{"not logged in", nil, "lobby", MustPicture(t, "png", 4, 4), nil, 401, codeUnauthorized},
		{"not a picture", ck, "lobby", []byte("hello"), nil, 415, codeUnsupported},
		{"markup called a PNG", ck, "lobby", html, nil, 415, codeUnsupported},
		{"a cut-off PNG", ck, "lobby", MustPicture(t, "png", 40, 40)[:20], nil, 415, codeUnsupported},
		{"too large", ck, "lobby", append(MustPicture(t, "png", 4, 4), make([]byte, 1<<20)...), nil, 413, codeTooLarge},
		{"too wide", ck, "lobby", MustPicture(t, "png", maxImageSide+1, 1), nil, 400, codeInvalid},
		{"too many pixels", ck, "lobby", MustPicture(t, "png", 8000, 7000), nil, 400, codeInvalid},
		{"a bad room", ck, "no%20such", MustPicture(t, "png", 4, 4), nil, 400, codeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := ts.upload(t, tc.ck, tc.room, tc.body, tc.hdr...)
			MustErrorJSON(t, tc.name, resp, body, tc.status, tc.cd)
			if want := says[tc.name]; !strings.Contains(body, want) {
				t.Errorf("the refusal %s does not say %q", body, want)
			}
		})
	}
	// Another site's page cannot post one with the visitor's cookie.
	resp, body := ts.upload(t, ck, "lobby", MustPicture(t, "png", 4, 4), "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != 403 {
		t.Errorf("a cross-site upload: %d %s", resp.StatusCode, body)
	}
	if n, err := ts.store.ImagesSize(context.Background()); err != nil || n != 0 {
		t.Errorf("refused uploads stored %d bytes (%v)", n, err)
	}

	// A server with pictures off says so, and its page offers none.
	off := MustStart(t, t.TempDir(), func(c *Config) { c.ImageMax = 0 })
	offCk := off.MustLogin(t, "alice")
	resp, body = off.upload(t, offCk, "lobby", MustPicture(t, "png", 4, 4))
	MustErrorJSON(t, "pictures off", resp, body, 403, codeForbidden)
	if _, page := off.get(t, "/r/lobby", offCk); strings.Contains(page, "data-pictures") {
		t.Error("the chat page offers pictures on a server that takes none")
	}
	if _, page := ts.get(t, "/r/lobby", ck); !strings.Contains(page, `data-pictures="on"`) {
		t.Error("the chat page does not offer pictures")
	}
}

// The largest pictures the server takes go: 10,000 pixels a side, and
// 50 megapixels.
func TestPictureLargestTaken(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	for _, size := range [][2]int{{maxImageSide, 2}, {2, maxImageSide}, {maxImageSide, maxImagePixels / maxImageSide}} {
		if got := ts.MustUpload(t, ck, "lobby", MustPicture(t, "png", size[0], size[1])); got.Width != size[0] || got.Height != size[1] {
			t.Errorf("a %d×%d picture taken as %d×%d", size[0], size[1], got.Width, got.Height)
		}
	}
}

// A message may show only a picture its sender uploaded to its room.
func TestPictureMessageRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bobs := ts.MustUpload(t, bobCk, "lobby", MustPicture(t, "png", 4, 4))
	elsewhere := ts.MustUpload(t, aliceCk, "kitchen", MustPicture(t, "png", 4, 4))
	alice.MustRefuse(t, []refusal{
		{"someone else's picture", pictureFrame(bobs.ID, "", "x"), string(codeNotFound)},
		{"a picture of another room", pictureFrame(elsewhere.ID, "", "x"), string(codeNotFound)},
		{"no such picture", pictureFrame("nosuchpicture", "look", "x"), string(codeNotFound)},
		{"no text and no picture", map[string]any{"type": "message", "text": " ", "nonce": "x"}, string(codeInvalid)},
		{"an image that is not an id", map[string]any{"type": "message", "image": 7, "nonce": "x"}, string(codeInvalid)},
	})
	// The refusals stored nothing.
	if resp, _ := ts.get(t, "/images/"+bobs.ID, aliceCk); resp.StatusCode != 200 {
		t.Errorf("bob's picture after alice's refused send: %d", resp.StatusCode)
	}
}

// IMAGE_RATE bounds the bytes of pictures one address uploads in an
// hour, and IMAGES_MB all pictures together.
func TestPictureLimits(t *testing.T) {
	pic := MustPicture(t, "png", 300, 300)
	t.Run("rate", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) { c.ImageRate = int64(len(pic)) * 3 / 2 })
		ck := ts.MustLogin(t, "alice")
		ts.MustUpload(t, ck, "lobby", pic)
		resp, body := ts.upload(t, ck, "lobby", pic)
		MustErrorJSON(t, "over IMAGE_RATE", resp, body, 429, codeRateLimited)
		if resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		// Half a picture's allowance back of an hour's one and a half:
		// 20 minutes, said as a whole number rounded up.
		if !strings.Contains(body, "try again in 20 minutes") && !strings.Contains(body, "try again in 21 minutes") {
			t.Errorf("over IMAGE_RATE: %s; want it to say to try again in 20 minutes", body)
		}
	})
	t.Run("store", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) { c.ImageStore = int64(len(pic)) * 2 })
		ck := ts.MustLogin(t, "alice")
		ts.MustUpload(t, ck, "lobby", pic)
		ts.MustUpload(t, ck, "lobby", pic)
		resp, body := ts.upload(t, ck, "lobby", pic)
		MustErrorJSON(t, "over IMAGES_MB", resp, body, 507, codeStorageFull)
	})
	// 0 turns each of them off.
	t.Run("off", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) { c.ImageStore, c.ImageRate = 0, 0 })
		ck := ts.MustLogin(t, "alice")
		for range 3 {
			ts.MustUpload(t, ck, "lobby", pic)
		}
	})
	// An upload refused for want of room costs no allowance: once
	// there is room, the same picture goes.
	t.Run("refused uploads are not charged", func(t *testing.T) {
		ts := MustStart(t, t.TempDir(), func(c *Config) {
			c.ImageStore, c.ImageRate = int64(len(pic))*3/2, int64(len(pic))*5/2
		})
		ck := ts.MustLogin(t, "alice")
		first := ts.MustUpload(t, ck, "lobby", pic)
		for range 3 {
			resp, body := ts.upload(t, ck, "lobby", pic)
			MustErrorJSON(t, "over IMAGES_MB", resp, body, 507, codeStorageFull)
		}
		alice, _ := ts.MustDial(t, ck, "lobby", -1)
		alice.send(pictureFrame(first.ID, "", "p1"))
		m := alice.MustNextOf(typeMessage)
		alice.send(deleteFrame(m.ID, "d1"))
		alice.MustDeleted(m.ID, "alice")
		ts.MustUpload(t, ck, "lobby", pic)
	})
}

// A picture uploaded and never sent is deleted after a day; a sent one
// stays.
func TestUnsentPicturesSwept(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	ts := MustRun(t, &Main{Config: testConfig(t.TempDir()), Now: clock})
	ck := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	sent := ts.MustUpload(t, ck, "lobby", MustPicture(t, "png", 4, 4))
	unsent := ts.MustUpload(t, ck, "lobby", MustPicture(t, "png", 5, 5))
	alice.send(pictureFrame(sent.ID, "", "s1"))
	alice.MustNextOf(typeMessage)

	now = now.Add(unsentImageAge - time.Minute)
	if err := ts.hub.sweepImages(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := ts.get(t, "/images/"+unsent.ID, ck); resp.StatusCode != 200 {
		t.Fatalf("an unsent picture before a day: %d", resp.StatusCode)
	}
	now = now.Add(2 * time.Minute)
	if err := ts.hub.sweepImages(context.Background()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := ts.get(t, "/images/"+unsent.ID, ck); resp.StatusCode != 404 {
		t.Errorf("an unsent picture after a day: %d, want 404", resp.StatusCode)
	}
	if resp, _ := ts.get(t, "/images/"+sent.ID, ck); resp.StatusCode != 200 {
		t.Errorf("a sent picture after a day: %d", resp.StatusCode)
	}
	// Sending the swept one now says it is gone.
	alice.MustRefuse(t, []refusal{{"a swept picture", pictureFrame(unsent.ID, "", "x"), string(codeNotFound)}})
}

// An edit may take a picture's caption away (a message of text alone
// cannot go empty: see TestChangeRefused). Everyone gets the empty edit,
// and every way in shows the picture, without words, edited and not
// deleted: from memory, from the history API, and from the store after
// a restart. Words can come back with a later edit.
func TestEditPictureCaption(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk, bobCk := ts.MustLogin(t, "alice"), ts.MustLogin(t, "bob")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, bobCk, "lobby", -1)
	info := ts.MustUpload(t, aliceCk, "lobby", MustPicture(t, "png", 40, 30))
	alice.send(pictureFrame(info.ID, "the view from the office", "p1"))
	m := bob.MustNextOf(typeMessage)
	// Taking the caption away is said with empty text, never by leaving
	// the text out: a client that forgot it does not lose the words.
	alice.MustRefuse(t, []refusal{{"no text", map[string]any{"type": "edit", "id": m.ID, "nonce": "x"}, "invalid"}}, typeEdit)

	alice.send(editFrame(m.ID, " \n ", "e1"))
	e := bob.MustEdited(m.ID, "alice", "")
	alice.MustEdited(m.ID, "alice", "")
	alice.MustRefuse(t, []refusal{{"empty again", editFrame(m.ID, "", "x"), "invalid"}}, typeEdit)

	mustBare := func(what string, evs []ev) {
		t.Helper()
		for _, h := range evs {
			if h.ID == m.ID {
				if h.Text != "" || h.Deleted || h.Edited != e.TS || h.Image == nil || *h.Image != info {
					t.Errorf("%s: %+v (image %+v), want the picture alone, edited at %s", what, h, h.Image, e.TS)
				}
				return
			}
		}
		t.Errorf("%s: no message %d in %+v", what, m.ID, evs)
	}
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	var fresh []ev
	for r := carol.MustNextOf(typeMessage, typeEdit); ; r = carol.MustNextOf(typeMessage, typeEdit) {
		fresh = append(fresh, r)
		if r.ID == e.ID {
			break
		}
	}
	mustBare("a fresh socket", fresh)
	mustBare("history", MustHistory(t, ts, bobCk, "lobby", 0, 1<<40))
	ts.MustClose(t)
	if b, err := os.ReadFile(filepath.Join(dir, "chat.db")); err != nil || bytes.Contains(b, []byte("the view from the office")) {
		t.Errorf("chat.db (%v) still holds the caption taken away", err)
	}
	ts = MustStart(t, dir)
	mustBare("history after a restart", MustHistory(t, ts, bobCk, "lobby", 0, 1<<40))

	alice, _ = ts.MustDial(t, aliceCk, "lobby", e.ID)
	alice.send(editFrame(m.ID, "from the office, again", "e2"))
	alice.MustEdited(m.ID, "alice", "from the office, again")
	for _, h := range MustHistory(t, ts, bobCk, "lobby", 0, 1<<40) {
		if h.ID == m.ID && (h.Text != "from the office, again" || h.Image == nil) {
			t.Errorf("a caption given back: %+v", h)
		}
	}
}

// meanLightness is img's mean of R, G and B, 0 for black to 1 for white,
// over a grid of samples.
func meanLightness(img image.Image) float64 {
	b := img.Bounds()
	var sum, n float64
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum += float64(r+g+bl) / (3 * 0xffff)
			n++
		}
	}
	return sum / n
}
