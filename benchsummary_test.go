package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MustWriteReports writes .ci/bench's JSON reports, name to contents,
// into a new directory.
func MustWriteReports(t *testing.T, reports map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range reports {
		if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The table of a .ci/bench run is worked out from its reports: the
// median of each server's paced p99s, the ratios, and whether each
// target holds.
func TestBenchSummary(t *testing.T) {
	p99 := func(ms string) string { return `{"lost":0,"latency_ms":{"p50":1,"p99":` + ms + `}}` }
	full := map[string]string{
		"saturation.baseline":       `{"deliveries_per_sec":400000.7,"lost":21339}`,
		"saturation.ours":           `{"deliveries_per_sec":1000000,"lost":0,"closed_1013":4808}`,
		"paced-100x300.1.baseline":  p99("1.5"),
		"paced-100x300.2.baseline":  p99("1.2"),
		"paced-100x300.10.baseline": p99("1.3"),
		"paced-100x300.1.ours":      p99("1.1"),
		"paced-100x300.2.ours":      p99("1.4"),
		"paced-100x300.3.ours":      p99("1.2"),
		"paced-1000x50.1.baseline":  p99("14"),
		"paced-1000x50.2.baseline":  p99("15"),
		"paced-1000x50.1.ours":      p99("15"),
		"paced-1000x50.2.ours":      p99("16"),
		"idle-10000.baseline":       `{"rss_per_conn_kb":26.8}`,
		"idle-10000.ours":           `{"rss_per_conn_kb":15.15}`,
		"hold-19000.ours":           `{"rss_per_conn_kb":14.85,"dropped_connections":2}`,
	}
	for _, tc := range []struct {
		name    string
		reports map[string]string
		want    []string // rows, or parts of them, in order
		err     string
	}{
		{name: "a full run", reports: full, want: []string{
			"| 1000 clients in one room, 10 senders at saturation, 10 s | 400,000 deliveries/s; 21,339 silently dropped | 1,000,000 deliveries/s; 0 lost, 0 gaps, 4,808 closes with 1013 (resumed) | 2.50× | ≥ 2×, zero unaccounted loss: met |",
			// Two runs each: the median is their mean.
			"| 1000 clients, 50 msg/s, p99 ms | median 14.50 (14.00, 15.00) | median 15.50 (15.00, 16.00) | 1.07× | p99 ≤ baseline: **not met** |",
			// In the order of the runs, not of the files (10 after 2).
			"| 100 clients, 300 msg/s, p99 ms | median 1.30 (1.50, 1.20, 1.30) | median 1.20 (1.10, 1.40, 1.20) | 0.92× | p99 ≤ baseline: met |",
			"| 10,000 idle connections, KB RSS per connection | 26.80 KB | 15.15 KB; 0 dropped | 0.57× | ≤ 16 KB: met |",
			"| 19,000 connections held 60 s | — | 2 dropped, 14.85 KB per connection |  | none dropped: **not met** |",
		}},
		{name: "ours alone, losing messages", reports: map[string]string{
			"saturation.ours": `{"deliveries_per_sec":1000000,"lost":3}`,
			"notes.txt.ours":  `not a report`,
		}, want: []string{
			"| 1000 clients in one room, 10 senders at saturation, 10 s | — | 1,000,000 deliveries/s; 3 lost, 0 gaps, 0 closes with 1013 (resumed) | — | ≥ 2×, zero unaccounted loss: **not met** |",
		}},
		{name: "no reports", reports: map[string]string{"saturation.baseline": `{}`}, err: "no reports of ours"},
		{name: "a damaged report", reports: map[string]string{"saturation.ours": `{"lost":`}, err: "saturation.ours.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := benchSummary(MustWriteReports(t, tc.reports), &out)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2+len(tc.want) {
				t.Fatalf("%d lines, want a header and %d rows:\n%s", len(lines), len(tc.want), out.String())
			}
			for i, want := range tc.want {
				if lines[2+i] != want {
					t.Errorf("row %d:\n got %s\nwant %s", i, lines[2+i], want)
				}
			}
		})
	}
}
