// Searching the room: the header's Search opens a panel with a box; what
// is typed there is looked up with the search API, and the messages found
// are listed newest first, with the words found marked. A click on one
// shows it in the conversation (loading the history up to it, as a
// reply's quote does), and closes the panel.
import { t } from "./i18n.js";
import { $, room, composing } from "./state.js";
import { flashError, authorEl } from "./view.js";
import { timeLabel } from "./time.js";
import { goTo } from "./link.js";
import { paced } from "./history.js";
import { trimmed } from "./outbox.js";
import { sessionEnded } from "./socket.js";

const btn = $("search-toggle"), panel = $("search"), form = $("search-form"), box = $("search-input");
const results = $("search-results"), status = $("search-status"), moreBtn = $("search-more");
// gen counts searches: the answer to one that another has replaced is
// dropped.
let query = "", before = 0, gen = 0;
const MAX_QUERY = 100; // characters, as search.go's maxQueryLen

export function showSearch(open) {
  panel.hidden = !open;
  btn.setAttribute("aria-expanded", String(open));
  if (open) box.focus();
}
btn.addEventListener("click", () => showSearch(panel.hidden));
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || panel.hidden || composing(e)) return; // an input method's Escape is its own
  const inside = panel.contains(document.activeElement);
  showSearch(false);
  if (inside) btn.focus();
});

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const q = trimmed(box.value); // as the server trims it, to count the same
  if (!q) return;
  gen++;
  results.replaceChildren();
  // As in the composer, nothing typed or pasted is cut (no maxlength, which
  // would also count an emoji as two): a query longer than the search API
  // takes is said so, and stays in the box to be shortened.
  if ([...q].length > MAX_QUERY) {
    moreBtn.hidden = true;
    status.textContent = t("Searches have at most 100 characters.");
    return;
  }
  query = q;
  before = 0;
  ask();
});
moreBtn.addEventListener("click", ask);

// ask fetches the next page of what query finds, older than before.
async function ask() {
  const mine = gen;
  status.textContent = t("Searching…");
  moreBtn.hidden = true;
  try {
    let url = `/api/rooms/${encodeURIComponent(room)}/search?q=${encodeURIComponent(query)}`;
    if (before) url += `&before=${before}`;
    const res = await paced(url);
    if (res.status === 401) return sessionEnded();
    // Any other refusal is the server's trouble, not the reader's (a query
    // the API would refuse is not asked, see above), and its words are
    // English only.
    if (!res.ok) throw new Error(`search: ${res.status}`);
    const body = await res.json();
    if (mine !== gen) return;
    for (const ev of body.events) results.append(resultEl(ev, query));
    if (body.events.length) before = body.events.at(-1).id;
    status.textContent = results.children.length ? "" : t("No messages found.");
    moreBtn.hidden = !body.more;
  } catch {
    if (mine === gen) status.textContent = t("Could not search.");
  }
}

// foldChar is the character a search compares c as, as the server folds
// it (search.go's foldRune): full-width Latin as ASCII, half-width
// katakana as full-width, then lower of upper case, where each is one
// character for one (so a place found is the same place in the text).
// Where the browser's mapping gives more than one, Go's simple mappings
// give c itself, except for "İ", whose lower case is "i" and a dot.
export function foldChar(c) {
  const one = (s) => ([...s].length === 1 ? s : c);
  if (/^[\u3000\uff01-\uff9f\uffe0-\uffe2\uffe4-\uffee]$/.test(c)) c = one(c.normalize("NFKC"));
  c = one(c.toUpperCase());
  return [...c.toLowerCase()][0];
}

// resultEl is one message found: who, when, and its text with each
// place the query was found marked.
function resultEl(ev, q) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "result";
  b.dataset.id = ev.id;
  const text = document.createElement("span");
  text.className = "result-text";
  text.dir = "auto";
  const chars = [...ev.text], hay = chars.map(foldChar), needle = [...q].map(foldChar);
  const at = (i) => needle.every((c, j) => hay[i + j] === c);
  let last = 0;
  for (let i = 0; needle.length && i + needle.length <= hay.length; ) {
    if (!at(i)) {
      i++;
      continue;
    }
    text.append(chars.slice(last, i).join(""));
    const mark = document.createElement("mark");
    mark.textContent = chars.slice(i, i + needle.length).join("");
    text.append(mark);
    i = last = i + needle.length;
  }
  text.append(chars.slice(last).join(""));
  b.append(authorEl(ev.user), " ", timeLabel(ev.ts), " ", text);
  li.append(b);
  return li;
}

results.addEventListener("click", async (e) => {
  const b = e.target.closest(".result");
  if (!b) return;
  showSearch(false);
  goTo(Number(b.dataset.id));
});
