package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Hot-path benchmarks. Timings come from `go test -bench`, never from test
// assertions; the side-by-side comparison with melody's example lives in
// `chat bench` and .ci/bench.

func BenchmarkEncodeEvent(b *testing.B) {
	e := Event{ID: 123456, Room: "lobby", Type: typeMessage, User: "小明", Text: strings.Repeat("hello, world ", 10), Nonce: "a1b2c3d4", TS: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		encode(e.wire())
	}
}

// BenchmarkStoreAppend compares one event per transaction with the room
// writer's batches; the batch/one ratio is what batching buys per event.
func BenchmarkStoreAppend(b *testing.B) {
	for _, c := range []struct {
		size int
		full bool
	}{{1, false}, {16, false}, {256, false}, {1, true}, {256, true}} {
		size := c.size
		b.Run(fmt.Sprintf("batch=%d/full=%v", size, c.full), func(b *testing.B) {
			st, err := OpenSQLite(b.TempDir(), c.full)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			evs := make([]Event, size)
			var id int64
			b.ReportAllocs()
			for b.Loop() {
				for i := range evs {
					id++
					// With a nonce, as the web client sends.
					evs[i] = Event{ID: id, Type: typeMessage, User: "alice", UserKey: "alice", Text: "a message of ordinary length", Nonce: fmt.Sprintf("%024x", id), TS: time.Now()}
				}
				if err := st.AppendEvents(context.Background(), "lobby", evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
		})
	}
}

// BenchmarkFanout1000 measures the whole path for one message to a room of
// 1000 real sockets: read, commit to SQLite, one encode, 1000 writes, and
// the clients' reads. ns/op is per message; deliveries/s counts sockets.
func BenchmarkFanout1000(b *testing.B) {
	const n = 1000
	ts := MustStart(b, b.TempDir(), func(c *Config) { c.PresenceGrace = defaultConfig().PresenceGrace })
	var received atomic.Int64
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		ck := ts.MustLogin(b, fmt.Sprintf("u%d", i))
		conn, _, err := ts.dial(ck, "fan", -1)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
		wg.Go(func() {
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				received.Add(int64(strings.Count(string(data), `"type":"message"`)))
			}
		})
	}
	defer func() { // before MustStart's cleanup closes the server
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	time.Sleep(2 * time.Second) // let the join storm pass
	sender := conns[0]
	msg := []byte(`{"type":"message","text":"fan-out benchmark message"}`)
	received.Store(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sender.WriteMessage(websocket.TextMessage, msg); err != nil {
			b.Fatal(err)
		}
		// Stay within the sockets' buffers: at most 8 messages ahead.
		for int64(i-8)*n > received.Load() {
			time.Sleep(10 * time.Microsecond)
		}
	}
	for received.Load() < int64(b.N)*n {
		time.Sleep(100 * time.Microsecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "deliveries/s")
}

// BenchmarkSearch is a search that finds nothing, so it scans the whole
// reach, in a room of searchReach messages half in Chinese, half in
// English. like is SQLite's own LIKE over the same rows, which ignores
// case for ASCII only: the fold/like ratio is what folding costs.
func BenchmarkSearch(b *testing.B) {
	st, err := OpenSQLite(b.TempDir(), false)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var batch []Event
	for id := int64(1); id <= searchReach; id++ {
		text := fmt.Sprintf("今天的会议改到下午三点，大家记得带上笔记本 %d", id)
		if id%2 == 0 {
			text = fmt.Sprintf("The meeting moved to three, bring your laptop %d", id)
		}
		batch = append(batch, Event{ID: id, Type: typeMessage, User: "alice", UserKey: "alice", Text: text, TS: time.Now()})
		if len(batch) == maxBatch || id == searchReach {
			if err := st.AppendEvents(ctx, "lobby", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for _, query := range []string{"nothing", "没有"} {
		b.Run("fold/"+query, func(b *testing.B) {
			for b.Loop() {
				if evs, err := st.Search(ctx, "lobby", query, 0, searchPage); err != nil || len(evs) != 0 {
					b.Fatal(evs, err)
				}
			}
		})
		b.Run("like/"+query, func(b *testing.B) {
			like := strings.Replace(searchSQL, "chat_holds(text, ?)", "text LIKE '%' || ? || '%'", 1)
			for b.Loop() {
				if evs, err := st.queryEvents(ctx, "lobby", searchPage, like, "lobby", 1<<62, "lobby", searchReach, query, searchPage); err != nil || len(evs) != 0 {
					b.Fatal(evs, err)
				}
			}
		})
	}
}
