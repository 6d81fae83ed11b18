// Command jscov lists the lines of the web client's scripts that no
// browser test ran, from the coverage the browser tests record with
// CHAT_JSCOV (see jscov_test.go):
//
//	CHAT_JSCOV=/tmp/jscov go test -run TestBrowser .
//	go run ./testdata/jscov /tmp/jscov
//
// Each line it prints is a script's line with what never ran on it
// marked: a branch no test takes, a handler no test fires. With -tests
// FILE:LINE it prints instead the tests that ran that line, the ones to
// run after changing it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

type record struct {
	Test string              `json:"test"`
	Ran  map[string][][2]int `json:"ran"`
}

func main() {
	which := flag.String("tests", "", "FILE:LINE: list the tests that ran this line instead")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go run ./testdata/jscov [-tests chat.js:42] DIR")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	dir := flag.Arg(0)
	records, err := load(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "jscov:", err)
		os.Exit(1)
	}
	if *which != "" {
		name, n, _ := strings.Cut(*which, ":")
		line, err := strconv.Atoi(n)
		src, rerr := source(dir, name)
		if err != nil || rerr != nil {
			fmt.Fprintln(os.Stderr, "jscov: -tests wants FILE:LINE of a script the tests ran")
			os.Exit(2)
		}
		for _, t := range testsOf(records, name, src, line) {
			fmt.Println(t)
		}
		return
	}
	names := map[string]bool{}
	for _, r := range records {
		for name := range r.Ran {
			names[name] = true
		}
	}
	for _, name := range sorted(names) {
		src, err := source(dir, name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "jscov:", err)
			continue
		}
		ran := make([]bool, len(src))
		for _, r := range records {
			for _, rg := range r.Ran[name] {
				for i := rg[0]; i < rg[1] && i < len(ran); i++ {
					ran[i] = true
				}
			}
		}
		report(name, src, ran)
	}
}

// load reads every record in dir.
func load(dir string) ([]record, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no coverage in %s: run the browser tests with CHAT_JSCOV=%s", dir, dir)
	}
	var out []record
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// source is a script as the tests' server served it, in UTF-16 units, as
// V8 counts its offsets.
func source(dir, name string) ([]uint16, error) {
	b, err := os.ReadFile(filepath.Join(dir, "src", filepath.Base(name)))
	if err != nil {
		return nil, err
	}
	return utf16.Encode([]rune(string(b))), nil
}

// report prints each line of src with code on it that never ran, and
// under a line of which only part did not, that part (what ran blanked
// out).
func report(name string, src []uint16, ran []bool) {
	line, start := 1, 0
	for i := 0; i <= len(src); i++ {
		if i < len(src) && src[i] != '\n' {
			continue
		}
		text := string(utf16.Decode(src[start:i]))
		missed := notRun(src[start:i], ran[start:i])
		if strings.Trim(missed, " {}();,") != "" && !comment(text) {
			at := fmt.Sprintf("%s:%d: ", name, line)
			fmt.Println(at + strings.TrimSpace(text))
			if missed != strings.TrimSpace(text) { // only part of it: which
				fmt.Println(strings.Repeat(" ", len(at)) + missed)
			}
		}
		line, start = line+1, i+1
	}
}

// notRun is the line with what ran put as spaces (trimmed as the line
// is), or "" when nothing on it that is code went unrun.
func notRun(line []uint16, ran []bool) string {
	text := []rune(string(utf16.Decode(line)))
	out := make([]rune, len(text))
	missed, u := false, 0
	for i, r := range text {
		out[i] = ' '
		if !unicode.IsSpace(r) && !(u < len(ran) && ran[u]) {
			out[i], missed = r, true
		}
		u += len(utf16.Encode([]rune{r}))
	}
	if !missed {
		return ""
	}
	lead := 0
	for lead < len(text) && unicode.IsSpace(text[lead]) {
		lead++
	}
	return strings.TrimRight(string(out[lead:]), " ")
}

func comment(line string) bool {
	l := strings.TrimSpace(line)
	return strings.HasPrefix(l, "//") || strings.HasPrefix(l, "/*") || strings.HasPrefix(l, "*")
}

// testsOf is the tests that ran code on line of script name.
func testsOf(records []record, name string, src []uint16, line int) []string {
	from, to, n := 0, len(src), 1
	for i, c := range src {
		if c != '\n' {
			continue
		}
		if n++; n == line {
			from = i + 1
		} else if n == line+1 {
			to = i
			break
		}
	}
	tests := map[string]bool{}
	for _, r := range records {
		for _, rg := range r.Ran[name] {
			for i := max(rg[0], from); i < min(rg[1], to); i++ {
				if !unicode.IsSpace(rune(src[i])) { // code, not the indent
					top, _, _ := strings.Cut(r.Test, "/")
					tests[top] = true
					break
				}
			}
		}
	}
	return sorted(tests)
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
