package main

import (
	"bufio"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"golang.org/x/mod/modfile"
)

// No Docker engine runs here, so these tests read fly.toml and the
// Dockerfile and hold them to what the code does.

type flyConfig struct {
	KillSignal  string            `toml:"kill_signal"`
	KillTimeout string            `toml:"kill_timeout"`
	Env         map[string]string `toml:"env"`
	Mounts      struct {
		Source      string `toml:"source"`
		Destination string `toml:"destination"`
	} `toml:"mounts"`
	HTTPService struct {
		InternalPort int  `toml:"internal_port"`
		ForceHTTPS   bool `toml:"force_https"`
		Concurrency  struct {
			Type      string `toml:"type"`
			SoftLimit int    `toml:"soft_limit"`
			HardLimit int    `toml:"hard_limit"`
		} `toml:"concurrency"`
		Checks []struct {
			Method string `toml:"method"`
			Path   string `toml:"path"`
		} `toml:"checks"`
	} `toml:"http_service"`
}

// dockerfile is the Dockerfile as instructions (continuations joined).
type dockerfile []struct{ cmd, args string }

func MustReadDockerfile(t *testing.T) dockerfile {
	t.Helper()
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out dockerfile
	var cur string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur += strings.TrimSuffix(line, "\\") + " "
			continue
		}
		cur += line
		cmd, args, _ := strings.Cut(cur, " ")
		out = append(out, struct{ cmd, args string }{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur = ""
	}
	return out
}

