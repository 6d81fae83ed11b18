package main

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// What makes a picture look as meant is kept, chunk for chunk: a file
// with nothing else in it comes out as it went in. For a PNG: its
// transparency, colour (gamma, chromaticities, sRGB, a profile, cICP and
// HDR's mDCv and cLLi), significant bits, background, pixel size and an
// APNG's animation. For a JPEG: Adobe's colour transform (and its
// profile, see TestStripMetadata). For a WebP: the lossy or lossless image, its alpha,
// its animation and its colour profile.
func TestStripMetadataKeepsWhatShows(t *testing.T) {
	plain := MustPicture(t, "png", 4, 3)
	ihdrEnd := 8 + 12 + 13
	var ancillary []byte
	for _, typ := range []string{"tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "cICP", "mDCv", "cLLi", "acTL", "fcTL"} {
		ancillary = append(ancillary, pngChunk(typ, "\x00\x01\x02\x03")...)
	}
	iend := len(plain) - 12
	apng := slices.Concat(plain[:ihdrEnd], ancillary, plain[ihdrEnd:iend], pngChunk("fdAT", "\x00\x00\x00\x01frame"), plain[iend:])

	// The alpha WebP with a colour profile, announced in VP8X.
	profiled := slices.Clone(webpAlpha[:12+18])
	profiled[20] |= 0x20 // ICC profile
	profiled = slices.Concat(profiled, riffChunk("ICCP", []byte("fake profile!")), webpAlpha[12+18:])
	binary.LittleEndian.PutUint32(profiled[4:], uint32(len(profiled)-8))

	// Adobe's APP14 says how a CMYK JPEG's colours are coded.
	jpg := MustPicture(t, "jpeg", 4, 3)
	adobe := slices.Concat(jpg[:2], jpegSegment(0xEE, "Adobe\x00\x64\x00\x00\x00\x00\x01"), jpg[2:])

	for _, tc := range []struct {
		name, format string
		in           []byte
	}{
		{"a PNG with every chunk that shows", "png", apng},
		{"a JPEG with Adobe's colour transform", "jpeg", adobe},
		{"a lossy WebP", "webp", webpLossy},
		{"a WebP with alpha", "webp", webpAlpha},
		{"an animated WebP", "webp", webpAnimated},
		{"a WebP with a colour profile", "webp", profiled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := stripMetadata(tc.format, tc.in)
			if err != nil || !bytes.Equal(out, tc.in) {
				t.Errorf("%d bytes in, %d out (%v); want the same bytes", len(tc.in), len(out), err)
			}
		})
	}

	// The WebPs go through an upload and come back as they went.
	ts := MustStart(t, t.TempDir())
	ck := ts.MustLogin(t, "alice")
	for _, in := range [][]byte{webpLossy, webpAlpha, webpAnimated} {
		info := ts.MustUpload(t, ck, "lobby", in)
		if resp, got := ts.get(t, "/images/"+info.ID, ck); resp.StatusCode != 200 || got != string(in) || info.Width != 1 || info.Height != 1 {
			t.Errorf("uploaded %d bytes, served %d (%d), %d×%d; want the same bytes, 1×1", len(in), len(got), resp.StatusCode, info.Width, info.Height)
		}
	}
}
