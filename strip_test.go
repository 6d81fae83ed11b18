package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"net/http"
	"slices"
	"testing"

	"golang.org/x/image/webp"
)

// secret is what the metadata below says, and no stripped picture may.
const secret = "alice lives at 52.3676 N 4.9041 E"

// jpegSegment is a JPEG marker segment: FF m, its length, its payload.
func jpegSegment(m byte, payload string) []byte {
	return append([]byte{0xFF, m, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
}

// exifWith is an APP1 payload whose IFD0 holds Orientation o (0: no such
// tag) and an ImageDescription, in the byte order named ("II" or "MM").
func exifWith(order string, o int) string {
	var bo binary.AppendByteOrder = binary.BigEndian
	if order == "II" {
		bo = binary.LittleEndian
	}
	tiff := []byte(order)
	tiff = bo.AppendUint16(tiff, 42)
	tiff = bo.AppendUint32(tiff, 8)
	entry := func(tag, typ uint16, count uint32, value []byte) {
		tiff = bo.AppendUint16(tiff, tag)
		tiff = bo.AppendUint16(tiff, typ)
		tiff = bo.AppendUint32(tiff, count)
		tiff = append(tiff, value...)
	}
	tiff = bo.AppendUint16(tiff, 3)
	entry(0x0100, 3, 1, append(bo.AppendUint16(nil, 3), 0, 0))              // ImageWidth: a SHORT too, not the orientation
	entry(0x010E, 2, uint32(len(secret)+1), bo.AppendUint32(nil, 8+2+36+4)) // ImageDescription, after the IFD
	if o > 0 {
		entry(0x0112, 3, 1, append(bo.AppendUint16(nil, uint16(o)), 0, 0)) // a SHORT sits in the value's first half
	} else {
		entry(0x0131, 2, 1, []byte{0, 0, 0, 0}) // Software
	}
	tiff = bo.AppendUint32(tiff, 0)
	return "Exif\x00\x00" + string(tiff) + secret + "\x00"
}

// MustCameraJPEG is a w×h JPEG as a phone or an editor writes it:
// JFIF with a thumbnail and a JFXX extension with another, EXIF saying
// where, XMP, IPTC, a comment, an ICC profile, a phone's MPF index, a
// vendor's APP14 and APP15, a comment between the scan and EOI, and a
// video after EOI.
func MustCameraJPEG(t testing.TB, w, h int, exif string) []byte {
	t.Helper()
	plain := MustPicture(t, "jpeg", w, h)
	var b []byte
	b = append(b, plain[:2]...)
	b = append(b, jpegSegment(0xE0, "JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x02\x01"+"alice!")...) // a 2×1 thumbnail
	b = append(b, jpegSegment(0xE0, "JFXX\x00\x10"+secret)...)                                   // an extension's thumbnail
	b = append(b, jpegSegment(0xE1, exif)...)
	b = append(b, jpegSegment(0xE1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+secret+"</x:xmpmeta>")...)
	b = append(b, jpegSegment(0xED, "Photoshop 3.0\x008BIM\x04\x04"+secret)...)
	b = append(b, jpegSegment(0xE2, "ICC_PROFILE\x00\x01\x01fake profile")...)
	b = append(b, jpegSegment(0xE2, "MPF\x00"+secret)...)    // APP2, but not a colour profile
	b = append(b, jpegSegment(0xEE, "Vendor\x00"+secret)...) // APP14, but not Adobe's
	b = append(b, jpegSegment(0xEF, "Vendor\x00"+secret)...) // APP15, the last APPn
	b = append(b, jpegSegment(0xFE, "shot by "+secret)...)
	b = append(b, plain[2:len(plain)-2]...)
	b = append(b, 0xFF, 0xFF) // fill bytes before a marker
	b = append(b, jpegSegment(0xFE, secret)...)
	b = append(b, 0xFF, 0xD9)
	return append(b, "ftypmp42 motion photo of "+secret...)
}

// pngChunk is a PNG chunk with its CRC.
func pngChunk(typ, data string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	b = append(b, typ+data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE([]byte(typ+data)))
}

// MustTextPNG is a PNG with text, EXIF, a time, a private chunk, a gamma
// (which it keeps) and something after IEND.
func MustTextPNG(t testing.TB) []byte {
	t.Helper()
	plain := MustPicture(t, "png", 40, 30)
	ihdrEnd := 8 + 12 + 13
	var b []byte
	b = append(b, plain[:ihdrEnd]...)
	b = append(b, pngChunk("gAMA", "\x00\x00\xb1\x8f")...)
	b = append(b, pngChunk("tEXt", "Comment\x00"+secret)...)
	b = append(b, pngChunk("iTXt", "Description\x00\x00\x00\x00\x00"+secret)...)
	b = append(b, pngChunk("zTXt", "Author\x00\x00"+secret)...)
	b = append(b, pngChunk("eXIf", exifWith("MM", 0)[6:])...)
	b = append(b, pngChunk("tIME", "\x07\xea\x0b\x17\x0c\x00\x00")...)
	b = append(b, pngChunk("alIc", secret)...)
	b = append(b, plain[ihdrEnd:]...)
	return append(b, secret...)
}

// riffChunk is a WebP chunk, padded to an even size.
func riffChunk(typ string, data []byte) []byte {
	b := binary.LittleEndian.AppendUint32([]byte(typ), uint32(len(data)))
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// MustExtendedWebP is the 1×1 WebP in the extended format, with EXIF
// and XMP chunks announced in VP8X, and something after the RIFF.
func MustExtendedWebP(t testing.TB) []byte {
	t.Helper()
	vp8x := []byte{0x08 | 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0} // EXIF and XMP; a 1×1 canvas
	body := []byte("WEBP")
	body = append(body, riffChunk("VP8X", vp8x)...)
	body = append(body, webp1x1[12:]...)
	body = append(body, riffChunk("EXIF", []byte(exifWith("II", 0)[6:]+"!"))...) // odd: padded
	body = append(body, riffChunk("XMP ", []byte("<x:xmpmeta>"+secret+"</x:xmpmeta>"))...)
	b := binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body)))
	return append(append(b, body...), secret...)
}

