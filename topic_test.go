package main

import (
	"strings"
	"testing"
	"time"
)

func topicFrame(text, nonce string) map[string]any {
	return map[string]any{"type": "topic", "text": text, "nonce": nonce}
}

// A topic set by anyone reaches everyone at once, stays in the history,
// and comes with every welcome, after a restart too; an empty one clears
// it.
func TestTopic(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk := ts.MustLogin(t, "alice")
	alice, w := ts.MustDial(t, aliceCk, "lobby", -1)
	if w.Topic != nil {
		t.Errorf("a new room's welcome has topic %+v", w.Topic)
	}
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	bob.send(topicFrame("  Release day: v2 ships at 3pm  ", "t1"))
	e := alice.MustNextOf(typeTopic)
	if e.User != "bob" || e.Text != "Release day: v2 ships at 3pm" || e.ID == 0 || e.Nonce != "" {
		t.Fatalf("topic event %+v", e)
	}
	mustTopic := func(what string, got *topicInfo, text string) {
		t.Helper()
		if got == nil || got.Text != text || got.User != "bob" || got.TS == "" {
			t.Errorf("%s: topic %+v, want %q by bob", what, got, text)
		}
	}
	_, w = ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	mustTopic("a welcome", w.Topic, "Release day: v2 ships at 3pm")
	// A newer one wins, and a room loaded from the store after a
	// restart has it.
	bob.send(topicFrame("Shipped 🎉", "t2"))
	alice.MustNextOf(typeTopic)
	ts.MustClose(t)
	ts = MustStart(t, dir)
	alice, w = ts.MustDial(t, aliceCk, "lobby", -1)
	mustTopic("a welcome after a restart", w.Topic, "Shipped 🎉")
	found := 0
	for _, h := range MustHistory(t, ts, aliceCk, "lobby", 0, 1<<40) {
		if h.Type == typeTopic {
			found++
		}
	}
	if found != 2 {
		t.Errorf("history has %d topic events, want 2", found)
	}

	// Empty clears it. (alice's replay has bob's two first.)
	alice.send(topicFrame(" ", "t3"))
	e = alice.MustNextOf(typeTopic)
	for ; e.User == "bob"; e = alice.MustNextOf(typeTopic) {
	}
	if e.Text != "" || e.User != "alice" {
		t.Errorf("clearing: %+v", e)
	}
	if _, w = ts.MustDial(t, ts.MustLogin(t, "dave"), "lobby", -1); w.Topic != nil {
		t.Errorf("a welcome after the topic was cleared has %+v", w.Topic)
	}
}

func TestTopicRefused(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	alice.send(topicFrame("our topic", "t"))
	alice.MustNextOf(typeTopic)
	bob.MustNextOf(typeTopic)
	alice.MustRefuse(t, []refusal{
		{"too long", topicFrame(strings.Repeat("字", maxTopicLen+1), "x"), "too_long"},
		{"no text", map[string]any{"type": "topic", "nonce": "x"}, "invalid"},
		{"text not a string", map[string]any{"type": "topic", "text": 1, "nonce": "x"}, "invalid"},
		{"the same topic", topicFrame(" our topic ", "x"), "invalid"},
	}, typeTopic)
	bob.expectQuiet(200*time.Millisecond, typePresence, typeJoin)
	// The longest goes.
	longest := strings.Repeat("字", maxTopicLen)
	alice.send(topicFrame(longest, "t"))
	if e := bob.MustNextOf(typeTopic); e.Text != longest {
		t.Errorf("a topic of %d characters: %+v, want it set", maxTopicLen, e)
	}
}

// The same topic twice in one batch is set once: the second is compared
// with the topic the batch will make, not the one stored before it.
func TestSameTopicTwiceInABatch(t *testing.T) {
	dir := t.TempDir()
	ts, h := MustStartHeld(t, dir, "hold")
	ck := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	alice.say("hold", "h")
	h.MustEnter(t, "the commit of hold")
	alice.send(topicFrame("twice", "t1"))
	alice.send(topicFrame("twice", "t2"))
	MustEventually(t, "both topic frames queued", func() bool { return ts.queued("lobby") == 2 })
	h.release()
	if e := alice.MustNextOf(typeError, typeTopic); e.Type != typeTopic || e.Text != "twice" {
		t.Fatalf("got %+v, want the topic", e)
	}
	if e := alice.MustNextOf(typeError, typeTopic); e.Type != typeError || e.Code != string(codeInvalid) || e.Nonce != "t2" {
		t.Errorf("the second: %+v, want invalid for t2", e)
	}
	var topics int
	for _, e := range MustHistory(t, ts, ck, "lobby", 0, 1<<40) {
		if e.Type == typeTopic {
			topics++
		}
	}
	if topics != 1 {
		t.Errorf("%d topic events stored, want 1", topics)
	}
}
