package main

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func (ts *testServer) roomLoaded(name string) bool {
	ts.hub.mu.Lock()
	defer ts.hub.mu.Unlock()
	return ts.hub.rooms[name] != nil
}

// MustUnload waits until the room has unloaded itself.
func (ts *testServer) MustUnload(t *testing.T, name string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ts.roomLoaded(name); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("room %q still loaded", name)
		}
	}
}

// An empty room unloads itself; the next socket loads it again with its
// history and numbering intact.
func TestIdleRoomUnloadsAndReloads(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.RoomIdle = 20 * time.Millisecond; c.PresenceGrace = 20 * time.Millisecond })
	ck := ts.MustLogin(t, "alice")
	c, _ := ts.MustDial(t, ck, "quiet", -1)
	c.say("before", "n1")
	c.MustNextOf(typeMessage)
	// While someone is in it, the room stays.
	time.Sleep(100 * time.Millisecond)
	if !ts.roomLoaded("quiet") {
		t.Fatal("room unloaded with a socket open")
	}
	c.conn.Close()
	ts.MustUnload(t, "quiet") // after the grace: alice's leave is committed first

	c2, w := ts.MustDial(t, ck, "quiet", 0)
	if w.LastID != 4 {
		t.Fatalf("welcome after reload has last_id %d, want 4 (join, message, leave, and this join)", w.LastID)
	}
	for i, want := range []string{typeJoin, typeMessage, typeLeave, typeJoin} {
		if e := c2.MustNext(); e.Type != want || e.ID != int64(i+1) {
			t.Fatalf("event %d is %s %d, want %s %d", i, e.Type, e.ID, want, i+1)
		}
	}
	c2.say("after", "n2")
	if e := c2.MustNextOf(typeMessage); e.ID != 5 || e.Text != "after" {
		t.Errorf("message after reload %+v, want id 5", e)
	}
}

// Sockets coming and going while their room keeps unloading and loading
// again: every message is stored once, in order, with no gap.
func TestRoomUnloadRacesWithSockets(t *testing.T) {
	ts := MustStart(t, t.TempDir(), func(c *Config) { c.RoomIdle = time.Millisecond; c.PresenceGrace = time.Millisecond })
	const users, rounds = 2, 20
	var wg sync.WaitGroup
	for u := range users {
		ck := ts.MustLogin(t, fmt.Sprint("u", u))
		wg.Go(func() {
			for i := range rounds {
				c, _ := ts.MustDial(t, ck, "flaky", -1)
				nonce := fmt.Sprint(u, "-", i)
				c.say(nonce, nonce)
				for c.MustNextOf(typeMessage).Nonce != nonce {
				}
				c.conn.Close()
				// Pauses around the unload time (grace, then two idle
				// ticks), so sockets meet rooms unloading and reloading.
				time.Sleep(time.Duration(i%4) * 2 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	ck := ts.MustLogin(t, "reader")
	c, w := ts.MustDial(t, ck, "flaky", 0)
	messages := 0
	for id := int64(1); id <= w.LastID; id++ {
		e := c.MustNext()
		if e.ID != id {
			t.Fatalf("replay gave id %d, want %d", e.ID, id)
		}
		if e.Type == typeMessage {
			messages++
		}
	}
	if messages != users*rounds {
		t.Errorf("%d messages stored, want %d", messages, users*rounds)
	}
}