// MustAnimatedGIF is a two-frame looping GIF with a comment and an XMP
// application extension, and something after its trailer.
func MustAnimatedGIF(t testing.TB) []byte {
	t.Helper()
	pal := color.Palette{color.White, color.Black}
	frames := []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 9, 7), pal), image.NewPaletted(image.Rect(0, 0, 9, 7), pal)}
	frames[1].SetColorIndex(3, 3, 1)
	var plain bytes.Buffer
	if err := gif.EncodeAll(&plain, &gif.GIF{Image: frames, Delay: []int{10, 10}, LoopCount: 3}); err != nil {
		t.Fatal(err)
	}
	p := plain.Bytes()
	head := 13 + colorTableSize(p[10])
	var b []byte
	b = append(b, p[:head]...)
	b = append(b, 0x21, 0xFE, byte(len(secret)))
	b = append(b, secret+"\x00"...)
	b = append(b, 0x21, 0xFF, 11)
	b = append(b, "XMP DataXMP"...)
	b = append(b, byte(len(secret)))
	b = append(b, secret+"\x00"...)
	b = append(b, p[head:]...)
	return append(b, secret...)
}

// samePixels says whether two pictures look the same, pixel by pixel.
func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 || a1 != a2 {
				return false
			}
		}
	}
	return true
}

// Metadata goes and the picture stays: every format, each with the kinds
// of metadata its writers put in it. What it needs to look as meant (the
// colour profile, gamma, the loop) is kept, and the pixels are the same.
func TestStripMetadata(t *testing.T) {
	for _, tc := range []struct {
		format string
		in     []byte
		kept   []string
	}{
		// JFIF's header stays whole but for its thumbnail, whose size
		// says 0×0 (the last two bytes).
		{"jpeg", MustCameraJPEG(t, 64, 48, exifWith("II", 0)), []string{"ICC_PROFILE\x00", "\xFF\xE0\x00\x10JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00\xFF"}},
		{"png", MustTextPNG(t), []string{"gAMA"}},
		{"webp", MustExtendedWebP(t), []string{"VP8X", "VP8L"}},
		{"gif", MustAnimatedGIF(t), []string{"NETSCAPE2.0"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out, o, err := stripMetadata(tc.format, tc.in)
			if err != nil || o != 1 {
				t.Fatalf("stripMetadata: orientation %d, %v", o, err)
			}
			if bytes.Contains(out, []byte("alice")) || bytes.Contains(out, []byte("Exif")) {
				t.Errorf("the stripped %s still says where alice lives:\n%q", tc.format, out)
			}
			for _, k := range tc.kept {
				if !bytes.Contains(out, []byte(k)) {
					t.Errorf("the stripped %s lost its %q", tc.format, k)
				}
			}
			if again, _, err := stripMetadata(tc.format, out); err != nil || !bytes.Equal(again, out) {
				t.Errorf("stripping twice changed it again (%v)", err)
			}
			before, _, err1 := image.Decode(bytes.NewReader(tc.in))
			after, format, err2 := image.Decode(bytes.NewReader(out))
			if err1 != nil || err2 != nil || format != tc.format || !samePixels(before, after) {
				t.Errorf("the pixels changed: %v, %v, %s", err1, err2, format)
			}
		})
	}
	t.Run("webp flags and size", func(t *testing.T) {
		out, _, _ := stripMetadata("webp", MustExtendedWebP(t))
		if out[20]&(0x08|0x04) != 0 || int(binary.LittleEndian.Uint32(out[4:])) != len(out)-8 {
			t.Errorf("VP8X flags %#x, RIFF size %d for %d bytes", out[20], binary.LittleEndian.Uint32(out[4:]), len(out))
		}
		if _, err := webp.DecodeConfig(bytes.NewReader(out)); err != nil {
			t.Error(err)
		}
	})
	t.Run("gif frames and loop", func(t *testing.T) {
		out, _, _ := stripMetadata("gif", MustAnimatedGIF(t))
		g, err := gif.DecodeAll(bytes.NewReader(out))
		if err != nil || len(g.Image) != 2 || g.LoopCount != 3 || g.Delay[1] != 10 {
			t.Errorf("the animation: %v", err)
		}
	})
}

