package main

// Pictures in messages. A picture is uploaded first, on its own (POST
// /api/rooms/{room}/images), and then sent over the socket as part of a
// message, by the id the upload answered. So a picture's message is a
// message like any other: it waits in the web client's outbox through a
// lost connection, keeps its nonce, and is stored once and fanned out in
// id order. The bytes live in the store's images table, without their
// metadata (strip.go), never in the rooms' memory; a message carries
// only the picture's id and size, which lets a page make room for it
// before it loads.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"time"

	_ "image/gif" // the formats DecodeConfig knows: GIF, JPEG, PNG and WebP
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/webp"
)

const (
	// maxImageSide and maxImagePixels refuse pictures that are small
	// files but huge images (a 50,000-pixel-wide PNG of one colour
	// compresses to almost nothing): every browser in the room would
	// have to decode it. A phone's 48-megapixel photo fits.
	maxImageSide   = 10_000
	maxImagePixels = 50_000_000
	// unsentImageAge is how long an uploaded picture waits to be sent
	// before the hourly sweep deletes it: long enough for a message
	// that waits in an outbox through a night offline.
	unsentImageAge = 24 * time.Hour
)

// imageTypes are the formats taken, by image.DecodeConfig's name for
// them, and the Content-Type each is served with.
var imageTypes = map[string]string{"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}

// imageInfo is a picture as a message carries it.
type imageInfo struct {
	ID     string `json:"id"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// ImageRecord is a stored picture. Data is left out where it is not
// needed (see Store.ImageInfo).
type ImageRecord struct {
	imageInfo
	Room, Key string // where it may be sent, and by whom (the uploader's name key)
	Type      string // its Content-Type
	Size      int
	Data      []byte
	TS        time.Time
	Ref       int64 // the message that shows it; 0: not sent yet
}

// serveUpload answers POST /api/rooms/{room}/images, whose body is one
// picture, with its id and size. Cross-site POSTs never get here (see
// routes).
func (s *server) serveUpload(w http.ResponseWriter, r *http.Request) {
	h := s.hub
	if h.cfg.ImageMax == 0 {
		writeJSONError(w, errorf(codeForbidden, "This server does not take pictures."))
		return
	}
	u := h.loggedIn(w, r)
	if u == nil {
		return
	}
	room, ok := normalizeRoom(r.PathValue("room"))
	if !ok {
		writeJSONError(w, errorf(codeInvalid, "Invalid room name."))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.ImageMax))
	if err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			writeJSONError(w, errorf(codeTooLarge, "A picture has at most %d MB.", h.cfg.ImageMax>>20))
		} else {
			writeJSONError(w, errorf(codeInvalid, "The picture did not arrive whole; try again."))
		}
		return
	}
	rec, err := decodeImage(data)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	refund, ok, wait := h.limits.upload(clientAddr(r, h.cfg.ClientIPHeader), len(data))
	if !ok {
		w.Header().Set("Retry-After", retryAfterSeconds(wait))
		writeJSONError(w, errorf(codeRateLimited, "Too many pictures from your network; try again in %d minutes.", int(wait.Minutes())+1))
		return
	}
	if h.cfg.ImageStore > 0 {
		total, err := h.store.ImagesSize(r.Context())
		if err != nil {
			h.log.Error("reading the pictures' size", "err", err)
			refund()
			writeJSONError(w, err)
			return
		}
		if total+int64(rec.Size) > h.cfg.ImageStore {
			h.log.Warn("IMAGES_MB is used up", "bytes", total)
			refund()
			writeJSONError(w, errorf(codeStorageFull, "The server has no room for more pictures."))
			return
		}
	}
	rec.ID, rec.Room, rec.Key, rec.TS = newImageID(), room, u.key, h.now()
	if err := h.store.PutImage(r.Context(), rec); err != nil {
		h.log.Error("storing a picture", "err", err)
		refund()
		writeJSONError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, rec.imageInfo)
}

// decodeImage checks that data is a picture the server takes, reads its
// format and size (from its header: nothing is decoded whole), and takes
// its metadata out (see strip.go). The size is the one it is shown at: a
// JPEG turned by its orientation has its sides swapped.
func decodeImage(data []byte) (ImageRecord, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	typ, ok := imageTypes[format]
	if err != nil || !ok {
		return ImageRecord{}, errorf(codeUnsupported, "Send a PNG, JPEG, GIF or WebP picture.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxImageSide || cfg.Height > maxImageSide || cfg.Width*cfg.Height > maxImagePixels {
		return ImageRecord{}, errorf(codeInvalid, "A picture has at most %d pixels a side and %d megapixels; this one is %d×%d.", maxImageSide, maxImagePixels/1_000_000, cfg.Width, cfg.Height)
	}
	clean, orientation, err := stripMetadata(format, data)
	if err == nil {
		// What is stored must read as what was checked.
		if again, _, e := image.DecodeConfig(bytes.NewReader(clean)); e != nil || again.Width != cfg.Width || again.Height != cfg.Height {
			err = errDamaged
		}
	}
	if err != nil {
		return ImageRecord{}, errorf(codeUnsupported, "This picture's file is damaged; save it again and send that.")
	}
	w, h := cfg.Width, cfg.Height
	if orientation >= 5 { // 5–8 turn it a quarter
		w, h = h, w
	}
	return ImageRecord{imageInfo: imageInfo{Width: w, Height: h}, Type: typ, Size: len(clean), Data: clean}, nil
}

// newImageID is 128 random bits: a picture's address is not guessable,
// as it is not tied to a room once sent.
func newImageID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// serveImage answers GET /images/{id} with the picture, to a logged-in
// browser. Its type is the one its bytes were found to be, and
// nosniff, a sandbox and no Content-Type guessing keep it a picture even
// opened on its own.
func (s *server) serveImage(w http.ResponseWriter, r *http.Request) {
	if s.hub.loggedIn(w, r) == nil {
		return
	}
	id := r.PathValue("id")
	typ, data, ok, err := s.hub.store.ImageData(r.Context(), id)
	switch {
	case err != nil:
		s.hub.log.Error("reading a picture", "err", err)
		writeJSONError(w, err)
		return
	case !ok:
		writeJSONError(w, errorf(codeNotFound, "There is no such picture; it may have been deleted."))
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", typ)
	hd.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	// A picture never changes under its id; it can only be deleted, and
	// then no page asks for it again.
	hd.Set("Cache-Control", "private, max-age=31536000, immutable")
	hd.Set("ETag", `"`+id+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// sentImage returns picture id for c's message, or answers the frame
// itself and returns false: the picture must be one c's user uploaded to
// this room. One sent already is answered as a copy of the message that
// showed it (a resend after a lost echo asks so; see nonces.go), so a
// picture is shown once. It reads the store, on the socket's reader.
func (h *Hub) sentImage(c *client, id, nonce string) (imageInfo, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, ok, err := h.store.ImageInfo(ctx, id)
	switch {
	case err != nil:
		h.log.Error("reading a picture", "err", err)
		c.sendError(codeUnavailable, "Your message was not saved; try again.", nonce)
	case !ok || rec.Room != c.room.name || rec.Key != c.user.key:
		c.sendError(codeNotFound, "That picture is not there to send; upload it again.", nonce)
	case rec.Ref > 0:
		c.write(duplicateFrame(rec.Ref, nonce))
	default:
		return rec.imageInfo, true
	}
	return imageInfo{}, false
}

// sweepImages deletes the pictures uploaded more than unsentImageAge ago
// and never sent.
func (h *Hub) sweepImages(ctx context.Context) error {
	n, err := h.store.DeleteUnsentImages(ctx, h.now().Add(-unsentImageAge))
	if n > 0 {
		h.log.Info("deleted pictures never sent", "count", n)
	}
	return err
}

func (s *SQLite) PutImage(ctx context.Context, r ImageRecord) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO images (id, room, name_key, type, width, height, size, data, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Room, r.Key, r.Type, r.Width, r.Height, len(r.Data), r.Data, r.TS.UnixMilli())
	return err
}

func (s *SQLite) ImageInfo(ctx context.Context, id string) (ImageRecord, bool, error) {
	r := ImageRecord{imageInfo: imageInfo{ID: id}}
	var ts int64
	err := s.r.QueryRowContext(ctx, `SELECT room, name_key, type, width, height, size, ts, ref FROM images WHERE id = ?`, id).
		Scan(&r.Room, &r.Key, &r.Type, &r.Width, &r.Height, &r.Size, &ts, &r.Ref)
	if errors.Is(err, sql.ErrNoRows) {
		return ImageRecord{}, false, nil
	}
	r.TS = time.UnixMilli(ts)
	return r, err == nil, err
}

func (s *SQLite) ImageData(ctx context.Context, id string) (string, []byte, bool, error) {
	var typ string
	var data []byte
	err := s.r.QueryRowContext(ctx, `SELECT type, data FROM images WHERE id = ?`, id).Scan(&typ, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	return typ, data, err == nil, err
}

func (s *SQLite) ImagesSize(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(size), 0) FROM images INDEXED BY images_size`).Scan(&n)
	return n, err
}

func (s *SQLite) DeleteUnsentImages(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM images WHERE ref = 0 AND ts < ?`, before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("deleting pictures never sent: %w", err)
	}
	return res.RowsAffected()
}
