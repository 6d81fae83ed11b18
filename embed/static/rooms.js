// The rooms this browser has been in lately, offered in the header's room
// box (a datalist), newest first and not the one open, with how many
// messages came in each since it was last read there. Kept in
// localStorage, at most KEEP of them, and forgotten on logout: the next
// person at a shared computer need not see where the last one talked.
import { $, room, state, roomName } from "./state.js";
import { t, locale } from "./i18n.js";

const KEY = "chat.rooms", SEEN_KEY = "chat.seen", KEEP = 10;
let forgotten = false; // logged out: see forgetRooms
// The counts are asked for (GET /api/unread) each time the socket is
// ready (so after every reconnect), when the page is looked at again or
// the room box is, and every POLL_MS while it is on screen; between
// asks, the socket watches the rooms (see watched) and each of their new
// messages is added as it comes (onNews). Asking again sets right what
// is not pushed: a message deleted, or read in another tab.
const POLL_MS = 5 * 60 * 1000, CAP = 100; // unread.go's unreadCap

function load(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch { return fallback; }
}
function save(key, v) {
  try { localStorage.setItem(key, JSON.stringify(v)); } catch { /* storage off: no list */ }
}

const kept = load(KEY, []);
// Only names the server takes: the socket is refused for one that is not
// (see watched).
const rooms = [room, ...(Array.isArray(kept) ? kept : []).filter((r) => typeof r === "string" && r !== room && roomName(r))].slice(0, KEEP);
save(KEY, rooms);
const others = rooms.slice(1);

// seen is, for each room, the id of the last message read there: for
// this one, the newest on screen, or the one before the first that came
// while the reader was away (the "New" line, see view.js). Another tab's
// seen ids are kept; only this room's is written.
function noteSeen() {
  if (!state.live || forgotten) return; // not loaded yet, or logging out
  const id = state.unread > 0 ? state.unreadFrom - 1 : state.lastId;
  const seen = load(SEEN_KEY, {});
  if (typeof seen !== "object" || Array.isArray(seen)) return;
  for (const r of Object.keys(seen)) if (r !== room && !rooms.includes(r)) delete seen[r];
  seen[room] = id;
  save(SEEN_KEY, seen);
}

const badge = $("rooms-unread"), options = $("recent-rooms");
// counts are what is shown. upto is, for each room asked about, the
// newest id the last answer covered, and heard the news that came after
// it (so an answer that was counted before some news came does not
// lose that news).
let counts = {}, upto = {}, heard = {};

// watched are the rooms this page's socket asks to hear of (news.go).
export const watched = () => (forgotten ? [] : others);

// onNews adds a new message in another room, pushed over the socket.
export function onNews(ev) {
  if (!others.includes(ev.room) || !(ev.id > (upto[ev.room] ?? 0)) || !(ev.count > 0)) return;
  (heard[ev.room] ??= []).push({ id: ev.id, count: ev.count });
  if (heard[ev.room].length > CAP) heard[ev.room].shift(); // the count is capped anyway
  counts[ev.room] = Math.min(CAP, (counts[ev.room] ?? 0) + ev.count);
  render();
}

// many is a count as shown: the server stops counting at CAP.
const many = (n) => (n >= CAP ? `${CAP}+` : String(n));
const and = new Intl.ListFormat(locale, { type: "conjunction" });

function render() {
  options.replaceChildren(...others.map((r) => {
    const o = document.createElement("option");
    o.value = r;
    const n = counts[r] ?? 0;
    if (n > 0) o.label = t("{n} new", { n: many(n) });
    return o;
  }));
  const news = others.filter((r) => counts[r] > 0);
  badge.hidden = news.length === 0;
  if (!news.length) return;
  // The badge goes to the room with news visited last; the room box
  // lists them all.
  const total = news.reduce((sum, r) => sum + counts[r], 0), capped = news.some((r) => counts[r] >= CAP);
  const shown = capped ? `${total}+` : String(total);
  badge.href = `/r/${encodeURIComponent(news[0])}`;
  badge.querySelector(".count").textContent = shown;
  const name = news.length > 1
    ? t("New messages in other rooms: {rooms}", { rooms: and.format(news.map((r) => `#${r} (${many(counts[r])})`)) })
    : t(shown === "1" ? "1 new message in #{room}" : "{n} new messages in #{room}", { room: news[0], n: shown });
  badge.title = name;
  badge.setAttribute("aria-label", name);
}

let timer = 0, asking = false;
async function refresh() {
  clearTimeout(timer);
  if (document.hidden) return; // again when it is looked at
  timer = setTimeout(refresh, POLL_MS);
  noteSeen(); // for this room, which another tab may be counting
  const seen = load(SEEN_KEY, {});
  const asked = others.filter((r) => Number.isInteger(seen?.[r]) && seen[r] >= 0);
  if (!asked.length || asking) return; // never read there since counts were kept, or asked already
  asking = true;
  try {
    const res = await fetch(`/api/unread?${asked.map((r) => `seen=${encodeURIComponent(`${r}:${seen[r]}`)}`).join("&")}`);
    if (!res.ok) return; // the next poll asks again
    const { unread = {}, last = {} } = await res.json();
    for (const r of asked) {
      upto[r] = last[r] ?? 0;
      heard[r] = (heard[r] ?? []).filter((n) => n.id > upto[r]);
      counts[r] = Math.min(CAP, (unread[r] ?? 0) + heard[r].reduce((sum, n) => sum + n.count, 0));
    }
    render();
  } catch { /* offline: the next poll asks again */ } finally {
    asking = false;
  }
}

render();
document.addEventListener("visibilitychange", () => {
  if (document.hidden) noteSeen();
  else refresh();
});
addEventListener("pagehide", noteSeen);
$("room-input").addEventListener("focus", refresh);
// What the page shows on load is read (refresh notes it), and what came
// elsewhere while the socket was down was not pushed.
addEventListener("chat:ready", refresh);

// forgetRooms empties the list, and what was read where, for good: on
// logout (the page that leaves does not write its room's again).
export function forgetRooms() {
  forgotten = true;
  try {
    localStorage.removeItem(KEY);
    localStorage.removeItem(SEEN_KEY);
  } catch { /* nothing kept */ }
}
