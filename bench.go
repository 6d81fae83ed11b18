package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// `chat bench` is a load generator in the spirit of redis-benchmark: it
// starts the server as a child process (or targets -url), connects real
// clients through the real login, sends timestamped messages and reports
// deliveries, loss, latency and the server's memory and CPU from /proc.

type benchRun struct {
	mode     string
	raw      bool
	clients  int
	senders  int
	rate     float64
	duration time.Duration
	room     string
	window   int
	roomSize int
	asJSON   bool

	httpBase, wsURL string
	loopback        bool
	pid             int
	http            *http.Client

	inWindow   atomic.Int64 // deliveries received inside the send window
	recordFrom atomic.Int64
	recordTo   atomic.Int64
}

// benchReport is what a run prints (as text, or as JSON with -json).
type benchReport struct {
	Mode            string             `json:"mode"`
	Target          string             `json:"target"`
	Clients         int                `json:"clients"`
	Senders         int                `json:"senders,omitempty"`
	Rate            float64            `json:"rate,omitempty"`
	Seconds         float64            `json:"seconds"`
	ConnectPerSec   float64            `json:"connect_per_sec"`
	Sent            int64              `json:"sent,omitempty"`
	Expected        int64              `json:"expected,omitempty"`
	Delivered       int64              `json:"delivered,omitempty"`
	Lost            int64              `json:"lost"`
	Resumed         int64              `json:"resumed,omitempty"`
	Closed1013      int64              `json:"closed_1013,omitempty"`
	ClosedOther     int64              `json:"closed_other,omitempty"`
	Resent          int64              `json:"resent,omitempty"`
	Duplicates      int64              `json:"duplicates,omitempty"`
	Gaps            int64              `json:"gaps,omitempty"`
	Dropped         int64              `json:"dropped_connections"`
	DeliveriesPerS  float64            `json:"deliveries_per_sec,omitempty"`
	LatencyMS       map[string]float64 `json:"latency_ms,omitempty"` // p50, p90, p99, max
	RSSBeforeKB     int64              `json:"rss_before_kb"`
	RSSAfterKB      int64              `json:"rss_after_kb"`
	RSSPerConnKB    float64            `json:"rss_per_conn_kb"`
	ServerCPUSecond float64            `json:"server_cpu_seconds"`
}

func runBench(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	b := &benchRun{}
	fs.StringVar(&b.mode, "mode", "fanout", "fanout: senders talk, everyone receives; idle: hold connections and measure memory")
	target := fs.String("url", "", "a running server (http://host:port, or ws://host:port/ws with -raw); default: start this binary as a child")
	fs.IntVar(&b.pid, "pid", 0, "with -url: the server's pid, for RSS and CPU from /proc")
	fs.BoolVar(&b.raw, "raw", false, "plain text frames, no login (to drive a baseline server)")
	fs.IntVar(&b.clients, "clients", 200, "connections")
	fs.IntVar(&b.senders, "senders", 10, "clients that send (fanout)")
	fs.Float64Var(&b.rate, "rate", 100, "total messages per second across senders; 0 = saturation: each sender keeps -window messages in flight")
	fs.IntVar(&b.window, "window", 16, "with -rate 0: messages each sender may have sent and not yet seen delivered back")
	fs.DurationVar(&b.duration, "duration", 10*time.Second, "how long to send (fanout) or hold (idle)")
	fs.StringVar(&b.room, "room", "bench", "room to use")
	fs.IntVar(&b.roomSize, "room-size", 100, "idle mode: clients per room (room-0, room-1, ...); fanout uses one room")
	fs.BoolVar(&b.asJSON, "json", false, "print the report as JSON")
	allowRemote := fs.Bool("allow-remote", false, "allow a -url that is not on loopback")
	summary := fs.String("summary", "", "print the side-by-side table of a .ci/bench run from its JSON reports in this directory, and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *summary != "" {
		return benchSummary(*summary, stdout)
	}
	if b.clients < 1 || b.senders < 0 || b.senders > b.clients || b.rate < 0 || b.duration <= 0 || (b.mode != "fanout" && b.mode != "idle") {
		return errors.New("bench: want -mode fanout|idle, -clients >= 1, 0 <= -senders <= -clients, -rate >= 0, -duration > 0")
	}
	if b.duration > 10*time.Minute {
		return errors.New("bench: -duration is at most 10m")
	}
	b.http = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

	if *target == "" {
		if b.raw {
			return errors.New("bench: -raw needs -url (the baseline server)")
		}
		stop, err := b.startChild()
		if err != nil {
			return err
		}
		defer stop()
	} else if err := b.setTarget(*target, *allowRemote); err != nil {
		return err
	}

	rep, err := b.run()
	if err != nil {
		return err
	}
	if b.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stdout, rep)
	return nil
}

