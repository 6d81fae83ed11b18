// What a message's text becomes on screen: text nodes, links, and code.
// User text only ever reaches the DOM through textContent and text nodes.

// Links become <a> only for http(s) URLs; everything else stays text. A
// URL ends at white space, at what cannot be in one unescaped (<>"'`),
// and at CJK text and punctuation: Chinese writes straight on after a
// link, with no space. Punctuation at its end is the sentence's, unless it
// closes a bracket the URL opened (…/wiki/Go_(programming_language)).
const URL_RE = /\bhttps?:\/\/[^\s<>"'`\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+/gi;
const OPENER = { ")": "(", "]": "[", "}": "{" };
function trimURL(url) {
  for (;;) {
    const c = url.at(-1), open = OPENER[c];
    const count = (ch) => url.split(ch).length - 1;
    if (!(".,;:!?*_~".includes(c) || (open && count(c) > count(open)))) return url;
    url = url.slice(0, -1);
  }
}
// appendText appends s to frag, unless it is empty: no empty text nodes.
const appendText = (frag, s) => { if (s) frag.append(s); };
export function withLinks(s) {
  const frag = document.createDocumentFragment();
  let last = 0, m;
  URL_RE.lastIndex = 0;
  while ((m = URL_RE.exec(s))) {
    const url = trimURL(m[0]);
    if (!/^https?:\/\/[^/?#]/i.test(url)) continue; // no host: text
    appendText(frag, s.slice(last, m.index));
    const a = document.createElement("a");
    a.href = url;
    a.textContent = url;
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    frag.append(a);
    last = m.index + url.length;
    URL_RE.lastIndex = last;
  }
  appendText(frag, s.slice(last));
  return frag;
}

// Code, as people write it in chat: a block between ``` fences keeps its
// lines and spacing in a monospace box (it may scroll sideways), without
// the language name that may follow the opening fence (```go), and `a
// span` is set in monospace within a line. Code is shown as it was
// typed, links and all. Anything else, an unclosed ``` or ` included, is
// text with links (withLinks).
// A span's opening ` may not follow another (no lookbehind: Safari before
// 16.4 cannot parse one, and would load none of the page's script).
const FENCE_RE = /```(?:[\w+#.-]*[^\S\n]*\n)?([\s\S]*?)\n?```/g, SPAN_RE = /(^|[^`])`([^`\n]+)`(?!`)/g;
export function formatted(s) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of s.matchAll(FENCE_RE)) {
    // The line breaks around a block are the block's edges, not blank
    // lines of text.
    frag.append(withSpans(s.slice(last, m.index).replace(/\n$/, "")));
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    code.textContent = m[1];
    pre.append(code);
    frag.append(pre);
    last = m.index + m[0].length;
    if (s[last] === "\n") last++;
  }
  frag.append(withSpans(s.slice(last)));
  return frag;
}
function withSpans(s) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const m of s.matchAll(SPAN_RE)) {
    frag.append(withLinks(s.slice(last, m.index + m[1].length)));
    const code = document.createElement("code");
    code.textContent = m[2];
    frag.append(code);
    last = m.index + m[0].length;
  }
  frag.append(withLinks(s.slice(last)));
  return frag;
}
