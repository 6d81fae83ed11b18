// Searching the room: the header's Search opens a panel with a box; what
// is typed there is looked up with the search API, and the messages found
// are listed newest first, with the words found marked. A click on one
// shows it in the conversation (loading the history up to it, as a
// reply's quote does), and closes the panel.
import { t } from "./i18n.js";
import { $, room } from "./state.js";
import { flashError, timeLabel, authorEl } from "./view.js";
import { toMessage } from "./link.js";
import { sessionEnded } from "./socket.js";

const btn = $("search-toggle"), panel = $("search"), form = $("search-form"), box = $("search-input");
const results = $("search-results"), status = $("search-status"), moreBtn = $("search-more");
// gen counts searches: the answer to one that another has replaced is
// dropped.
let query = "", before = 0, gen = 0;

export function showSearch(open) {
  panel.hidden = !open;
  btn.setAttribute("aria-expanded", String(open));
  if (open) box.focus();
}
btn.addEventListener("click", () => showSearch(panel.hidden));
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || panel.hidden) return;
  const inside = panel.contains(document.activeElement);
  showSearch(false);
  if (inside) btn.focus();
});

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const q = box.value.trim();
  if (!q) return;
  query = q;
  before = 0;
  gen++;
  results.replaceChildren();
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
    const res = await fetch(url, { credentials: "same-origin" });
    if (res.status === 401) return sessionEnded();
    const body = await res.json();
    if (mine !== gen) return;
    if (!res.ok) { status.textContent = body.error?.message || t("Could not search."); return; }
    for (const ev of body.events) results.append(resultEl(ev, query));
    if (body.events.length) before = body.events.at(-1).id;
    status.textContent = results.children.length ? "" : t("No messages found.");
    moreBtn.hidden = !body.more;
  } catch {
    if (mine === gen) status.textContent = t("Could not search.");
  }
}

// resultEl is one message found: who, when, and its text with each
// place the query was found marked (ASCII case aside, as the server
// finds it).
function resultEl(ev, q) {
  const li = document.createElement("li");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "result";
  b.dataset.id = ev.id;
  const text = document.createElement("span");
  text.className = "result-text";
  text.dir = "auto";
  const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const hay = fold(ev.text), needle = fold(q);
  let last = 0;
  for (let i = hay.indexOf(needle); i >= 0 && needle; i = hay.indexOf(needle, last)) {
    text.append(ev.text.slice(last, i));
    const mark = document.createElement("mark");
    mark.textContent = ev.text.slice(i, i + needle.length);
    text.append(mark);
    last = i + needle.length;
  }
  text.append(ev.text.slice(last));
  b.append(authorEl(ev.user), " ", timeLabel(ev.ts), " ", text);
  li.append(b);
  return li;
}

results.addEventListener("click", async (e) => {
  const b = e.target.closest(".result");
  if (!b) return;
  showSearch(false);
  if (!(await toMessage(Number(b.dataset.id)))) flashError(t("That message is too far back to show here."));
});