func (b *benchRun) setTarget(raw string, allowRemote bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("bench: bad -url %q", raw)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	b.loopback = host == "localhost" || (ip != nil && ip.IsLoopback())
	if !b.loopback && !allowRemote {
		return fmt.Errorf("bench: %s is not a loopback address; pass -allow-remote to load another host you own", host)
	}
	switch u.Scheme {
	case "ws", "wss":
		b.wsURL = raw
		b.httpBase = "http" + strings.TrimPrefix(u.Scheme, "ws") + "://" + u.Host
	default:
		b.httpBase = strings.TrimRight(raw, "/")
		b.wsURL = "ws" + strings.TrimPrefix(b.httpBase, "http") + "/ws"
	}
	return nil
}

// startChild runs this binary as the server: a temporary DATA_DIR, a free
// loopback port, none of the rate or per-address limits (the bench is a
// handful of loopback addresses logging in thousands). It is a separate
// process so that server and load generator each get the whole open-files
// limit.
func (b *benchRun) startChild() (stop func(), err error) {
	// The free port we pick can be taken before the child binds it (our
	// own clients' source ports live in the same space): try again.
	for range 3 {
		if stop, err = b.startChildOnce(); err == nil {
			return stop, nil
		}
	}
	return nil, err
}

func (b *benchRun) startChildOnce() (stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "chat-bench-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(self, "serve")
	cmd.Env = append(os.Environ(), "HOST=127.0.0.1", "PORT="+port, "DATA_DIR="+dir, "MSG_RATE=0", "MSG_RATE_PER_IP=0", "LOGIN_RATE=0", "SOCKETS_PER_IP=0", "ROOM_RATE=0", "HISTORY_RATE=0", "LOG_LEVEL=ERROR")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop = func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		os.RemoveAll(dir)
	}
	b.pid = cmd.Process.Pid
	b.setTarget("http://127.0.0.1:"+port, false)
	for range 100 {
		if resp, err := b.http.Get(b.httpBase + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	return nil, fmt.Errorf("bench: the child server did not become healthy: %s", strings.TrimSpace(stderr.String()))
}

func (b *benchRun) run() (*benchReport, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.duration+5*time.Minute)
	defer cancel()
	rep := &benchReport{Mode: b.mode, Target: b.httpBase, Clients: b.clients, Seconds: b.duration.Seconds()}
	if b.raw {
		rep.Target = b.wsURL + " (raw)"
	}
	rssBefore, cpuBefore := procStats(b.pid)
	rep.RSSBeforeKB = rssBefore

	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	clients, connectTook, err := b.connect(ctx, func(c *benchClient) {
		readers.Go(func() { c.read(readCtx) })
	})
	defer func() {
		stopReading()
		for _, c := range clients {
			if c != nil {
				c.conn.Close()
			}
		}
		readers.Wait()
	}()
	if err != nil {
		return nil, err
	}
	rep.ConnectPerSec = float64(b.clients) / connectTook.Seconds()

	if b.mode == "idle" {
		time.Sleep(b.duration)
	} else {
		rep.Senders, rep.Rate = b.senders, b.rate
		rep.Sent = b.send(clients[:b.senders])
		rep.Expected = rep.Sent * int64(b.clients)
		b.drain(clients, rep.Expected)
		rep.DeliveriesPerS = float64(b.inWindow.Load()) / b.duration.Seconds()
	}

	rssAfter, cpuAfter := procStats(b.pid)
	rep.RSSAfterKB = rssAfter
	rep.ServerCPUSecond = cpuAfter - cpuBefore
	rep.RSSPerConnKB = float64(rep.RSSAfterKB-rssBefore) / float64(b.clients)
	var h histogram
	for _, c := range clients {
		rep.Delivered += c.delivered.Load()
		rep.Resumed += c.resumed.Load()
		rep.Closed1013 += c.closes.Load()
		rep.ClosedOther += c.abnormal.Load()
		rep.Resent += c.resent.Load()
		rep.Duplicates += c.duplicates.Load()
		rep.Gaps += c.gaps.Load()
		if c.dropped.Load() {
			rep.Dropped++
		}
		c.histMu.Lock() // its reader may still be running
		h.merge(&c.hist)
		c.histMu.Unlock()
	}
	rep.Lost = rep.Expected - rep.Delivered
	if h.n > 0 {
		ms := func(q float64) float64 { return float64(h.quantile(q).Microseconds()) / 1000 }
		rep.LatencyMS = map[string]float64{"p50": ms(.5), "p90": ms(.9), "p99": ms(.99), "max": float64(h.max) / 1e6}
	}
	return rep, nil
}

