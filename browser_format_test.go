package main

import (
	"strings"
	"testing"
)

// Code in a message is shown as code: a ``` block keeps its lines and
// spacing in a monospace box, without its language name, and `a span`
// is monospace within its line. Code stays text, markup and links too;
// what is not code keeps its links; an unclosed fence is plain text.
func TestBrowserCode(t *testing.T) {
	ts := MustStart(t, t.TempDir())
	p := MustPerson(t, MustBrowser(t, "en-US"))
	MustEnter(t, p, ts, "alice", "")
	w, _ := ts.MustDial(t, ts.MustLogin(t, "writer"), "lobby", -1)
	const tick = "`"
	fence := strings.Repeat(tick, 3)
	block := "func main() {\n\tfmt.Println(\"<b>hi</b> https://example.com/in-code\")\n}"
	for _, text := range []string{
		"run " + tick + "go test ./..." + tick + " then see https://example.com/docs",
		"like this:\n" + fence + "go\n" + block + "\n" + fence + "\nand that's it",
		"an unclosed " + fence + " fence and a lone " + tick + " tick",
		tick + "a" + tick + " and " + tick + "b" + tick,
	} {
		w.say(text, "")
	}
	MustWait(t, p, `document.querySelectorAll("#messages .msg").length === 4`)
	// Each message's .text as its nodes: "text", <code>, <pre>, <a>.
	nodes := MustEval[[][]string](t, p, `[...document.querySelectorAll("#messages .msg .text")].map(el => [...el.childNodes].map(n => n.nodeType === 3 ? n.textContent : "<" + n.localName + ">" + (n.localName === "pre" ? n.querySelector("code").textContent : n.textContent)))`)
	want := [][]string{
		{"run ", "<code>go test ./...", " then see ", "<a>https://example.com/docs"},
		{"like this:", "<pre>" + block, "and that's it"},
		{"an unclosed " + fence + " fence and a lone " + tick + " tick"},
		{"<code>a", " and ", "<code>b"},
	}
	if len(nodes) != len(want) {
		t.Fatalf("messages shown as %q, want %q", nodes, want)
	}
	for i := range want {
		if strings.Join(nodes[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("message %d shown as %q, want %q", i, nodes[i], want[i])
		}
	}
	// The block is monospace, keeps its tab, and scrolls rather than wraps.
	style := MustEval[[]string](t, p, `(() => { const s = getComputedStyle(document.querySelector("#messages pre")); return [s.whiteSpace, s.overflowX, getComputedStyle(document.querySelector("#messages pre code")).fontFamily]; })()`)
	if style[0] != "pre" || style[1] != "auto" || !strings.Contains(style[2], "monospace") {
		t.Errorf("the code block's white-space, overflow-x and font: %q", style)
	}
	if n := MustEval[int](t, p, `document.querySelectorAll("#messages b, #messages pre a").length`); n != 0 {
		t.Errorf("%d elements made from text inside code", n)
	}
}
