package main

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// Every string the page templates translate has a Chinese translation.
func TestTemplateStringsTranslated(t *testing.T) {
	lit := regexp.MustCompile(`\{\{t \.Lang "([^"]+)"\}\}`)
	pages, _ := fs.Glob(embedded, "embed/*.html")
	for _, p := range pages {
		b, _ := fs.ReadFile(embedded, p)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if _, ok := zh[m[1]]; !ok {
				t.Errorf("%s: %q has no Chinese translation", p, m[1])
			}
		}
	}
	if len(pages) == 0 {
		t.Fatal("no page templates found")
	}
}

// jsLiteral is a double-quoted JavaScript string literal without escapes,
// which is how the scripts write every text they translate.
var jsLiteral = regexp.MustCompile(`"([^"\\\n]*)"`)

// translatedInJS is what the scripts can show: the literals in a call of
// t, plural, button (its label) or copyLink (label and question), less
// those a condition compares with, and the data-i18n* labels of
// chat.html, which translatePage fills. It is found by reading the
// sources, so a key added to a script and forgotten in i18n.js's Chinese
// table fails here rather than showing English to a Chinese reader.
func translatedInJS(t *testing.T) map[string]string {
	t.Helper()
	calls := regexp.MustCompile(`\b(t|plural|button|copyLink)\(`)
	// ev.type === "join" ? "joined" : "left": the key is one of the
	// last two; the first is what a condition compares with.
	compared := regexp.MustCompile(`[!=]==\s*"[^"]*"`)
	keys := map[string]string{} // key → where it is used
	scripts, _ := fs.Glob(embedded, "embed/static/*.js")
	for _, p := range scripts {
		b, _ := fs.ReadFile(embedded, p)
		src := string(b)
		for _, loc := range calls.FindAllStringSubmatchIndex(src, -1) {
			name, args := src[loc[2]:loc[3]], callArgs(src[loc[1]:])
			lits := jsLiteral.FindAllStringSubmatch(compared.ReplaceAllString(args, ""), -1)
			switch {
			case name == "button" && len(lits) > 0:
				lits = lits[1:] // the first is its class name
			case name == "copyLink" && len(lits) > 2:
				lits = lits[len(lits)-2:] // label and question; before them a selector
			}
			for _, m := range lits {
				keys[m[1]] = p
			}
		}
	}
	attr := regexp.MustCompile(`data-i18n(?:-[a-z]+)?="([^"]+)"`)
	pages, _ := fs.Glob(embedded, "embed/*.html")
	for _, p := range pages {
		b, _ := fs.ReadFile(embedded, p)
		for _, m := range attr.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = p
		}
	}
	if len(scripts) == 0 || len(keys) < 100 {
		t.Fatalf("found %d scripts and %d keys: the sources are not where the test looks", len(scripts), len(keys))
	}
	return keys
}

// callArgs is src up to the parenthesis that closes the call whose
// arguments it starts with.
func callArgs(src string) string {
	depth := 1
	for i, r := range src {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return src[:i]
			}
		}
	}
	return src
}

// jsTable is the keys of one language's table in i18n.js (en or zh).
func jsTable(t *testing.T, lang string) map[string]bool {
	t.Helper()
	b, err := fs.ReadFile(embedded, "embed/static/i18n.js")
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	start := strings.Index(src, "\n  "+lang+": {")
	if start < 0 {
		t.Fatalf("i18n.js has no %s table", lang)
	}
	body := src[start:]
	body = body[:strings.Index(body, "\n  },")]
	keys := map[string]bool{}
	for _, m := range regexp.MustCompile(`"([^"\\\n]*)":`).FindAllStringSubmatch(body, -1) {
		keys[m[1]] = true
	}
	return keys
}

// Every text the scripts show has a Chinese translation, and so has
// every error code the English table words.
func TestScriptStringsTranslated(t *testing.T) {
	zhKeys, enKeys := jsTable(t, "zh"), jsTable(t, "en")
	for key, where := range translatedInJS(t) {
		if !zhKeys[key] {
			t.Errorf("%s: %q has no Chinese translation in i18n.js", where, key)
		}
	}
	for key := range enKeys {
		if !zhKeys[key] {
			t.Errorf("i18n.js: %q has English wording but no Chinese translation", key)
		}
	}
}
