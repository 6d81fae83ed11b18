// Command chat is a self-contained multi-user web chat: login page, chat
// page and WebSocket endpoint in one static binary, with every room's
// history in an embedded SQLite database. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"syscall"
	"time"
)

func main() {
	if os.Getenv("PPROF_ADDR") == "" {
		// Nothing can read a heap profile without the pprof listener, so
		// don't sample one: its buckets held about 1.5 MB (0.1 KB per
		// socket) in the idle benchmark. Set first, as the runtime asks.
		runtime.MemProfileRate = 0
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(os.Getenv("LOG_LEVEL"))}))
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "healthcheck":
			os.Exit(healthcheck(os.Getenv("PORT")))
		case "bench":
			if err := runBench(os.Args[2:], os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			return
		case "serve":
		default:
			fmt.Fprintf(os.Stderr, "usage: %s [serve|healthcheck|bench -h]\n", os.Args[0])
			os.Exit(2)
		}
	}
	cfg, err := configFromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if addr := os.Getenv("PPROF_ADDR"); addr != "" {
		// Opt-in profiling on its own listener, never on the public port.
		go func() { log.Error("pprof", "err", http.ListenAndServe(addr, pprofMux())) }()
	}
	if os.Getenv("GOGC") == "" {
		// Half Go's default headroom. Nearly all of a chat server's heap
		// is long-lived per-socket state, allocated among the garbage of
		// the logins and upgrades around it; a socket's objects share
		// spans with that garbage, and the slots it leaves stay resident
		// in spans the sockets keep. Collecting at 1.5× the live heap
		// instead of 2× leaves less of it there: in alternating idle runs
		// of 10,000 sockets, 15.3–15.5 KB per socket against 15.8–16.1.
		// The collections it adds cost nothing the paced and saturation
		// runs could tell from their noise. GOGC in the environment wins.
		debug.SetGCPercent(50)
	}
	m := &Main{Config: cfg, Log: log}
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
	log.Info("listening", "addr", m.Addr(), "data_dir", cfg.DataDir)
	go trimMemory(ctx, 5*time.Second, 16<<20)
	<-ctx.Done()
	stop() // a second signal kills us the usual way
	log.Info("shutting down")
	if err := m.Close(); err != nil {
		log.Error("shutdown", "err", err)
		os.Exit(1)
	}
}

// Main is the running program: store, hub and HTTP server. Tests start and
// stop it just as main does.
type Main struct {
	Config Config
	Log    *slog.Logger
	// Store, if set, is used instead of the SQLite file in
	// Config.DataDir. Main closes it either way.
	Store Store
	// Now, if set, is the clock (tests move it on by days); nil:
	// time.Now.
	Now func() time.Time

	store  Store
	hub    *Hub
	ln     net.Listener
	http   *http.Server
	served chan error
}

// Run opens the store, restores sessions and presence, and starts serving
// in the background.
func (m *Main) Run(ctx context.Context) error {
	if m.Log == nil {
		m.Log = slog.New(slog.DiscardHandler)
	}
	// The data directory holds the session key whatever the store is.
	if err := m.Config.prepareDataDir(); err != nil {
		if m.Store != nil {
			m.Store.Close()
		}
		return err
	}
	st := m.Store
	if st == nil {
		sq, err := OpenSQLite(m.Config.DataDir, m.Config.FullSync)
		if err != nil {
			return err
		}
		st = sq
	}
	m.store = st
	now := m.Now
	if now == nil {
		now = time.Now
	}
	m.hub = newHub(m.Config, st, now, m.Log)
	// Past start, the hub has goroutines (its sweeper, rooms restored
	// with their presence) that must stop before the store closes.
	fail := func(err error) error {
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownWait)
		defer cancel()
		m.hub.shutdown(ctx)
		st.Close()
		return err
	}
	if err := m.hub.start(ctx); err != nil {
		return fail(err)
	}
	srv, err := newServer(m.hub)
	if err != nil {
		return fail(err)
	}
	ln, err := net.Listen("tcp", m.Config.Addr)
	if err != nil {
		return fail(err)
	}
	m.ln = ln
	m.http = &http.Server{
		Handler:           srv.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(m.Log.Handler(), slog.LevelDebug),
	}
	m.served = make(chan error, 1)
	go func() { m.served <- m.http.Serve(ln) }()
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Close shuts down gracefully within Config.ShutdownWait: no new
// connections, sockets closed with 1012, queued messages committed,
// presence saved, store closed.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownWait)
	defer cancel()
	// Shutdown stops accepting and waits for plain HTTP requests; it does
	// not track hijacked WebSocket connections, which the hub closes next.
	err := m.http.Shutdown(ctx)
	m.hub.shutdown(ctx)
	if e := <-m.served; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return errors.Join(err, m.store.Close())
}

// healthcheck is for container HEALTHCHECKs: distroless images have no curl.
func healthcheck(port string) int {
	if port == "" {
		port = "8080"
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck: status", resp.StatusCode)
		return 1
	}
	return 0
}

// trimMemory returns the GC's headroom to the OS once it is large and the
// heap is quiet. Most of a chat server's memory is long-lived per-socket
// state, so after a storm of connections the garbage allowance the GC keeps
// (GOGC) would otherwise stay resident for as long as the sockets do. It
// trims when more than waste bytes are garbage or free-but-unreturned and
// no collection ran during the last period: under steady traffic a forced
// collection would only add latency, and the GC is busy anyway.
func trimMemory(ctx context.Context, every time.Duration, waste uint64) {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	var cycles uint64
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		metrics.Read(samples)
		objects, free, live := samples[0].Value.Uint64(), samples[1].Value.Uint64(), samples[2].Value.Uint64()
		quiet := samples[3].Value.Uint64() == cycles
		cycles = samples[3].Value.Uint64()
		if quiet && objects+free > live+waste {
			debug.FreeOSMemory()
			metrics.Read(samples[3:])
			cycles = samples[3].Value.Uint64()
		}
	}
}

func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if l.UnmarshalText([]byte(s)) != nil {
		return slog.LevelInfo
	}
	return l
}
