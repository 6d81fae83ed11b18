package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func deleteFrame(id int64, nonce string) map[string]any {
	return map[string]any{"type": "delete", "id": id, "nonce": nonce}
}

// MustDeleted reads up to the next delete event and checks it.
func (c *wsClient) MustDeleted(ref int64, user string) ev {
	c.t.Helper()
	e := c.MustNextOf(typeDelete)
	if e.Ref != ref || e.User != user || e.ID <= ref {
		c.t.Fatalf("delete %+v, want %s taking back %d", e, user, ref)
	}
	return e
}

// MustGoneMessage has author say something and delete it, and waits for
// the delete on both sockets: a message that is there no more.
func MustGoneMessage(author, other *wsClient) ev {
	author.t.Helper()
	author.say("gone", "gone")
	gone := author.MustNextOf(typeMessage)
	author.send(deleteFrame(gone.ID, "d"))
	author.MustDeleted(gone.ID, gone.User)
	other.MustDeleted(gone.ID, gone.User)
	return gone
}

func TestDeleteMessage(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	aliceCk := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, aliceCk, "lobby", -1)
	bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)
	alice.say("my password is hunter2", "n1")
	m := bob.MustNextOf(typeMessage)

	alice.send(deleteFrame(m.ID, "d1"))
	alice.send(deleteFrame(m.ID, "d2")) // a double click: one delete
	d := bob.MustDeleted(m.ID, "alice")
	// The refusal is written at once, the delete with its commit: in
	// either order.
	for range 2 {
		switch e := alice.MustNextOf(typeError, typeDelete); {
		case e.Type == typeDelete && e.ID == d.ID:
		case e.Type == typeError && e.Code == "not_found" && e.Nonce == "d2":
		default:
			t.Errorf("alice got %+v, want the delete and not_found for d2", e)
		}
	}

	// Everyone who comes later sees it deleted, in its place: a fresh
	// socket answered from memory, the history API, and after a restart
	// the store.
	mustGone := func(what, body string) {
		t.Helper()
		if strings.Contains(body, "hunter2") || !strings.Contains(body, fmt.Sprintf(`{"type":"message","id":%d,"room":"lobby","user":"alice","ts":%q,"nonce":"n1","deleted":true}`, m.ID, m.TS)) {
			t.Errorf("%s: want message %d deleted, without its text:\n%s", what, m.ID, body)
		}
		if !strings.Contains(body, fmt.Sprintf(`"type":"delete","id":%d,"room":"lobby","user":"alice"`, d.ID)) {
			t.Errorf("%s: no delete event %d:\n%s", what, d.ID, body)
		}
	}
	carol, _ := ts.MustDial(t, ts.MustLogin(t, "carol"), "lobby", -1)
	seen := false
	for e := carol.MustNext(); e.Type != typeJoin || e.User != "carol"; e = carol.MustNext() {
		if e.ID == m.ID {
			seen = true
			if !e.Deleted || e.Text != "" {
				t.Errorf("carol's replay has the message as %+v", e)
			}
		}
	}
	if !seen {
		t.Errorf("carol's replay lacks message %d", m.ID)
	}
	_, body := ts.get(t, "/api/rooms/lobby/messages", aliceCk)
	mustGone("history", body)
	ts.MustClose(t)
	ts = MustStart(t, dir)
	_, body = ts.get(t, "/api/rooms/lobby/messages", aliceCk)
	mustGone("history after a restart", body)
}

// A message older than what the room keeps in memory is read from the
// store to be checked, and deleted there.
func TestDeleteOldMessage(t *testing.T) {
	dir := t.TempDir()
	ck, first := MustOldMessage(t, dir, "the first")
	ts := MustStart(t, dir)
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	alice.send(deleteFrame(first.ID, "d"))
	alice.MustDeleted(first.ID, "alice")
	_, body := ts.get(t, fmt.Sprintf("/api/rooms/lobby/messages?before=%d", first.ID+1), ck)
	if strings.Contains(body, "the first") || !strings.Contains(body, `"deleted":true`) {
		t.Errorf("history of the old message: %s", body)
	}
}

// MustOldMessage has alice say text in dir's #lobby, and then enough more
// that a server started on dir again keeps it only in the store: a
// restarted room holds its newest historyOnJoin in memory.
func MustOldMessage(t *testing.T, dir, text string) (*http.Cookie, ev) {
	t.Helper()
	ts := MustStart(t, dir)
	ck := ts.MustLogin(t, "alice")
	alice, _ := ts.MustDial(t, ck, "lobby", -1)
	alice.say(text, "first")
	first := alice.MustNextOf(typeMessage)
	alice.MustSayMany("later %d", historyOnJoin+10)
	ts.MustClose(t)
	return ck, first
}

// A delete whose commit failed is not kept for the next one, as a join is:
// its sender is told, and sends it again.
func TestDeleteFailedCommit(t *testing.T) {
	dir := t.TempDir()
	st := &brokenStore{Store: MustOpenSQLite(t, dir)}
	ts := MustStartStore(t, dir, st)
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	alice.say("oops", "n1")
	m := alice.MustNextOf(typeMessage)
	st.broken.Store(true)
	alice.send(deleteFrame(m.ID, "d1"))
	if e := alice.MustNextOf(typeError, typeDelete); e.Code != string(codeUnavailable) || e.Nonce != "d1" {
		t.Fatalf("a delete the store refused: %+v, want unavailable for d1", e)
	}
	st.broken.Store(false)
	alice.say("next", "n2")
	if e := alice.MustNextOf(typeMessage, typeDelete); e.Type != typeMessage || e.ID != m.ID+1 {
		t.Fatalf("after the store healed: %+v, want the next message as %d", e, m.ID+1)
	}
	alice.send(deleteFrame(m.ID, "d2"))
	alice.MustDeleted(m.ID, "alice")
}

// A deleted message's text is gone from the database file, not only from
// what the server answers (secure_delete), once the write-ahead log has
// been checkpointed back into it.
func TestDeletedTextLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	ts := MustStart(t, dir)
	alice, _ := ts.MustDial(t, ts.MustLogin(t, "alice"), "lobby", -1)
	// Long enough to need overflow pages, which the delete frees.
	secret := "correct-horse-battery-staple " + strings.Repeat("字", 1900)
	alice.say(secret, "n1")
	m := alice.MustNextOf(typeMessage)
	alice.say("kept-message-text", "n2")
	alice.MustNextOf(typeMessage)
	alice.send(deleteFrame(m.ID, "d"))
	alice.MustDeleted(m.ID, "alice")
	ts.MustClose(t) // the last connection's close checkpoints the WAL
	b, err := os.ReadFile(filepath.Join(dir, "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("kept-message-text")) {
		t.Fatalf("chat.db does not hold the message that was kept: is the WAL checkpointed?")
	}
	if bytes.Contains(b, []byte("correct-horse-battery-staple")) || bytes.Contains(b, []byte(strings.Repeat("字", 100))) {
		t.Errorf("chat.db still holds the deleted text")
	}
}
