package main

// A seeded random run of messages, replies, edits, deletes, reactions and
// topics by three people, with restarts, held to a model of what the room
// should hold: every socket sees the room's events once each, in id order;
// every op is stored or refused as the rules say; and each message reads
// the same as the model from the history API, from a fresh socket's replay
// and from a resume's, whether the room answers from memory or, after a
// restart, from the store.

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

type modelMessage struct {
	user, text string
	replyTo    int64
	edited     bool
	deleted    bool
	reactions  map[string][]string // emoji → names, in the order they reacted
}

// change applies a stored change to m: an edit's text (an older edit's
// is emptied in the store, and changes nothing), a delete, or user's
// react or unreact of emoji text, which puts the name last or takes it
// off.
func (m *modelMessage) change(typ, text, user string) {
	switch typ {
	case typeEdit:
		if text != "" {
			m.text, m.edited = text, true
		}
	case typeDelete:
		m.text, m.edited, m.deleted, m.reactions = "", false, true, map[string][]string{}
	case typeReact, typeUnreact:
		m.reactions[text] = slices.DeleteFunc(m.reactions[text], func(n string) bool { return n == user })
		if typ == typeReact {
			m.reactions[text] = append(m.reactions[text], user)
		}
	}
}

// reactionList is m's reactions as "emoji:name,name", in reactionSet's
// order, leaving out an emoji nobody has: as reactionList lists a
// message's reactions from the server.
func (m *modelMessage) reactionList() []string {
	var list []string
	for _, em := range strings.Fields(reactionSet) {
		if len(m.reactions[em]) > 0 {
			list = append(list, em+":"+strings.Join(m.reactions[em], ","))
		}
	}
	return list
}

// reactionList is a message's reactions from the server, as
// modelMessage.reactionList lists a model's.
func reactionList(rs []Reaction) []string {
	var list []string
	for _, r := range rs {
		list = append(list, r.Emoji+":"+strings.Join(r.Users, ","))
	}
	return list
}

// modelPerson is one of the three, with their socket and what it saw.
type modelPerson struct {
	name string
	ck   *http.Cookie
	c    *wsClient
	last int64 // the newest id the socket was shown
}

// MustCatchUp reads p's socket up to id, and fails on a gap or a repeat.
func (p *modelPerson) MustCatchUp(t *testing.T, id int64) []ev {
	t.Helper()
	var got []ev
	for p.last < id {
		e := p.c.MustNext()
		if e.ID == 0 {
			continue // presence, typing: not stored
		}
		if e.ID != p.last+1 {
			t.Fatalf("%s's socket: id %d (%s) after %d", p.name, e.ID, e.Type, p.last)
		}
		p.last = e.ID
		got = append(got, e)
	}
	return got
}

func TestRandomRunAgreesWithModel(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) { runModel(t, seed, 150) })
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	dir := t.TempDir()
	// Presence outlasts the restarts, so they add no joins or leaves.
	grace := func(c *Config) { c.PresenceGrace = time.Minute }
	ts := MustStart(t, dir, grace)
	people := []*modelPerson{{name: "alice"}, {name: "bob"}, {name: "carol"}}
	var last int64
	for _, p := range people {
		p.ck = ts.MustLogin(t, p.name)
		var w ev
		p.c, w = ts.MustDial(t, p.ck, "lobby", -1)
		p.last = max(0, w.LastID-historyOnJoin) // a fresh socket's replay
		last = w.LastID
	}
	for _, p := range people {
		p.MustCatchUp(t, last)
	}
	messages := map[int64]*modelMessage{}
	var ids []int64 // messages, oldest first
	topic := ""
	emoji := []string{"👍", "🎉", "👀"}

	for step := range steps {
		p := people[rng.IntN(len(people))]
		nonce := fmt.Sprint("n", step)
		var frame map[string]any
		var refused string // the error code the model expects, or ""
		var want string    // the stored event's type, if any
		pick := func() (int64, *modelMessage) {
			id := ids[rng.IntN(len(ids))]
			return id, messages[id]
		}
		switch k := rng.IntN(100); {
		case k < 3 && step > 0:
			last = restartModel(t, &ts, dir, grace, people)
			checkModel(t, ts, people[0], messages, topic, last)
			continue
		case k < 40 || len(ids) == 0:
			frame = map[string]any{"type": "message", "text": "m" + nonce, "nonce": nonce}
			if len(ids) > 0 && rng.IntN(3) == 0 {
				id, _ := pick()
				frame["reply_to"] = id
			}
			want = typeMessage
		case k < 55:
			id, m := pick()
			frame = map[string]any{"type": "edit", "id": id, "text": "e" + nonce, "nonce": nonce}
			refused, want = changeRefusal(m, p.name), typeEdit
		case k < 65:
			id, m := pick()
			frame = map[string]any{"type": "delete", "id": id, "nonce": nonce}
			refused, want = changeRefusal(m, p.name), typeDelete
		case k < 92:
			id, m := pick()
			e := emoji[rng.IntN(len(emoji))]
			// Asking for what is so already is answered with nothing;
			// the run asks only for a change.
			want = typeReact
			if slices.Contains(m.reactions[e], p.name) {
				want = typeUnreact
			}
			frame = map[string]any{"type": want, "id": id, "emoji": e, "nonce": nonce}
			if m.deleted {
				refused = string(codeNotFound)
			}
		default:
			text := "t" + nonce
			if topic != "" && rng.IntN(4) == 0 {
				text = ""
			}
			frame = map[string]any{"type": "topic", "text": text, "nonce": nonce}
			want = typeTopic
		}
		p.c.send(frame)
		if refused != "" {
			e := p.c.MustNextOf(typeError, want)
			if e.Type != typeError || e.Code != refused || e.Nonce != nonce {
				t.Fatalf("step %d, %s sent %v: got %+v, want error %s", step, p.name, frame, e, refused)
			}
			continue
		}
		last++
		got := p.MustCatchUp(t, last)
		e := got[len(got)-1]
		if e.Type != want || e.User != p.name {
			t.Fatalf("step %d, %s sent %v: stored %+v", step, p.name, frame, e)
		}
		for _, o := range people {
			if o != p {
				if seen := o.MustCatchUp(t, last); seen[len(seen)-1].Type != want {
					t.Fatalf("step %d: %s was shown %+v", step, o.name, seen[len(seen)-1])
				}
			}
		}
		switch m := messages[e.Ref]; want {
		case typeMessage:
			messages[e.ID] = &modelMessage{user: p.name, text: e.Text, replyTo: e.ReplyTo, reactions: map[string][]string{}}
			ids = append(ids, e.ID)
		case typeEdit, typeDelete:
			m.change(want, e.Text, p.name)
		case typeReact, typeUnreact:
			m.change(want, e.Emoji, p.name)
		case typeTopic:
			topic = e.Text
		}
	}
	checkModel(t, ts, people[0], messages, topic, last)
	last = restartModel(t, &ts, dir, grace, people)
	checkModel(t, ts, people[0], messages, topic, last)
}

