package main

// The side-by-side table of a .ci/bench run (chat bench -summary DIR),
// read from its JSON reports: one per scenario, run and server, named
// scenario[.run].server.json, server being ours or baseline. A paced
// scenario runs several times, alternating the servers, and is compared
// by the median of each server's p99s: tail latency on a shared machine
// moves more from run to run than the two servers differ. Each row says
// whether issue 4's target holds, so a run is read off, not worked out.

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// benchResult is a report, and which run of its scenario it was.
type benchResult struct {
	run int
	benchReport
}

// benchRows are the scenarios .ci/bench runs, in its order, with what
// each compares; a scenario not named here is left out of the table.
var benchRows = []struct {
	scenario, what string
	row            func(base, ours []benchResult) (b, o, ratio, verdict string)
}{
	{"saturation", "1000 clients in one room, 10 senders at saturation, 10 s", saturationRow},
	{"paced-1000x50", "1000 clients, 50 msg/s, p99 ms", pacedRow},
	{"paced-100x300", "100 clients, 300 msg/s, p99 ms", pacedRow},
	{"idle-10000", "10,000 idle connections, KB RSS per connection", idleRow},
	{"hold-19000", "19,000 connections held 60 s", holdRow},
}

// benchSummary prints the table of the reports in dir, as Markdown.
func benchSummary(dir string, w io.Writer) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	results := map[string][]benchResult{} // "scenario server": its runs
	for _, f := range files {
		parts := strings.Split(strings.TrimSuffix(filepath.Base(f), ".json"), ".")
		if len(parts) < 2 || len(parts) > 3 {
			continue
		}
		var r benchResult
		if len(parts) == 3 {
			if r.run, err = strconv.Atoi(parts[1]); err != nil {
				continue
			}
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		key := parts[0] + " " + parts[len(parts)-1]
		results[key] = append(results[key], r)
	}
	fmt.Fprintln(w, "| scenario | baseline (melody example) | this server | ratio | target |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	rows := 0
	for _, s := range benchRows {
		base, ours := results[s.scenario+" baseline"], results[s.scenario+" ours"]
		if len(ours) == 0 {
			continue
		}
		for _, rs := range [][]benchResult{base, ours} {
			slices.SortFunc(rs, func(a, b benchResult) int { return cmp.Compare(a.run, b.run) })
		}
		b, o, ratio, verdict := s.row(base, ours)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", s.what, b, o, ratio, verdict)
		rows++
	}
	if rows == 0 {
		return fmt.Errorf("bench: no reports of ours in %s", dir)
	}
	return nil
}

func saturationRow(base, ours []benchResult) (string, string, string, string) {
	o := ours[0]
	ok := o.Lost == 0 && o.Gaps == 0 && o.Duplicates == 0
	out := fmt.Sprintf("%s deliveries/s; %s lost, %s gaps, %s closes with 1013 (resumed)",
		thousands(o.DeliveriesPerS), thousands(float64(o.Lost)), thousands(float64(o.Gaps)), thousands(float64(o.Closed1013)))
	if len(base) == 0 {
		return "—", out, "—", verdict(false, "≥ 2×, zero unaccounted loss")
	}
	b := base[0]
	ratio := o.DeliveriesPerS / b.DeliveriesPerS
	return fmt.Sprintf("%s deliveries/s; %s silently dropped", thousands(b.DeliveriesPerS), thousands(float64(b.Lost))),
		out, fmt.Sprintf("%.2f×", ratio), verdict(ok && ratio >= 2, "≥ 2×, zero unaccounted loss")
}

func pacedRow(base, ours []benchResult) (string, string, string, string) {
	p99s := func(rs []benchResult) (float64, string) {
		var all []float64
		var each []string
		for _, r := range rs {
			all = append(all, r.LatencyMS["p99"])
			each = append(each, fmt.Sprintf("%.2f", r.LatencyMS["p99"]))
		}
		m := median(all)
		return m, fmt.Sprintf("median %.2f (%s)", m, strings.Join(each, ", "))
	}
	om, o := p99s(ours)
	if len(base) == 0 {
		return "—", o, "—", verdict(false, "p99 ≤ baseline")
	}
	bm, b := p99s(base)
	return b, o, fmt.Sprintf("%.2f×", om/bm), verdict(om <= bm, "p99 ≤ baseline")
}

func idleRow(base, ours []benchResult) (string, string, string, string) {
	o := ours[0].RSSPerConnKB
	b, ratio := "—", "—"
	if len(base) > 0 {
		b = fmt.Sprintf("%.2f KB", base[0].RSSPerConnKB)
		ratio = fmt.Sprintf("%.2f×", o/base[0].RSSPerConnKB)
	}
	return b, fmt.Sprintf("%.2f KB; %d dropped", o, ours[0].Dropped), ratio, verdict(o <= 16 && ours[0].Dropped == 0, "≤ 16 KB")
}

func holdRow(_, ours []benchResult) (string, string, string, string) {
	o := ours[0]
	return "—", fmt.Sprintf("%d dropped, %.2f KB per connection", o.Dropped, o.RSSPerConnKB), "", verdict(o.Dropped == 0, "none dropped")
}

func verdict(met bool, target string) string {
	if met {
		return target + ": met"
	}
	return target + ": **not met**"
}

// median of xs (not empty), which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

// thousands writes x rounded down, with commas: 1,908,351.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
