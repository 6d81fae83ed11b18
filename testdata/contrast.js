// contrastProblems: every visible piece of text on the page, and every
// placeholder shown, whose contrast with what is painted behind it is
// under WCAG 2 AA (4.5:1; 3:1 for large text). Backgrounds are composited
// from the page down and opacity is applied as painted. Disabled controls
// are exempt, as WCAG says. Used by browser_contrast_test.go.
(() => {
  const rgba = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) throw new Error("a colour this check cannot read: " + c);
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (c, b) => [0, 1, 2].map((i) => c[i] * c[3] + b[i] * (1 - c[3])).concat(1);
  const mix = (a, b, o) => [0, 1, 2].map((i) => a[i] * o + b[i] * (1 - o)).concat(1);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  // seen returns the colours of el's text and of what is behind it, as
  // painted: backgrounds composited from the page down, and each
  // ancestor's opacity applied to everything inside it.
  const seen = (el, color) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.unshift(e);
    const canvas = rgba(getComputedStyle(document.body).backgroundColor);
    const rec = (i, below) => {
      const s = getComputedStyle(chain[i]);
      const inner = over(rgba(s.backgroundColor), below);
      const [bg, fg] = i === chain.length - 1 ? [inner, over(rgba(color || s.color), inner)] : rec(i + 1, inner);
      const o = Number(s.opacity);
      return [mix(bg, below, o), mix(fg, below, o)];
    };
    return rec(0, over(canvas, [255, 255, 255, 1]));
  };
  const bad = [];
  const check = (el, what, color) => {
    const s = getComputedStyle(el);
    const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;
    const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
    const [bg, fg] = seen(el, color);
    const r = ratio(fg, bg);
    if (r < need) bad.push(`${what} ${JSON.stringify(el.className || el.tagName)}: ${r.toFixed(2)}:1 (${fg.slice(0, 3).map(Math.round)} on ${bg.slice(0, 3).map(Math.round)})`);
  };
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const done = new Set();
  for (let n; (n = walker.nextNode()); ) {
    const el = n.parentElement;
    if (!n.data.trim() || done.has(el) || !visible(el) || el.closest(".sr-only") || el.closest(":disabled")) continue;
    done.add(el);
    check(el, JSON.stringify(n.data.trim().slice(0, 30)));
  }
  for (const el of document.querySelectorAll("input[placeholder], textarea[placeholder]")) {
    if (!el.value && visible(el) && !el.disabled) check(el, "placeholder " + JSON.stringify(el.placeholder), getComputedStyle(el, "::placeholder").color);
  }
  return bad;
})()
