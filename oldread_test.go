package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// heldReadStore counts the point reads of one event (how a frame that
// names a message is checked), and holds the first of them, once read,
// until release is closed: a slow disk under a read of an old message.
type heldReadStore struct {
	Store
	id      int64
	reads   atomic.Int32
	once    sync.Once
	entered chan struct{} // closed when the first read has read
	release chan struct{}
}

func (s *heldReadStore) Events(ctx context.Context, room string, after, before int64, limit int) ([]Event, error) {
	evs, err := s.Store.Events(ctx, room, after, before, limit)
	if after == s.id-1 && before == s.id+1 && limit == 1 {
		s.reads.Add(1)
		first := false
		s.once.Do(func() { first = true; close(s.entered) })
		if first {
			<-s.release
		}
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
			st := &heldReadStore{Store: MustOpenSQLite(t, dir), id: old.ID, entered: make(chan struct{}), release: make(chan struct{})}
			ts := MustStartStore(t, dir, st)
			release := sync.OnceFunc(func() { close(st.release) })
			t.Cleanup(release) // before the server closes, if the test fails
			tab1, _ := ts.MustDial(t, ck, "lobby", -1)
			tab2, _ := ts.MustDial(t, ck, "lobby", -1)
			bob, _ := ts.MustDial(t, ts.MustLogin(t, "bob"), "lobby", -1)

			tab1.send(reactFrame(typeReact, old.ID, "👀", "r"))
			select {
			case <-st.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the reaction did not read the old message")
			}
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
			release()

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