// A picture with nothing to take out is stored byte for byte.
func TestStripMetadataKeepsPlainPictures(t *testing.T) {
	for _, tc := range []struct {
		format string
		in     []byte
	}{
		{"jpeg", MustPicture(t, "jpeg", 33, 17)},
		{"png", MustPicture(t, "png", 33, 17)},
		{"gif", MustPicture(t, "gif", 33, 17)},
		{"webp", webp1x1},
	} {
		t.Run(tc.format, func(t *testing.T) {
			if out, _, err := stripMetadata(tc.format, tc.in); err != nil || !bytes.Equal(out, tc.in) {
				t.Errorf("a plain %s changed (%d bytes to %d, %v)", tc.format, len(tc.in), len(out), err)
			}
		})
	}
}

// A phone writes which way up a photo goes instead of turning its
// pixels. That survives alone, in an EXIF segment of its own, in either
// byte order; and the size the server answers is the size it is shown:
// orientations 5 to 8 turn it a quarter. A number EXIF does not have
// (9) is no orientation.
func TestStripMetadataKeepsOrientation(t *testing.T) {
	for _, tc := range []struct {
		order   string
		o, want int
	}{{"II", 6, 6}, {"MM", 6, 6}, {"MM", 3, 3}, {"II", 4, 4}, {"MM", 5, 5}, {"II", 8, 8}, {"MM", 1, 1}, {"II", 9, 1}} {
		t.Run(tc.order+string(rune('0'+tc.o)), func(t *testing.T) {
			photo := MustCameraJPEG(t, 64, 48, exifWith(tc.order, tc.o))
			out, o, err := stripMetadata("jpeg", photo)
			if err != nil || o != tc.want {
				t.Fatalf("orientation %d, %v; want %d", o, err, tc.want)
			}
			if bytes.Contains(out, []byte("alice")) {
				t.Errorf("the secret was kept")
			}
			// JFIF's header stays the first segment, as JFIF asks; the
			// orientation comes right after it (SOI 2 bytes, JFIF 18).
			if !bytes.HasPrefix(out, []byte("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00")) || tc.want != 1 && bytes.Index(out, orientationSegment(tc.want)) != 20 {
				t.Errorf("the picture begins % x, want SOI, JFIF, then the orientation", out[:min(len(out), 40)])
			}
			for o := 2; o <= 9; o++ {
				if has := bytes.Contains(out, orientationSegment(o)); has != (o == tc.want) {
					t.Errorf("an orientation segment saying %d: %v", o, has)
				}
			}
			if got := exifOrientation(orientationSegment(tc.want)[4:]); got != tc.want {
				t.Errorf("the written segment reads as orientation %d", got)
			}
			rec, err := decodeImage(photo)
			w, h := 64, 48
			if tc.want >= 5 {
				w, h = 48, 64
			}
			if err != nil || rec.Width != w || rec.Height != h {
				t.Errorf("decodeImage: %d×%d, %v; want %d×%d", rec.Width, rec.Height, err, w, h)
			}
		})
	}

	// A progressive JPEG has several scans: the orientation is written
	// once, before the first, and what comes after it (an editor's EXIF
	// saying otherwise) is not read.
	t.Run("progressive", func(t *testing.T) {
		photo := MustCameraJPEG(t, 64, 48, exifWith("II", 6))
		sos, eoi := bytes.Index(photo, []byte{0xFF, 0xDA}), bytes.LastIndex(photo, []byte{0xFF, 0xD9})
		scans := slices.Concat(photo[:eoi], jpegSegment(0xE1, exifWith("MM", 3)), photo[sos:eoi], photo[eoi:])
		out, o, err := stripMetadata("jpeg", scans)
		if n := bytes.Count(out, []byte("Exif\x00\x00")); err != nil || o != 6 || n != 1 || !bytes.Contains(out, orientationSegment(6)) {
			t.Errorf("orientation %d, %v, %d EXIF segments; want 6 written once", o, err, n)
		}
	})

	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	info := ts.MustUpload(t, ck, "lobby", MustCameraJPEG(t, 64, 48, exifWith("II", 6)))
	if info.Width != 48 || info.Height != 64 {
		t.Errorf("a 64×48 photo turned a quarter was answered as %d×%d, want 48×64", info.Width, info.Height)
	}
	_, served := ts.get(t, "/images/"+info.ID, ck)
	if !bytes.Contains([]byte(served), orientationSegment(6)) || bytes.Contains([]byte(served), []byte("alice")) {
		t.Errorf("the served photo (%d bytes) lost its orientation or kept its metadata", len(served))
	}
}

