package main

import (
	"encoding/json"
	"time"
)

// Event types. message, join, leave, edit, delete, react, unreact and
// topic are stored and numbered per room; welcome, presence, typing,
// error, duplicate and pong are only ever sent. A client sends message,
// edit to change one, delete to take one back, react and unreact to put a
// reaction on one or take it off, topic to set the room's topic, typing
// while its user writes one, or ping to learn whether its socket still
// reaches the server.
const (
	typeMessage  = "message"
	typeJoin     = "join"
	typeLeave    = "leave"
	typeEdit     = "edit"    // a message's new text from its author (see changes.go)
	typeDelete   = "delete"  // a message taken back by its author (see changes.go)
	typeReact    = "react"   // a reaction put on a message (see reactions.go)
	typeUnreact  = "unreact" // a reaction taken off
	typeTopic    = "topic"   // the room's topic set, or cleared (see topic.go)
	typeWelcome  = "welcome"
	typePresence = "presence"
	typeTyping   = "typing" // sent by a client that types, and to tell who does
	typeError    = "error"
	// typeDuplicate answers a message that repeats its sender's nonce:
	// it was stored before, as id, and is not stored again (nonces.go).
	typeDuplicate = "duplicate"
	typeNews      = "news" // a new message in a room the socket watches (news.go)
	typePing      = "ping"
	typePong      = "pong"
)

// pongFrame answers every ping.
const pongFrame = `{"type":"pong"}`

// tsLayout is RFC 3339 in UTC with milliseconds, e.g. 2026-11-21T10:04:05.123Z.
const tsLayout = "2006-01-02T15:04:05.000Z07:00"

// Event is a stored room event.
type Event struct {
	ID      int64
	Room    string
	Type    string
	User    string
	UserKey string // compare key of User; stored with presence, never sent
	Text    string // empty for a deleted message or a picture without words, and an edit since replaced; react, unreact: the emoji
	Nonce   string
	TS      time.Time
	Ref     int64     // edit, delete, react, unreact: the message they change; message: the one it replies to
	Edited  time.Time // message: when its text was last changed, if ever
	// Image is a message's picture (see images.go); its ID is empty when
	// it has none. A message has text, a picture or both, until deleted.
	Image imageInfo
	// Reactions are a message's, as they are now: not stored with it,
	// but read with it (from the reactions table) and kept with it in
	// the room's memory.
	Reactions []Reaction
}

// deleted reports whether e is a message its author took back: a
// message otherwise has text or a picture.
func (e Event) deleted() bool {
	return e.Type == typeMessage && e.Text == "" && e.Image.ID == ""
}

// Reaction is one emoji on a message and who put it there, in the order
// they did. A message's reactions come in the order of reactionSet.
type Reaction struct {
	Emoji string   `json:"emoji"`
	Users []string `json:"users"`
}

type wireEvent struct {
	Type  string `json:"type"`
	ID    int64  `json:"id"`
	Room  string `json:"room"`
	User  string `json:"user"`
	Text  string `json:"text,omitempty"` // empty: a deleted message, or a picture alone
	TS    string `json:"ts"`
	Nonce string `json:"nonce,omitempty"`
	Ref   int64  `json:"ref,omitempty"` // edit, delete, react, unreact
	// ReplyTo is the message a message replies to.
	ReplyTo int64 `json:"reply_to,omitempty"`
	// Deleted marks a message its author took back: it keeps its place,
	// author and time, and has no text.
	Deleted bool `json:"deleted,omitempty"`
	// Edited is when a message's text was last changed; its text is the
	// newest.
	Edited string `json:"edited,omitempty"`
	// Emoji is the reaction a react or unreact event puts on or takes off.
	Emoji string `json:"emoji,omitempty"`
	// Reactions are a message's reactions.
	Reactions []Reaction `json:"reactions,omitempty"`
	// Image is a message's picture.
	Image *imageInfo `json:"image,omitempty"`
}

func (e Event) wire() wireEvent {
	deleted := e.deleted()
	var edited string
	if !deleted && !e.Edited.IsZero() {
		edited = e.Edited.UTC().Format(tsLayout)
	}
	ref, replyTo, text, emoji, reactions, image := e.Ref, int64(0), e.Text, "", []Reaction(nil), (*imageInfo)(nil)
	switch e.Type {
	case typeMessage:
		ref, replyTo = 0, e.Ref
		if !deleted {
			reactions = e.Reactions
		}
		if e.Image.ID != "" {
			image = &e.Image
		}
	case typeReact, typeUnreact:
		text, emoji = "", e.Text
	}
	return wireEvent{e.Type, e.ID, e.Room, e.User, text, e.TS.UTC().Format(tsLayout), e.Nonce, ref, replyTo, deleted, edited, emoji, reactions, image}
}

// MarshalJSON is for the history API. The room writer encodes e.wire()
// directly: json.Marshal re-validates and compacts whatever a MarshalJSON
// method returns, which would double the cost on the hot path.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(e.wire())
}

// Online lists are json.RawMessage: a room encodes its list once per
// change and every welcome and presence event reuses it.
type welcomeEvent struct {
	Type   string          `json:"type"`
	User   string          `json:"user"`
	Room   string          `json:"room"`
	Online json.RawMessage `json:"online"`
	LastID int64           `json:"last_id"`
	// Truncated says the replay after since was cut to the newest
	// maxReplay events; older ones are in the history API.
	Truncated bool `json:"truncated,omitempty"`
	// LoginAt is when the session logged in: its user may edit and
	// delete their messages from then on (see mayChange).
	LoginAt string `json:"login_at"`
	// Topic is the room's topic, if it has one.
	Topic *topicInfo `json:"topic,omitempty"`
}

type presenceEvent struct {
	Type   string          `json:"type"`
	Room   string          `json:"room"`
	Online json.RawMessage `json:"online"`
}

type errorEvent struct {
	Type  string `json:"type"`
	Code  code   `json:"code"`
	Text  string `json:"text"`
	Nonce string `json:"nonce,omitempty"`
}

type duplicateEvent struct {
	Type  string `json:"type"`
	ID    int64  `json:"id"`
	Nonce string `json:"nonce"`
}

func duplicateFrame(id int64, nonce string) []byte {
	return encode(duplicateEvent{Type: typeDuplicate, ID: id, Nonce: nonce})
}

// encode marshals v. Our event types cannot fail to marshal.
func encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// inbound is a frame a client sends: a message, an edit, a delete of one
// or a reaction to one, or a typing notice or a ping (which have neither
// text nor nonce).
type inbound struct {
	Type  string  `json:"type"`
	Text  *string `json:"text"`
	Nonce string  `json:"nonce"`
	// After is the newest event id the sender had seen when it first
	// sent this message: a copy of it stored since is recognised (see
	// nonces.go).
	After *int64 `json:"after"`
	// ReplyTo is the message a message replies to.
	ReplyTo *int64 `json:"reply_to"`
	// Emoji is the reaction of a react or unreact.
	Emoji *string `json:"emoji"`
	// Image is the id of an uploaded picture a message shows.
	Image *string `json:"image"`
	// Stopped, on a typing notice, says the user stopped without sending.
	Stopped bool `json:"stopped"`
	// ID is the message an edit, a delete, a react or an unreact changes.
	ID *int64 `json:"id"`
}
