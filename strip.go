package main

// A picture loses what a camera or an editor wrote into it before it is
// stored: where a photo was taken (GPS), when, on which device with which
// serial number, comments, editing history, and thumbnails (which may
// still show what was cropped away), and whatever follows the picture's
// end (a phone's "motion photo" is a video appended to the JPEG). The web
// client draws a JPEG again, which drops all of it, but a pasted PNG, a
// WebP, or a picture sent by another client would keep it.
//
// Only the file's structure is rewritten: the compressed image data is
// copied as it is, so nothing is lost in quality and little is spent.
// What a picture needs to look as it was meant is kept: its colour
// profile, transparency, gamma, animation, and a JPEG's orientation,
// which a phone writes instead of turning the pixels (so it is written
// back alone, in an EXIF segment of its own). Allow lists rather than
// deny lists: a kind of segment not named here goes.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
)

// errDamaged is a picture whose structure cannot be walked: a segment or
// chunk that runs past the end of the file, or a block of a kind the
// format does not have.
var errDamaged = errors.New("damaged picture")

// stripMetadata returns data without its metadata, and the orientation
// (1–8, as EXIF numbers them) a JPEG asks to be shown in; 1 for others.
func stripMetadata(format string, data []byte) ([]byte, int, error) {
	switch format {
	case "jpeg":
		return stripJPEG(data)
	case "png":
		out, err := stripPNG(data)
		return out, 1, err
	case "gif":
		out, err := stripGIF(data)
		return out, 1, err
	case "webp":
		out, err := stripWebP(data)
		return out, 1, err
	}
	return nil, 0, errDamaged
}

// stripJPEG walks the markers up to EOI, and through every scan of a
// progressive JPEG (segments may sit between scans too). It keeps the
// JFIF header without its thumbnail, an ICC profile and Adobe's colour
// transform, and drops every other APPn segment and comment.
func stripJPEG(data []byte) ([]byte, int, error) {
	if len(data) < 2 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, 0, errDamaged
	}
	out := make([]byte, 2, len(data))
	copy(out, data[:2])
	orientation, exifAt, scanned := 1, 2, false
	for i := 2; ; {
		if i >= len(data) {
			// No EOI: many decoders show such a file, and what it
			// ended in was image data.
			return out, orientation, nil
		}
		if data[i] != 0xFF {
			return nil, 0, errDamaged
		}
		for i < len(data) && data[i] == 0xFF { // fill bytes
			i++
		}
		if i >= len(data) {
			return out, orientation, nil
		}
		m := data[i]
		i++
		switch {
		case m == 0xD9: // EOI: whatever follows is not the picture
			return append(out, 0xFF, 0xD9), orientation, nil
		case m == 0xD8: // a second SOI
			return nil, 0, errDamaged
		case m >= 0xD0 && m <= 0xD7, m == 0x01: // markers with no length
			out = append(out, 0xFF, m)
			continue
		}
		if i+2 > len(data) {
			return nil, 0, errDamaged
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || i+n > len(data) {
			return nil, 0, errDamaged
		}
		seg, payload := data[i-2:i+n], data[i+2:i+n]
		i += n
		switch {
		case m == 0xE0 && bytes.HasPrefix(payload, []byte("JFIF\x00")) && len(payload) >= 14:
			// Version, units and density; the thumbnail's size set to 0.
			out = append(out, 0xFF, 0xE0, 0, 16)
			out = append(out, payload[:12]...)
			out = append(out, 0, 0)
			if !scanned && exifAt == 2 {
				exifAt = len(out) // EXIF goes after JFIF's header
			}
		case m == 0xE1:
			if o := exifOrientation(payload); o != 0 && !scanned {
				orientation = o
			}
		case m == 0xE2 && bytes.HasPrefix(payload, []byte("ICC_PROFILE\x00")),
			m == 0xEE && bytes.HasPrefix(payload, []byte("Adobe")):
			out = append(out, seg...)
		case m >= 0xE0 && m <= 0xEF, m == 0xFE:
			// Metadata of any other kind, and comments: dropped.
		default:
			out = append(out, seg...)
		}
		if m != 0xDA { // SOS: the entropy-coded data follows it
			continue
		}
		if !scanned && orientation != 1 {
			out = slices.Insert(out, exifAt, orientationSegment(orientation)...)
		}
		scanned = true
		// The scan ends at the first marker that is not a stuffed 0xFF
		// (FF 00), a restart (FF D0–D7) or a fill byte.
		j := i
		for ; j+1 < len(data); j++ {
			if data[j] == 0xFF {
				if next := data[j+1]; next != 0 && next != 0xFF && (next < 0xD0 || next > 0xD7) {
					break
				}
			}
		}
		if j+1 >= len(data) {
			j = len(data)
		}
		out = append(out, data[i:j]...)
		i = j
	}
}