// Uploads lose their metadata whatever the client, and the size that
// counts against IMAGES_MB is what is stored.
func TestUploadStripsMetadata(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	for _, in := range [][]byte{MustCameraJPEG(t, 64, 48, exifWith("MM", 0)), MustTextPNG(t), MustExtendedWebP(t), MustAnimatedGIF(t)} {
		info := ts.MustUpload(t, ck, "lobby", in)
		if _, served := ts.get(t, "/images/"+info.ID, ck); bytes.Contains([]byte(served), []byte("alice")) || len(served) >= len(in) {
			t.Errorf("served %d of %d bytes, or with the metadata", len(served), len(in))
		}
	}
}

// A file whose structure cannot be walked is refused, saying so; never
// stored with what could not be looked at.
func TestStripMetadataRefusesDamaged(t *testing.T) {
	jpg, png, gifb := MustPicture(t, "jpeg", 20, 20), MustPicture(t, "png", 20, 20), MustPicture(t, "gif", 20, 20)
	longSeg := append(append([]byte{}, jpg[:2]...), 0xFF, 0xE1, 0xFF, 0xF0, 'E', 'x')
	secondSOI := append(append([]byte{}, jpg[:len(jpg)-2]...), 0xFF, 0xD8)
	for _, tc := range []struct {
		name, format string
		in           []byte
	}{
		{"a JPEG segment past the end", "jpeg", append(longSeg, jpg[2:]...)},
		{"a JPEG with a second start", "jpeg", secondSOI},
		{"a JPEG with no start", "jpeg", jpg[2:]},
		{"a PNG cut off in its data", "png", png[:len(png)-20]},
		{"a PNG chunk past the end", "png", append(append([]byte{}, png[:33]...), pngChunk("tEXt", "a")[:6]...)},
		{"a PNG cut in a chunk's length", "png", append(append([]byte{}, png[:33]...), 0, 0)},
		{"a PNG with a critical chunk PNG does not have", "png", slices.Concat(png[:33], pngChunk("ZZZZ", "a"), png[33:])},
		{"a GIF with a block of no kind", "gif", append(append([]byte{}, gifb[:len(gifb)-1]...), 0x99)},
		{"a GIF cut off in a block", "gif", gifb[:len(gifb)-4]},
		{"a WebP cut off", "webp", webp1x1[:len(webp1x1)-2]},
		{"a format it does not know", "bmp", png},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Clipped, so that a read past the end panics rather than
			// finding the spare capacity of the slice.
			if out, _, err := stripMetadata(tc.format, slices.Clip(tc.in)); err == nil {
				t.Errorf("took it: %d bytes", len(out))
			}
		})
	}

	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	resp, body := ts.upload(t, ck, "lobby", png[:len(png)-20])
	MustErrorJSON(t, "a cut-off PNG", resp, body, http.StatusUnsupportedMediaType, codeUnsupported)
	if !bytes.Contains([]byte(body), []byte("damaged")) {
		t.Errorf("the refusal does not say the file is damaged: %s", body)
	}
}

// Whatever the bytes, stripping never panics, and what it takes reads
// as a picture again and does not change when stripped again.
func FuzzStripMetadata(f *testing.F) {
	for _, seed := range [][]byte{
		MustCameraJPEG(f, 16, 8, exifWith("II", 6)), MustTextPNG(f), MustExtendedWebP(f), MustAnimatedGIF(f),
		MustPicture(f, "jpeg", 5, 5), MustPicture(f, "gif", 5, 5), webp1x1, webpLossy, webpAlpha, webpAnimated,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = slices.Clip(data) // a read past the end panics
		_, format, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			format = "jpeg"
		}
		out, _, err := stripMetadata(format, data)
		if err != nil {
			return
		}
		if again, _, err := stripMetadata(format, out); err != nil || !bytes.Equal(again, out) {
			t.Errorf("stripping %s twice: %v", format, err)
		}
	})
}
