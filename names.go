package main

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

const (
	maxNameLen = 24
	maxRoomLen = 32
	lobby      = "lobby"
)

// normalizeName applies the PRECIS Nickname profile (width folding, NFKC,
// trimming and collapsing spaces) and then our stricter rule: letters and
// digits of any script, spaces, '_', '-' and '.'. Everything else, including
// markup, controls, zero-width and bidi-override characters, is refused.
// It returns the display name and the key used to compare names.
func normalizeName(raw string) (name, key string, err error) {
	if strings.TrimSpace(raw) == "" {
		return "", "", errorf(codeInvalid, "Enter a nickname.")
	}
	name, perr := precis.Nickname.String(raw)
	if perr != nil {
		return "", "", errorf(codeInvalid, "Use only letters, digits, spaces, '_', '-' and '.'.")
	}
	if n := utf8.RuneCountInString(name); n < 1 || n > maxNameLen {
		return "", "", errorf(codeInvalid, "A nickname has 1 to 24 characters.")
	}
	for i, r := range name {
		ok := unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '_' || r == '-' || r == '.' ||
			(i > 0 && unicode.In(r, unicode.Mn, unicode.Mc)) // combining marks, e.g. Devanagari vowel signs
		if !ok {
			return "", "", errorf(codeInvalid, "Use only letters, digits, spaces, '_', '-' and '.'.")
		}
	}
	key, perr = precis.Nickname.CompareKey(name)
	if perr != nil {
		return "", "", errorf(codeInvalid, "Use only letters, digits, spaces, '_', '-' and '.'.")
	}
	return name, key, nil
}

// normalizeRoom returns the canonical (lower-case, NFC) room name. Rooms are
// case-insensitive, so "Lobby" and "lobby" are one room.
func normalizeRoom(raw string) (string, bool) {
	room := strings.ToLower(norm.NFC.String(raw))
	if n := utf8.RuneCountInString(room); n < 1 || n > maxRoomLen {
		return "", false
	}
	for i, r := range room {
		// Combining marks as in names: Thai, Hindi and others write
		// vowels with them (สวัสดี, हिन्दी).
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' ||
			(i > 0 && unicode.In(r, unicode.Mn, unicode.Mc))) {
			return "", false
		}
	}
	return room, true
}
