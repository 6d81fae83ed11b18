package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// heldReadStore counts the point reads of one event (how a frame that
// names a message is checked), and holds the first of them at its gate
// once it has read: a slow disk under a read of an old message, which
// returns what was so before the hold.
type heldReadStore struct {
	Store
	*gate
	id    int64
	reads atomic.Int32
}

func (s *heldReadStore) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	evs, err := s.Store.Events(ctx, room, after, before, limit)
	if after == s.id-1 && before == s.id+1 && limit == 1 {
		s.reads.Add(1)
		s.hold()
	}
	return evs, err
}

// A frame that names a message older than the room's memory has it read
// from the store by its sender's reader, not by the room's writer: while
// the read is slow, the room goes on for everyone else, and the writer
// takes what was read unless an old message was changed meanwhile, when
// it reads it again rather than act on what is no longer so.
func TestOldMessageReadBySender(t *testing.T) {
	for _, tc := range []struct {
		name    string
		deleted bool  // alice's other tab takes the old message back while it is read
		reads   int32 // point reads of the old message in all
	}{
		// Read once, by the reader of the socket that reacts.
		{name: "nothing changed meanwhile", reads: 1},
		// The delete's reader, the reaction's, and the writer's again.
		{name: "deleted meanwhile", deleted: true, reads: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ck, old := MustOldMessage(t, dir, "an old one")
			st := &heldReadStore{Store: MustOpenSQLite(t, dir), gate: newGate(), id: old.ID}
			ts := MustStartStore(t, dir, st)
			t.Cleanup(st.release)
			tab1, _ := ts.MustDial(t, ck, "lobby", -1)
			tab2, _ := ts.MustDial(t, ck, "lobby", -1)
			bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)

			tab1.send(reactFrame(typeReact, old.ID, "👀", "r"))
			st.MustEnter(t, "the reaction's read of the old message")
			bob.say("meanwhile", "m")
			for _, c := range []*wsClient{tab1, tab2, bob} {
				// Past the replay; MustNextOf fails the test if the room
				// stalls for the read.
				for c.MustNextOf(typeMessage).Text != "meanwhile" {
				}
			}
			if tc.deleted {
				tab2.send(deleteFrame(old.ID, "d"))
				tab2.MustDeleted(old.ID, "alice")
			}
			st.release()

			e := tab1.MustNextOf(typeReact, typeError)
			h := MustHistory(t, ts, ck, "lobby", old.ID-1, old.ID+1)
			if len(h) != 1 {
				t.Fatalf("history of the old message: %+v", h)
			}
			if tc.deleted {
				if e.Type != typeError || e.Code != string(codeNotFound) || e.Nonce != "r" {
					t.Errorf("a reaction to a message deleted while it was read: %+v, want not_found for r", e)
				}
				if !h[0].Deleted || len(h[0].Reactions) != 0 {
					t.Errorf("history of the deleted message: %+v", h[0])
				}
			} else {
				if e.Type != typeReact || e.Ref != old.ID || e.User != "alice" {
					t.Errorf("a reaction to an old message: %+v", e)
				}
				if reactionsJSON(h[0].Reactions) != `[{"emoji":"👀","users":["alice"]}]` {
					t.Errorf("history of the old message: %+v", h[0])
				}
			}
			if n := st.reads.Load(); n != tc.reads {
				t.Errorf("the old message was read %d times, want %d", n, tc.reads)
			}
		})
	}
}

// Eight sockets, two per person, react, unreact, edit and delete 40
// messages older than the room's memory all at once, so that what each
// sender's reader reads races the commits of the others. The room must
// never act on a stale read: the stored events never put on a reaction
// that is on already, take off one that is off, or change a message
// after its delete, and every message is stored as its events make it.
// Without the count of changes (see readOld) every seed fails.
func TestConcurrentChangesToOldMessages(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			names := []string{"alice", "bob", "carol", "dave"}
			ts := MustStart(t, dir)
			var ids []int64
			cookies := map[string]*http.Cookie{}
			for _, n := range names {
				cookies[n] = ts.MustLogin(t, n)
				c, _ := ts.MustDial(t, cookies[n], "lobby", -1)
				for i := range 10 {
					ids = append(ids, c.MustSay(fmt.Sprintf("%s %d", n, i), fmt.Sprint(i)).ID)
				}
				c.conn.Close()
			}
			// A restarted room keeps its newest historyOnJoin in memory.
			c, _ := ts.MustDial(t, ts.MustLogin(t, "erin"), "lobby", -1)
			c.MustSayMany("later %d", historyOnJoin+10)
			ts.MustClose(t)

			// Slow sockets are not what this tests: on a loaded machine
			// the test's readers can fall 8 frames behind the room, and
			// the server then closes the socket with 1013, as it should.
			ts = MustStart(t, dir, func(c *Config) { c.SocketBuffer = 1024 })
			emoji := []string{"👍", "❤️", "😂"}
			var wg sync.WaitGroup
			for i, n := range names {
				for tab := range 2 {
					c, _ := ts.MustDial(t, cookies[n], "lobby", -1)
					r := rand.New(rand.NewPCG(seed, uint64(2*i+tab)))
					done := fmt.Sprintf("done %s %d", n, tab)
					wg.Go(func() {
						for j := range 300 {
							id, nonce := ids[r.IntN(len(ids))], fmt.Sprintf("%d.%d", tab, j)
							switch k := r.IntN(20); {
							case k < 9:
								c.send(reactFrame(typeReact, id, emoji[r.IntN(3)], nonce))
							case k < 17:
								c.send(reactFrame(typeUnreact, id, emoji[r.IntN(3)], nonce))
							case k < 19:
								c.send(editFrame(id, "edited "+nonce, nonce))
							default:
								c.send(deleteFrame(id, nonce))
							}
						}
						c.say(done, done)
					})
					// A socket's frames are taken in order: once its last
					// message is back, all of its changes are done.
					wg.Go(func() {
						for c.MustNextOf(typeMessage).Text != done {
						}
					})
				}
			}
			wg.Wait()
			ts.MustClose(t)
			MustAgreeWithTheirEvents(t, dir, "lobby")
		})
	}
}