// connect logs in and dials every client, 32 at a time, and starts each
// one's reader at once (unread sockets would fill up during the join storm).
func (b *benchRun) connect(ctx context.Context, started func(*benchClient)) ([]*benchClient, time.Duration, error) {
	start := time.Now()
	clients := make([]*benchClient, b.clients)
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= b.clients || ctx.Err() != nil {
					return
				}
				c := &benchClient{b: b, id: i, idStr: strconv.Itoa(i)}
				err := error(nil)
				if !b.raw {
					err = c.login(ctx)
				}
				if err == nil {
					err = c.dial(ctx)
				}
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("bench: client %d: %w", i, err) })
					return
				}
				clients[i] = c
				started(c)
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return clients, 0, firstErr
	}
	took := time.Since(start)
	// Let the join storm settle so it is not counted as fan-out.
	time.Sleep(time.Second + time.Duration(b.clients/100)*100*time.Millisecond)
	return clients, took, nil
}

// send runs the senders for the duration at the total rate (0: as fast as
// the server takes them) and returns how many messages were sent.
func (b *benchRun) send(senders []*benchClient) int64 {
	var sent atomic.Int64
	start := time.Now()
	b.recordFrom.Store(start.UnixNano())
	b.recordTo.Store(start.Add(b.duration).UnixNano())
	end := start.Add(b.duration)
	var wg sync.WaitGroup
	for i, c := range senders {
		wg.Go(func() {
			var interval time.Duration
			if b.rate > 0 {
				interval = time.Duration(float64(len(senders)) / b.rate * float64(time.Second))
			}
			next := start.Add(interval * time.Duration(i) / time.Duration(len(senders)))
			for seq := 0; ; seq++ {
				if interval > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(interval)
				} else {
					// Closed loop: wait for a slot. A message the server
					// dropped never comes back, so a slot stuck for a
					// second is given up as lost.
					stuck := time.Now()
					for c.inflight.Load() >= int64(b.window) && time.Now().Before(end) {
						if time.Since(stuck) > time.Second {
							c.inflight.Store(0)
							break
						}
						time.Sleep(200 * time.Microsecond)
					}
				}
				if time.Now().After(end) {
					return
				}
				c.inflight.Add(1)
				// A failed write means the socket closed: the reader
				// resumes, and the message goes again after the replay.
				c.send(seq)
				sent.Add(1)
			}
		})
	}
	wg.Wait()
	return sent.Load()
}

// drain waits until every expected delivery arrived, or nothing has arrived
// for 5 seconds (what is missing then is lost).
func (b *benchRun) drain(clients []*benchClient, expected int64) {
	var last int64 = -1
	idle := time.Now()
	for time.Since(idle) < 5*time.Second {
		var got int64
		for _, c := range clients {
			got += c.delivered.Load()
		}
		if got >= expected {
			return
		}
		if got != last {
			last, idle = got, time.Now()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procStats reads a process's resident memory (KB) and CPU seconds.
func procStats(pid int) (rssKB int64, cpu float64) {
	if pid == 0 {
		return 0, 0
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				rssKB, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which is in parentheses.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 13 {
				ut, _ := strconv.ParseFloat(f[11], 64)
				st, _ := strconv.ParseFloat(f[12], 64)
				cpu = (ut + st) / 100 // USER_HZ is 100 on Linux
			}
		}
	}
	return rssKB, cpu
}

func printReport(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "mode %s, target %s, %d clients\n", r.Mode, r.Target, r.Clients)
	fmt.Fprintf(w, "connect         %.0f clients/s\n", r.ConnectPerSec)
	if r.Mode == "fanout" {
		rate := "as fast as accepted"
		if r.Rate > 0 {
			rate = fmt.Sprintf("%.0f msg/s", r.Rate)
		}
		fmt.Fprintf(w, "senders         %d at %s for %.0fs: %d messages\n", r.Senders, rate, r.Seconds, r.Sent)
		fmt.Fprintf(w, "deliveries/s    %.0f\n", r.DeliveriesPerS)
		fmt.Fprintf(w, "expected        %d\ndelivered       %d (%d through a resume after %d closes with 1013, %d other closes; %d own messages sent again after a resume, %d of them stored already)\n", r.Expected, r.Delivered, r.Resumed, r.Closed1013, r.ClosedOther, r.Resent, r.Duplicates)
		fmt.Fprintf(w, "lost            %d\ngaps            %d\n", r.Lost, r.Gaps)
		if l := r.LatencyMS; l != nil {
			fmt.Fprintf(w, "latency ms      p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", l["p50"], l["p90"], l["p99"], l["max"])
		}
	}
	fmt.Fprintf(w, "dropped conns   %d", r.Dropped)
	if r.Mode == "idle" && r.Dropped > 0 {
		fmt.Fprintf(w, " (%d closed with 1013, %d otherwise)", r.Closed1013, r.ClosedOther)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "server RSS      %d KB -> %d KB (%.1f KB per connection)\n", r.RSSBeforeKB, r.RSSAfterKB, r.RSSPerConnKB)
	fmt.Fprintf(w, "server CPU      %.2f s\n", r.ServerCPUSecond)
}