// final returns the args of each cmd instruction in the last stage.
func (d dockerfile) final(cmd string) []string {
	var out []string
	for _, in := range d {
		if in.cmd == "FROM" {
			out = nil
		}
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

func (d dockerfile) buildCommand(t *testing.T) string {
	t.Helper()
	for _, in := range d {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			return in.args
		}
	}
	t.Fatal("Dockerfile has no go build step")
	return ""
}

func TestDeployFilesAgreeWithCode(t *testing.T) {
	var fly flyConfig
	if _, err := toml.DecodeFile("fly.toml", &fly); err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	df := MustReadDockerfile(t)
	port := strings.TrimPrefix(defaultConfig().Addr, ":")

	env := map[string]string{}
	for _, e := range df.final("ENV") {
		for _, kv := range strings.Fields(e) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	flyCfg, flyErr := configFromEnv(func(k string) string { return fly.Env[k] })
	expose := df.final("EXPOSE")
	user := df.final("USER")
	from := df.final("FROM")
	checks := []struct {
		what string
		ok   bool
	}{
		{"fly internal_port is the default PORT", strconv.Itoa(fly.HTTPService.InternalPort) == port},
		{"Dockerfile EXPOSEs the default PORT", len(expose) == 1 && expose[0] == port},
		{"Dockerfile ENV PORT matches", env["PORT"] == port},
		{"fly PORT env matches", fly.Env["PORT"] == "" || fly.Env["PORT"] == port},
		{"fly mount destination is DATA_DIR", fly.Mounts.Destination != "" && fly.Mounts.Destination == fly.Env["DATA_DIR"]},
		{"image DATA_DIR is the mount", env["DATA_DIR"] == fly.Mounts.Destination},
		{"force_https", fly.HTTPService.ForceHTTPS},
		{"fly env is a valid config", flyErr == nil},
		{"behind Fly's proxy, limits count Fly-Client-IP", flyCfg.ClientIPHeader == "Fly-Client-IP"},
		{"kill_timeout >= 15s", mustDuration(fly.KillTimeout) >= 15*time.Second},
		{"kill_signal is one we handle", fly.KillSignal == "" || fly.KillSignal == "SIGINT" || fly.KillSignal == "SIGTERM"},
		{"concurrency counts connections", fly.HTTPService.Concurrency.Type == "connections"},
		{"limits sized for sockets", fly.HTTPService.Concurrency.SoftLimit >= 1000 && fly.HTTPService.Concurrency.HardLimit >= fly.HTTPService.Concurrency.SoftLimit},
		{"one health check on /healthz", len(fly.HTTPService.Checks) == 1 && fly.HTTPService.Checks[0].Path == "/healthz"},
		{"final image is distroless static nonroot", len(from) == 1 && strings.HasPrefix(from[0], "gcr.io/distroless/static-debian12:nonroot")},
		{"numeric non-root USER", len(user) == 1 && regexp.MustCompile(`^[1-9][0-9]*(:[1-9][0-9]*)?$`).MatchString(user[0])},
		{"data dir owned by that user", strings.Contains(strings.Join(df.final("COPY"), "\n"), "--chown="+strings.Split(user[0], ":")[0])},
		{"exec-form ENTRYPOINT", len(df.final("ENTRYPOINT")) == 1 && strings.HasPrefix(df.final("ENTRYPOINT")[0], "[")},
		{"HEALTHCHECK runs the healthcheck subcommand", len(df.final("HEALTHCHECK")) == 1 && strings.Contains(df.final("HEALTHCHECK")[0], `"healthcheck"`)},
		{"static build flags", strings.Contains(df.buildCommand(t), "CGO_ENABLED=0") && strings.Contains(df.buildCommand(t), "-trimpath")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: no", c.what)
		}
	}

	// The builder's Go is at least go.mod's.
	b, _ := os.ReadFile("go.mod")
	mf, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^golang:(\d+)\.(\d+)`).FindStringSubmatch(df[0].args)
	if m == nil {
		t.Fatalf("first stage %q is not a golang image", df[0].args)
	}
	var wantMaj, wantMin int
	fmt.Sscanf(mf.Go.Version, "%d.%d", &wantMaj, &wantMin)
	if maj, _ := strconv.Atoi(m[1]); maj < wantMaj {
		t.Errorf("builder %s older than go.mod %s", df[0].args, mf.Go.Version)
	} else if min, _ := strconv.Atoi(m[2]); maj == wantMaj && min < wantMin {
		t.Errorf("builder %s older than go.mod %s", df[0].args, mf.Go.Version)
	}

	// The health check path answers 200 on the real server.
	ts := MustStart(t, t.TempDir())
	if resp, _ := ts.get(t, fly.HTTPService.Checks[0].Path, nil); resp.StatusCode != 200 {
		t.Errorf("%s: %d", fly.HTTPService.Checks[0].Path, resp.StatusCode)
	}
}

func mustDuration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// MustBuildLikeDockerfile builds the binary with exactly the Dockerfile's
// go build command, writing it to a temporary directory.
func MustBuildLikeDockerfile(t *testing.T) string {
	t.Helper()
	cmdline := MustReadDockerfile(t).buildCommand(t)
	out := filepath.Join(t.TempDir(), "chat")
	cmdline = regexp.MustCompile(`-o \S+`).ReplaceAllString(cmdline, "-o "+out)
	cmd := exec.Command("sh", "-c", cmdline)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, b)
	}
	return out
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := MustBuildLikeDockerfile(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("binary is dynamically linked; the distroless static image cannot run it")
		}
	}
	f.Close()

	t.Run("unwritable DATA_DIR", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o600)
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "DATA_DIR="+filepath.Join(file, "data"), "PORT="+freePort(t))
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "DATA_DIR") {
			t.Errorf("want a clear DATA_DIR error and a non-zero exit, got %v: %s", err, out)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(), "DATA_DIR="+t.TempDir(), "MSG_RATE=fast")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "MSG_RATE") {
			t.Errorf("want a MSG_RATE error, got %v: %s", err, out)
		}
	})
	t.Run("bench", func(t *testing.T) {
		// Small real runs of `chat bench`: it starts the binary as its
		// child server, logs clients in, and every message must arrive.
		for _, c := range []struct {
			name    string
			clients int
			args    []string
		}{
			{"paced", 40, []string{"-senders", "4", "-rate", "40"}},
			{"saturation", 40, []string{"-senders", "4", "-rate", "0", "-window", "4"}},
			{"idle", 50, []string{"-mode", "idle", "-room-size", "10"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				args := append([]string{"bench", "-json", "-duration", "1s", "-clients", strconv.Itoa(c.clients)}, c.args...)
				cmd := exec.Command(bin, args...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("chat %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
				}
				var rep benchReport
				if err := json.Unmarshal(out, &rep); err != nil {
					t.Fatalf("report is not JSON: %v\n%s", err, out)
				}
				if rep.Clients != c.clients || rep.Dropped != 0 || rep.Lost != 0 || rep.Gaps != 0 || rep.RSSAfterKB <= 0 || rep.ServerCPUSecond <= 0 {
					t.Errorf("report %s", out)
				}
				if rep.Mode == "fanout" && (rep.Sent == 0 || rep.Expected != rep.Sent*int64(c.clients) || rep.Delivered != rep.Expected || rep.LatencyMS["p99"] <= 0) {
					t.Errorf("fanout report %s", out)
				}
			})
		}
		t.Run("bad flags", func(t *testing.T) {
			out, err := exec.Command(bin, "bench", "-clients", "0").CombinedOutput()
			if err == nil || !strings.Contains(string(out), "-clients") {
				t.Errorf("want an error naming -clients, got %v: %s", err, out)
			}
		})
	})
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			port, dir := freePort(t), t.TempDir()
			srv := MustStartBinary(t, bin, port, dir)
			hc := exec.Command(bin, "healthcheck")
			hc.Env = append(os.Environ(), "PORT="+port)
			if out, err := hc.CombinedOutput(); err != nil {
				t.Errorf("healthcheck subcommand: %v %s", err, out)
			}
			if fi, err := os.Stat(filepath.Join(dir, "session.key")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("session.key: %v %v, want mode 0600", fi, err)
			}
			c, _ := srv.MustDial(t, srv.MustLogin(t, "alice"), "lobby", -1)
			srv.cmd.Process.Signal(sig)
			if code, _ := c.MustCloseCode(); code != closeServiceRestart {
				t.Errorf("close code %d, want 1012", code)
			}
			if err := srv.MustExit(t); err != nil {
				t.Errorf("exit: %v", err)
			}
			hc = exec.Command(bin, "healthcheck")
			hc.Env = append(os.Environ(), "PORT="+port)
			if hc.Run() == nil {
				t.Error("healthcheck passes with the server down")
			}
		})
	}
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run("stopped under load by "+sig.String(), func(t *testing.T) { testStopUnderLoad(t, bin, sig) })
	}
	t.Run("one server per DATA_DIR", func(t *testing.T) {
		dir := t.TempDir()
		first := MustStartBinary(t, bin, freePort(t), dir)
		alice := first.MustLogin(t, "alice")
		// It must exit by itself; the deadline bounds a test that fails.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := serverCmd(ctx, bin, freePort(t), dir).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "in use by another chat server") || !strings.Contains(string(out), fmt.Sprintf("pid %d ", first.cmd.Process.Pid)) {
			t.Errorf("second server on the same DATA_DIR: want it refused, naming the first's pid %d; got %v: %s", first.cmd.Process.Pid, err, out)
		}
		// The refused one changed nothing: the first still serves.
		first.MustLogin(t, "bob")
		// A crash (SIGKILL: no shutdown at all) lets go of the directory
		// with the process, and the next server starts on it and has the
		// first one's sessions.
		first.cmd.Process.Kill()
		first.MustExit(t)
		next := MustStartBinary(t, bin, freePort(t), dir)
		if resp, _ := next.get(t, "/r/lobby", alice); resp.StatusCode != http.StatusOK {
			t.Errorf("after the crash, alice's cookie on the next server: %d, want 200 (her session is stored)", resp.StatusCode)
		}
	})
}

// binaryServer is the binary built like the Dockerfile, running as a
// server.
type binaryServer struct {
	*testServer
	cmd    *exec.Cmd
	done   chan struct{} // closed when it has exited
	err    error         // its exit, once done
	stderr strings.Builder
}

// MustStartBinary runs bin as a server on 127.0.0.1:port with DATA_DIR
// dir and the settings env (NAME=value), and waits until it is healthy. Its cleanup kills it if it still
// runs, and logs its stderr when the test failed.
func MustStartBinary(t *testing.T, bin, port, dir string, env ...string) *binaryServer {
	t.Helper()
	srv := &binaryServer{testServer: &testServer{URL: "http://127.0.0.1:" + port, closed: true}, done: make(chan struct{})}
	srv.cmd = serverCmd(context.Background(), bin, port, dir, env...)
	srv.cmd.Stderr = &srv.stderr
	if err := srv.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { srv.err = srv.cmd.Wait(); close(srv.done) }()
	t.Cleanup(func() {
		srv.cmd.Process.Kill()
		<-srv.done
		if t.Failed() {
			t.Logf("server on port %s, stderr:\n%s", port, srv.stderr.String())
		}
	})
	MustWaitHealthy(t, srv.URL)
	return srv
}

// serverCmd is bin as a server on 127.0.0.1:port with DATA_DIR dir and
// the settings env.
func serverCmd(ctx context.Context, bin, port, dir string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin)
	// HOST: a wildcard bind can collide with other sockets' source ports
	// on 127.0.0.x; the port was free on 127.0.0.1.
	cmd.Env = append(append(os.Environ(), "HOST=127.0.0.1", "PORT="+port, "DATA_DIR="+dir), env...)
	return cmd
}

// MustExit waits for the server to exit and returns how it exited.
func (srv *binaryServer) MustExit(t *testing.T) error {
	t.Helper()
	select {
	case <-srv.done:
		return srv.err
	case <-time.After(20 * time.Second):
		t.Fatal("server did not exit")
		return nil
	}
}

func MustWaitHealthy(t *testing.T, base string) {
	t.Helper()
	for range 200 {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", base)
}
