package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// recordJSCoverage finds what no browser test runs: with CHAT_JSCOV set
// to a directory, every page a browser test opens records which parts of
// the web client's scripts ran, and writes them there as the test ends;
// go run ./testdata/jscov DIR lists the lines none ran. Without it, it
// does nothing.
//
// Chromium's precise coverage lives in a page's renderer, which a
// navigation may replace, taking what it counted along: so it is taken
// every 50 ms and as each navigation starts, and started again after one.
// Each take also resets the counts, so what ran is the union of them all.
func recordJSCoverage(t *testing.T, ctx context.Context) {
	dir := os.Getenv("CHAT_JSCOV")
	if dir == "" {
		return
	}
	var mu sync.Mutex
	ran := map[string][]bool{} // script (as /static/ names it) → UTF-16 offsets that ran
	yes := true
	start := func() {
		chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, profiler.Enable, cdp.Empty{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, profiler.StartPreciseCoverage, profiler.StartPreciseCoverageParams{CallCount: &yes, Detailed: &yes})
			return err
		}))
	}
	take := func() {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		chromedp.Do(tctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			r, err := cdp.Call(ctx, tg, profiler.TakePreciseCoverage, cdp.Empty{})
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			for _, s := range r.Result {
				if name, ok := staticScript(s.URL); ok {
					ran[name] = paintCoverage(ran[name], s.Functions)
					saveScriptSource(dir, name, s.URL)
				}
			}
			return nil
		}))
	}
	start()
	chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *page.EventFrameRequestedNavigation, *page.EventFrameStartedNavigating:
			go take()
		case *page.EventFrameNavigated:
			go func() { take(); start() }()
		}
	})
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				take()
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		take()
		mu.Lock()
		defer mu.Unlock()
		out := map[string]any{"test": t.Name(), "ran": ranges(ran)}
		b, err := json.Marshal(out)
		if err == nil {
			f, err := os.CreateTemp(dir, strings.NewReplacer("/", "_", "*", "_").Replace(t.Name())+".*.json")
			if err == nil {
				f.Write(b)
				f.Close()
			}
		}
	})
}

// staticScript is the name of one of the web client's scripts from its
// address (/static/chat.js?v=…), or false for any other.
func staticScript(url string) (string, bool) {
	_, name, ok := strings.Cut(url, "/static/")
	if !ok || strings.Contains(name, "/") {
		return "", false
	}
	name, _, _ = strings.Cut(name, "?")
	return name, strings.HasSuffix(name, ".js")
}

// paintCoverage marks in ran the offsets that one take found run. V8's
// ranges nest: a function's first covers all of it, later ones the
// blocks inside that ran a different number of times, and inner
// functions come after the ones holding them; painted in that order, the
// innermost count decides each offset.
func paintCoverage(ran []bool, fns []*profiler.FunctionCoverage) []bool {
	fns = append([]*profiler.FunctionCoverage(nil), fns...)
	sort.SliceStable(fns, func(i, j int) bool {
		a, b := fns[i].Ranges[0], fns[j].Ranges[0]
		if a.StartOffset != b.StartOffset {
			return a.StartOffset < b.StartOffset
		}
		return a.EndOffset > b.EndOffset
	})
	var took []bool
	for _, f := range fns {
		for _, r := range f.Ranges {
			for int64(len(took)) < r.EndOffset {
				took = append(took, false)
			}
			for i := r.StartOffset; i < r.EndOffset; i++ {
				took[i] = r.Count > 0
			}
		}
	}
	for len(ran) < len(took) {
		ran = append(ran, false)
	}
	for i, v := range took {
		ran[i] = ran[i] || v
	}
	return ran
}

// ranges is ran as [start, end) runs of offsets, per script.
func ranges(ran map[string][]bool) map[string][][2]int {
	out := map[string][][2]int{}
	for name, r := range ran {
		for i := 0; i < len(r); i++ {
			if !r[i] {
				continue
			}
			j := i
			for j < len(r) && r[j] {
				j++
			}
			out[name] = append(out[name], [2]int{i, j})
			i = j
		}
	}
	return out
}

// saveScriptSource keeps the script as served (its imports carry the
// version, so offsets differ from embed/static's) for the report, once.
func saveScriptSource(dir, name, url string) {
	path := filepath.Join(dir, "src", name)
	if _, err := os.Stat(path); err == nil {
		return
	}
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, b, 0o644)
}