// exifOrientation reads the Orientation tag (0x0112) of an APP1
// segment's EXIF, or 0 if it has none.
func exifOrientation(payload []byte) int {
	tiff, ok := bytes.CutPrefix(payload, []byte("Exif\x00\x00"))
	if !ok || len(tiff) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	ifd := int(order.Uint32(tiff[4:]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 0
	}
	count := int(order.Uint16(tiff[ifd:]))
	for k := range count {
		e := ifd + 2 + 12*k
		if e+12 > len(tiff) {
			return 0
		}
		if order.Uint16(tiff[e:]) == 0x0112 && order.Uint16(tiff[e+2:]) == 3 {
			if o := int(order.Uint16(tiff[e+8:])); o >= 1 && o <= 8 {
				return o
			}
			return 0
		}
	}
	return 0
}

// orientationSegment is an APP1 segment whose EXIF says the orientation
// and nothing else: one IFD with one entry.
func orientationSegment(o int) []byte {
	return []byte{
		0xFF, 0xE1, 0, 34,
		'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1
		0, 0, 0, 0, // no next IFD
	}
}

// pngKept are the chunks a PNG keeps: the four critical ones, and the
// ancillary ones that change how it looks (transparency, colour, gamma,
// pixel size) and those of APNG's animation.
var pngKept = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true,
	"bKGD": true, "pHYs": true, "cICP": true, "mDCv": true, "cLLi": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

// stripPNG drops text (tEXt, zTXt, iTXt), EXIF (eXIf), times and unknown
// ancillary chunks, and whatever follows IEND. Kept chunks keep their CRC.
// A critical chunk (capital first letter) that PNG does not have is
// refused as damage: the format tells a decoder that meets one to refuse
// the picture, as browsers do, and dropping it could change what the
// picture shows. Go's decoder passes over it, so without this the server
// would store a picture that no browser shows.
func stripPNG(data []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if !bytes.HasPrefix(data, []byte(sig)) {
		return nil, errDamaged
	}
	out := make([]byte, len(sig), len(data))
	copy(out, sig)
	for i := len(sig); i < len(data); {
		if i+8 > len(data) {
			return nil, errDamaged
		}
		n := int(binary.BigEndian.Uint32(data[i:]))
		typ := string(data[i+4 : i+8])
		end := i + 12 + n
		if n > len(data) || end > len(data) {
			return nil, errDamaged
		}
		switch {
		case pngKept[typ]:
			out = append(out, data[i:end]...)
		case typ[0] >= 'A' && typ[0] <= 'Z':
			return nil, errDamaged
		}
		if typ == "IEND" {
			break
		}
		i = end
	}
	return out, nil
}

// webpKept are the RIFF chunks a WebP keeps: the image itself, its
// alpha, animation and colour profile, but not EXIF or XMP.
var webpKept = map[string]bool{"VP8 ": true, "VP8L": true, "VP8X": true, "ALPH": true, "ANIM": true, "ANMF": true, "ICCP": true}

// stripWebP drops the EXIF and XMP chunks (and any unknown one), clears
// VP8X's flags that announce them, and sets the RIFF size again.
func stripWebP(data []byte) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return nil, errDamaged
	}
	size := int(binary.LittleEndian.Uint32(data[4:]))
	if size < 4 || size > len(data)-8 {
		return nil, errDamaged
	}
	data = data[:8+size] // what follows the RIFF is not the picture
	out := make([]byte, 12, len(data))
	copy(out, data[:12])
	for i := 12; i < len(data); {
		if i+8 > len(data) {
			return nil, errDamaged
		}
		typ := string(data[i : i+4])
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		end := i + 8 + n + n&1 // chunks are padded to an even size
		if n > len(data) || end > len(data) {
			return nil, errDamaged
		}
		if webpKept[typ] {
			at := len(out)
			out = append(out, data[i:end]...)
			if typ == "VP8X" && n > 0 {
				out[at+8] &^= 0x08 | 0x04 // EXIF and XMP flags
			}
		}
		i = end
	}
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out, nil
}

// stripGIF drops comment extensions and application extensions other
// than the animation's loop count (XMP travels in one), and whatever
// follows the trailer.
func stripGIF(data []byte) ([]byte, error) {
	if len(data) < 13 || !bytes.HasPrefix(data, []byte("GIF87a")) && !bytes.HasPrefix(data, []byte("GIF89a")) {
		return nil, errDamaged
	}
	i := 13 + colorTableSize(data[10])
	if i > len(data) {
		return nil, errDamaged
	}
	out := make([]byte, i, len(data))
	copy(out, data[:i])
	for i < len(data) {
		start := i
		switch data[i] {
		case 0x3B: // trailer
			return append(out, 0x3B), nil
		case 0x21: // extension: label, then sub-blocks
			if i+2 > len(data) {
				return nil, errDamaged
			}
			label := data[i+1]
			end, ok := gifBlocks(data, i+2)
			if !ok {
				return nil, errDamaged
			}
			app := data[i+2 : end]
			keep := label == 0xF9 || label == 0x01 || // graphic control, plain text
				label == 0xFF && (bytes.HasPrefix(app, []byte("\x0bNETSCAPE2.0")) || bytes.HasPrefix(app, []byte("\x0bANIMEXTS1.0")))
			if keep {
				out = append(out, data[start:end]...)
			}
			i = end
		case 0x2C: // image: descriptor, local colour table, LZW code size, sub-blocks
			if i+10 > len(data) {
				return nil, errDamaged
			}
			j := i + 10 + colorTableSize(data[i+9]) + 1
			if j > len(data) {
				return nil, errDamaged
			}
			end, ok := gifBlocks(data, j)
			if !ok {
				return nil, errDamaged
			}
			out = append(out, data[start:end]...)
			i = end
		default:
			return nil, errDamaged
		}
	}
	// A GIF that ends after a whole block without its trailer is shown
	// by browsers; it gets its trailer.
	return append(out, 0x3B), nil
}

// colorTableSize is the size in bytes of the colour table a GIF's packed
// field announces.
func colorTableSize(packed byte) int {
	if packed&0x80 == 0 {
		return 0
	}
	return 3 << (packed&7 + 1)
}

// gifBlocks returns where the sub-blocks starting at i end, after their
// empty terminator.
func gifBlocks(data []byte, i int) (int, bool) {
	for i < len(data) {
		n := int(data[i])
		i += 1 + n
		if n == 0 {
			return i, true
		}
	}
	return 0, false
}