// changeRefusal is the error an edit or delete of m by name gets, or "".
func changeRefusal(m *modelMessage, name string) string {
	switch {
	case m.user != name:
		return string(codeForbidden)
	case m.deleted:
		return string(codeNotFound)
	}
	return ""
}

// restartModel restarts the server and resumes each person's socket from
// the last id it was shown: the replay must go on from there, once each.
func restartModel(t *testing.T, ts **testServer, dir string, grace func(*Config), people []*modelPerson) int64 {
	t.Helper()
	for _, p := range people {
		p.c.conn.Close()
	}
	(*ts).MustClose(t)
	*ts = MustStart(t, dir, grace)
	var last int64
	for _, p := range people {
		var w ev
		p.c, w = (*ts).MustDial(t, p.ck, "lobby", p.last)
		p.MustCatchUp(t, w.LastID)
		last = w.LastID
	}
	return last
}

// checkModel compares every message of the model with the history API,
// a fresh socket's replay (the newest historyOnJoin events) and a resume
// from 120 events back, and the topic with a welcome's.
func checkModel(t *testing.T, ts *testServer, p *modelPerson, messages map[int64]*modelMessage, topic string, last int64) {
	t.Helper()
	compare := func(where string, e ev) {
		t.Helper()
		m := messages[e.ID]
		if e.Type != typeMessage || m == nil {
			return
		}
		reactions, want := reactionList(e.Reactions), m.reactionList()
		if e.User != m.user || e.Text != m.text || e.ReplyTo != m.replyTo || (e.Edited != "") != m.edited || e.Deleted != m.deleted || !slices.Equal(reactions, want) {
			t.Errorf("%s: message %d is %+v; the model has %+v, reactions %v (got %v)", where, e.ID, e, *m, want, reactions)
		}
	}
	for _, e := range MustHistory(t, ts, p.ck, "lobby", 0, last+1) {
		compare("history", e)
	}
	for _, since := range []int64{-1, max(0, last-120)} {
		c, w := ts.MustDial(t, p.ck, "lobby", since)
		if got := ""; w.Topic != nil {
			got = w.Topic.Text
			if got != topic {
				t.Errorf("welcome's topic %q, the model's %q", got, topic)
			}
		} else if topic != "" {
			t.Errorf("welcome has no topic, the model has %q", topic)
		}
		from := since + 1
		if since < 0 {
			from = max(1, last-historyOnJoin+1)
		}
		for id := from; id <= last; id++ {
			e := c.MustNext()
			for e.ID == 0 {
				e = c.MustNext()
			}
			if e.ID != id {
				t.Fatalf("replay since %d: id %d, want %d", since, e.ID, id)
			}
			compare(fmt.Sprint("replay since ", since), e)
		}
		c.conn.Close()
	}
}
