// Mentioning someone by name: "@" and the start of a name in the
// composer lists the names that begin so (those online first, then
// those who spoke lately; never the reader's own), and picking one puts
// "@name " in its place. Up and Down move through the list, Enter or Tab
// picks, Escape closes it; a click picks too. Names compare as the
// server compares them (NFKC, then lower case).
import { $, me, state, text, fold, composing } from "./state.js";
import { updateComposer, saveOutbox } from "./outbox.js";

const box = $("mention-list"), SHOWN = 6, MAX_NAME = 24;
// The "@" at the start of the composer or after a space, and what follows
// it up to the cursor: at most a name's length, on one line.
const AT_RE = new RegExp(`(?:^|\\s)@([^@\\n]{0,${MAX_NAME}})$`, "u");
let start = -1, names = [], active = 0;

function candidates(prefix) {
  const want = fold(prefix), seen = new Set([fold(me)]), out = [];
  const add = (n) => {
    const k = fold(n);
    if (!seen.has(k) && k.startsWith(want)) { seen.add(k); out.push(n); }
  };
  for (const n of state.online) add(n);
  for (let i = state.events.length - 1; i >= 0 && out.length < SHOWN; i--) {
    if (state.events[i].type === "message") add(state.events[i].user);
  }
  return out.slice(0, SHOWN);
}

// noteMention looks at what is before the cursor after each change or
// move, and shows or hides the list.
export function noteMention() {
  const caret = text.selectionStart;
  const m = caret === text.selectionEnd ? AT_RE.exec(text.value.slice(0, caret)) : null;
  names = m ? candidates(m[1]) : [];
  if (names.length === 0) { close(); return; }
  start = caret - m[1].length - 1;
  active = Math.min(active, names.length - 1);
  render();
}

function render() {
  box.replaceChildren(...names.map((n, i) => {
    const li = document.createElement("li");
    li.id = `mention-option-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === active));
    li.dataset.name = n;
    li.textContent = n;
    return li;
  }));
  box.hidden = false;
  text.setAttribute("aria-expanded", "true");
  text.setAttribute("aria-activedescendant", `mention-option-${active}`);
}

function close() {
  if (box.hidden) return;
  box.hidden = true;
  start = -1;
  active = 0;
  text.setAttribute("aria-expanded", "false");
  text.removeAttribute("aria-activedescendant");
}

function pick(name) {
  text.setRangeText("@" + name + " ", start, text.selectionStart, "end");
  close();
  text.focus();
  updateComposer();
  saveOutbox();
}

// mentionKey handles a key in the composer while the list is open, and
// says whether it did (the composer then does nothing more with it).
export function mentionKey(e) {
  if (box.hidden || composing(e)) return false; // its keys are the input method's
  switch (e.key) {
    case "ArrowDown": active = (active + 1) % names.length; break;
    case "ArrowUp": active = (active + names.length - 1) % names.length; break;
    case "Enter": case "Tab": pick(names[active]); break;
    case "Escape": close(); break;
    default: return false;
  }
  e.preventDefault();
  if (!box.hidden) render();
  return true;
}

// mousedown, not click: the composer keeps its focus and cursor.
box.addEventListener("mousedown", (e) => {
  const li = e.target.closest("li");
  if (!li) return;
  e.preventDefault();
  pick(li.dataset.name);
});
text.addEventListener("blur", close);