// MustAgreeWithTheirEvents checks room's stored events, oldest first:
// each change was one that changed something, and each message is as
// its changes leave it. Text replaced by a later edit is not kept, so
// an edit's text is checked only where it is the newest.
func MustAgreeWithTheirEvents(t *testing.T, dir, room string) {
	t.Helper()
	sq := MustOpenSQLite(t, dir)
	defer sq.Close()
	evs, err := sq.EventsFrom(context.Background(), room, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	messages := map[int64]*modelMessage{}
	changes := 0
	for _, e := range evs {
		if e.Type == typeMessage {
			messages[e.ID] = &modelMessage{text: e.Text, reactions: map[string][]string{}}
			continue
		}
		m := messages[e.Ref]
		if changeVerb(e.Type) == "" || m == nil {
			continue
		}
		changes++
		on := slices.Contains(m.reactions[e.Text], e.User)
		if m.deleted {
			t.Errorf("event %d (%s by %s) changes message %d after its delete", e.ID, e.Type, e.User, e.Ref)
		}
		switch {
		case e.Type == typeReact && on:
			t.Errorf("react %d: %s had %s on message %d already", e.ID, e.User, e.Text, e.Ref)
		case e.Type == typeUnreact && !on:
			t.Errorf("unreact %d: %s had no %s on message %d", e.ID, e.User, e.Text, e.Ref)
		}
		m.change(e.Type, e.Text, e.User)
	}
	if changes == 0 {
		t.Fatal("no changes were stored")
	}
	for _, e := range evs {
		m := messages[e.ID]
		if e.Type != typeMessage || m == nil {
			continue
		}
		got, want := reactionList(e.Reactions), m.reactionList()
		if e.Text != m.text || e.deleted() != m.deleted || !slices.Equal(got, want) {
			t.Errorf("message %d is stored as %q (deleted %v) with %v; its events make it %q (deleted %v) with %v",
				e.ID, e.Text, e.deleted(), got, m.text, m.deleted, want)
		}
	}
}

// A frame that names a message the room keeps in memory reads nothing
// from the store: only one older than the room's memory is read, by its
// sender's reader (above). Replies and reactions are mostly to recent
// messages, and a read for each would put the disk in their path. The
// room's memory is what it loaded with it (after a restart, say) and
// what was said since.
func TestRecentMessageNeedsNoStoreRead(t *testing.T) {
	for _, loaded := range []bool{false, true} {
		t.Run(map[bool]string{false: "said since the load", true: "loaded with the room"}[loaded], func(t *testing.T) {
			dir := t.TempDir()
			var ck *http.Cookie
			var m ev
			if loaded {
				first := MustStart(t, dir)
				ck = first.MustLogin(t, "alice")
				c, _ := first.MustDial(t, ck, "lobby", -1)
				m = c.MustSay("recent", "n1")
				first.MustClose(t)
			}
			st := &countingStore{Store: MustOpenSQLite(t, dir), reads: map[string]int{}}
			ts := MustStartStore(t, dir, st)
			if ck == nil {
				ck = ts.MustLogin(t, "alice")
			}
			c, _ := ts.MustDial(t, ck, "lobby", -1)
			if !loaded {
				m = c.MustSay("recent", "n1")
			}
			loads := st.readsOf("lobby")
			c.send(replyFrame("a reply", "n2", m.ID))
			c.MustNextOf(typeMessage)
			c.send(reactFrame(typeReact, m.ID, "👍", "r1"))
			c.MustNextOf(typeReact)
			c.send(editFrame(m.ID, "recent, edited", "e1"))
			c.MustEdited(m.ID, "alice", "recent, edited")
			c.send(deleteFrame(m.ID, "d1"))
			c.MustNextOf(typeDelete)
			if n := st.readsOf("lobby"); n != loads {
				t.Errorf("a reply, a reaction, an edit and a delete of a message in memory read the store %d times; want none", n-loads)
			}
		})
	}
}
