// Showing the conversation: events as list items (history.js loads the
// history around them), the online list, errors, and what arrived while
// the reader was away.
// User text only ever reaches the DOM through textContent and text nodes.
import { t, plural } from "./i18n.js";
import { $, me, room, state, log, list, top, errBox, newBtn, firstUnreadBtn, baseTitle, fold } from "./state.js";
import { formatted } from "./format.js";
import { reactionsEl, paletteEl, withReaction } from "./reactions.js";
import { pictureEl } from "./pictures.js";
import { hm, full, dayKey, dayLabel, timeEl } from "./time.js";

// authorEl is a name, as a message or a line shows who: in one of eight
// colours (n0–n7 in style.css), the same for a name wherever and however
// it is written (it is chosen from the name as the server compares it),
// so people are told apart at a glance.
export function authorEl(name) {
  const el = document.createElement("span");
  let h = 2166136261; // FNV-1a
  for (const c of fold(name)) h = Math.imul(h ^ c.codePointAt(0), 16777619);
  el.className = `author n${(h >>> 0) % 8}`;
  el.textContent = name;
  return el;
}

// A touch screen shows no title, and a phone hides grouped messages'
// times: a tap on a message or a join shows its full date under it, and
// another tap hides it.
export function toggleFullTime(li) {
  const shown = li.querySelector(".full-time");
  if (shown) { shown.remove(); return; }
  const p = document.createElement("p");
  p.className = "full-time";
  p.textContent = full.format(new Date(li.querySelector("time").dateTime));
  const ev = shownMessage(Number(li.dataset.id));
  if (ev) p.append(" ", ...actionButtons(ev));
  li.append(p);
}

// ---- mentions
// A message from someone else with "@" and the reader's name in it is
// highlighted. Names compare as the server compares them, whatever the
// case or width (NFKC, then lower case), and the mention must stand on
// its own: not "bob@alice.com", nor "@alice2" or "@alice.b" for alice
// (name characters straight after it, but for "@alice." or "@alice…",
// make it another name).
const myTag = fold("@" + me);
const NAME_CHAR = /[\p{L}\p{M}\p{N}_.-]/u, NAME_GOES_ON = /^[_.-]*[\p{L}\p{M}\p{N}]/u;
export function mentionsMe(s = "") {
  const f = fold(s);
  for (let i = f.indexOf(myTag); i >= 0; i = f.indexOf(myTag, i + 1)) {
    if (!NAME_CHAR.test(f[i - 1] ?? " ") && !NAME_GOES_ON.test(f.slice(i + myTag.length))) return true;
  }
  return false;
}

// callsMe: someone else's message mentions the reader, or replies to one
// of their messages (on screen).
export const callsMe = (ev) => ev.user !== me && !ev.deleted && (mentionsMe(ev.text) || (!!ev.reply_to && shownMessage(ev.reply_to)?.user === me));

// messageLi is the list item of the message with this id, if it is on
// screen.
export const messageLi = (id) => list.querySelector(`.msg[data-id="${Number(id)}"]`);

// shownMessage is the message with this id among the events on screen.
export const shownMessage = (id) => state.events.find((e) => e.id === id && e.type === "message");

// changeable: the page's own session sent it (the server's rule: a
// name's messages from its session's login on), and it is still there,
// so it may be edited or deleted.
export const changeable = (ev) => ev.user === me && ev.id > 0 && !ev.deleted && !!state.loginAt && ev.ts >= state.loginAt;

// button is a plain button of the page's, with its label in the
// reader's language.
export function button(className, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = className;
  b.textContent = t(label);
  return b;
}
// React, Reply and Link on any message there is; Edit and Delete on
// one's own.
function actionButtons(ev) {
  if (!ev.id || ev.deleted) return [];
  const out = [button("react", "React"), button("reply", "Reply"), button("link", "Link")];
  if (changeable(ev)) out.push(button("edit", "Edit"), button("delete", "Delete"));
  return out;
}

// ---- replies
// A reply shows the message it answers over its text: who, and the start
// of what they said, from the events on screen. A tap on it goes there.
// One not on screen (further up, not loaded) is "an earlier message" until
// it is; an edit or a delete of it shows in its replies too.
export function quoteEl(ref) {
  const q = document.createElement("button");
  q.type = "button";
  q.className = "quote";
  q.dataset.ref = ref;
  const ev = shownMessage(ref);
  if (!ev) {
    q.classList.add("unknown");
    q.textContent = t("An earlier message");
    return q;
  }
  const who = authorEl(ev.user);
  const what = document.createElement("span");
  what.className = "quote-text";
  what.dir = "auto";
  what.textContent = ev.deleted ? t("This message was deleted.") : ev.text ? ev.text.slice(0, 200) : "🖼 " + t("Picture");
  q.append(who, " ", what);
  return q;
}
// refreshQuotes shows message ref's newest state in every reply to it,
// sent or waiting.
function refreshQuotes(ref) {
  for (const q of document.querySelectorAll(`.quote[data-ref="${Number(ref)}"]`)) q.replaceWith(quoteEl(ref));
}
export function messageEl(ev, grouped, extraClass) {
  const li = document.createElement("li");
  const mention = callsMe(ev);
  li.className = "msg" + (ev.user === me ? " mine" : "") + (mention ? " mention" : "") + (grouped ? " grouped" : "") + (extraClass ? " " + extraClass : "") +
    (ev.id && state.editing?.id === ev.id ? " editing" : "");
  if (ev.id) li.dataset.id = ev.id;
  const d = ev.ts ? new Date(ev.ts) : new Date();
  if (!grouped) {
    const head = document.createElement("div");
    head.className = "meta";
    head.append(authorEl(ev.user), timeEl(d));
    li.append(head);
  } else {
    const side = timeEl(d);
    side.className = "side-time";
    li.append(side);
  }
  if (ev.reply_to) li.append(quoteEl(ev.reply_to));
  if (ev.image && !ev.deleted) li.append(pictureEl(ev));
  // A div, not a p: a code block (pre) may be in it.
  const p = document.createElement("div");
  p.className = "text";
  if (ev.deleted) {
    p.classList.add("deleted");
    p.textContent = t("This message was deleted.");
  } else {
    p.dir = "auto"; // Arabic or Hebrew reads right to left, punctuation and all
    if (ev.text) p.append(formatted(ev.text));
    else p.classList.add("empty"); // a picture alone: the row still holds (edited)
    if (ev.edited) {
      const mark = document.createElement("span");
      mark.className = "edited";
      mark.textContent = t("(edited)");
      mark.title = t("Edited {when}", { when: full.format(new Date(ev.edited)) });
      p.append(" ", mark);
    }
  }
  li.append(p);
  const reactions = reactionsEl(ev);
  if (reactions) li.append(reactions);
  // A mouse shows them on hover, the keyboard on focus (style.css); a
  // touch screen in the row a tap opens (toggleFullTime).
  const buttons = actionButtons(ev);
  if (buttons.length) {
    const actions = document.createElement("span");
    actions.className = "actions";
    actions.append(...buttons);
    li.append(actions);
  }
  return li;
}

// markEdited gives the message an edit names its new text, where it is
// on screen. An edit with no text was replaced by a later one (or the
// message deleted), which comes too. One further up, not loaded, comes
// with its newest text from the history API.
export function markEdited(edit) {
  const ev = shownMessage(edit.ref);
  // An edit with no text was one a later edit or a delete made empty
  // (that one follows), or else it took a picture's caption away.
  if (!ev || ev.deleted || (!edit.text && !ev.image)) return;
  ev.text = edit.text;
  ev.edited = edit.ts;
  rerender(ev);
  refreshQuotes(ev.id);
}

// markReaction applies a react or unreact event to the message it names,
// where it is on screen: its row of reactions, not the whole message, so
// an open palette or a focused button stays.
export function markReaction(r) {
  const ev = shownMessage(r.ref);
  if (!ev || ev.deleted) return;
  ev.reactions = withReaction(ev.reactions, r);
  const li = messageLi(ev.id);
  if (!li) return;
  const row = reactionsEl(ev), old = li.querySelector(":scope > .reactions");
  if (old && row) old.replaceWith(row);
  else if (old) old.remove();
  else if (row) li.querySelector(":scope > .text").after(row);
}

// togglePalette opens the row of every reaction under a message, or
// closes it.
export function togglePalette(li) {
  const open = li.querySelector(":scope > .palette");
  if (open) { open.remove(); return; }
  (li.querySelector(":scope > .reactions") ?? li.querySelector(":scope > .text")).after(paletteEl());
  li.querySelector(".palette .pick").focus();
}

function rerender(ev) {
  const li = messageLi(ev.id);
  if (li) li.replaceWith(messageEl(ev, li.classList.contains("grouped")));
}

// markDeleted shows message ref as deleted, where it is on screen. One
// further up, not loaded, comes deleted from the history API.
export function markDeleted(ref) {
  const ev = shownMessage(ref);
  if (!ev) return;
  ev.deleted = true;
  delete ev.text;
  delete ev.image;
  delete ev.edited;
  rerender(ev);
  refreshQuotes(ev.id);
}

function systemEl(ev) {
  const li = document.createElement("li");
  li.className = "system";
  li.dataset.id = ev.id;
  const d = new Date(ev.ts);
  li.append(authorEl(ev.user), " ");
  if (ev.type !== "topic") li.append(t(ev.type === "join" ? "joined" : "left"));
  else if (!ev.text) li.append(t("cleared the topic"));
  else {
    const topic = document.createElement("q");
    topic.dir = "auto";
    topic.textContent = ev.text;
    li.append(t("set the topic:") + " ", topic);
  }
  li.append(" · ", timeEl(d));
  return li;
}

export function nodesFor(ev, prev) {
  const out = [];
  const d = new Date(ev.ts);
  const pd = prev && new Date(prev.ts);
  if (!prev || dayKey(pd) !== dayKey(d)) {
    const li = document.createElement("li");
    li.className = "divider";
    li.setAttribute("role", "separator");
    li.dataset.time = d.getTime();
    li.textContent = dayLabel(d);
    out.push(li);
  }
  const first = ev.id === state.unreadFrom;
  if (first) out.push(unreadLine());
  if (ev.type === "message") {
    // The first unread message shows its author: the line parts it from
    // the one before.
    const grouped = !first && !!prev && prev.type === "message" && prev.user === ev.user &&
      dayKey(pd) === dayKey(d) && d - pd < 5 * 60 * 1000;
    out.push(messageEl(ev, grouped));
  } else {
    out.push(systemEl(ev));
  }
  return out;
}

export function renderAll() {
  const nodes = [];
  let prev = null;
  for (const ev of state.events) {
    nodes.push(...nodesFor(ev, prev));
    prev = ev;
  }
  list.replaceChildren(...nodes);
  quoteKnown();
  renderTop();
}

// quoteKnown shows who and what in the replies waiting to be sent that
// quote a message which has come on screen since (id, or any): a
// reloaded page shows its outbox and its stash before its history.
export function quoteKnown(id) {
  const unknown = id ? `#pending .quote.unknown[data-ref="${Number(id)}"]` : "#pending .quote.unknown";
  for (const q of document.querySelectorAll(unknown)) {
    if (shownMessage(Number(q.dataset.ref))) q.replaceWith(quoteEl(Number(q.dataset.ref)));
  }
}

export function renderTop() {
  if (state.reachedStart) top.textContent = t("Beginning of #{room}", { room });
  else if (state.loadingOlder) top.textContent = t("Loading older messages…");
  else if (state.olderRetry.waiting) top.textContent = t("Could not load older messages.");
  else top.textContent = "";
}

// ---- scrolling
export const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
export const toBottom = () => { log.scrollTop = log.scrollHeight; };
// showNew shows the button down to the newest messages: with how many
// came while the reader was scrolled up, or, with none, once they are
// more than a screen and a half up (after a search or a link took them
// there, say), where scrolling back down would take long, and always
// while a window far back is on screen (history.js).
export function showNew() {
  if (state.newCount > 0) {
    newBtn.textContent = plural(state.newCount, "1 new message", "{n} new messages");
    newBtn.hidden = false;
    return;
  }
  const below = log.scrollHeight - log.scrollTop - log.clientHeight;
  newBtn.textContent = t("Latest messages ↓");
  newBtn.hidden = !state.pastTo && below <= 1.5 * log.clientHeight;
}

// ---- presence
const onlineBtn = $("online-toggle"), onlineNames = $("online-names");
// Each name but one's own is a button: chat.js has it mention them.
export function setOnline(names) {
  state.online = names;
  // A narrower header (a phone, a tablet) shows "👥 3" (style.css); the
  // words stay its name.
  const short = document.createElement("span"), label = document.createElement("span");
  short.className = "short";
  short.setAttribute("aria-hidden", "true");
  short.textContent = `👥 ${names.length}`;
  label.className = "label";
  label.textContent = t("{n} online", { n: names.length });
  onlineBtn.replaceChildren(short, label);
  onlineNames.replaceChildren(...names.map((n) => {
    const li = document.createElement("li");
    if (n === me) {
      li.className = "me";
      li.textContent = n;
    } else {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "mention-name";
      b.dataset.name = n;
      b.textContent = n;
      b.setAttribute("aria-label", t("Mention {name}", { name: n }));
      li.append(b);
    }
    return li;
  }));
}

// ---- errors
let errTimer = 0;
export function flashError(msg) {
  errBox.textContent = msg;
  errBox.hidden = false;
  clearTimeout(errTimer);
  errTimer = setTimeout(() => { errBox.hidden = true; }, 5000);
}

// ---- what arrived while the reader was away
// Away is a hidden tab, or a window without focus: another app in front
// of it, which a browser does not always count as hidden. Messages from
// others that arrive then are counted in the title until the reader is
// back, and a "New" line goes before the first of them. The line stays
// after they are back, so they can find where they left off; it goes
// when they send a message, or moves when they are away again and the
// next message comes. If it is above the view when they come back (the
// view followed what came), a button at the top says how many came since
// when, and takes them up to it; it goes once the line has been in view.
export const away = () => document.hidden || !document.hasFocus();
export function markUnread(ev) {
  if (state.unread === 0) {
    list.querySelector(".unread-line")?.remove();
    state.unreadFrom = ev.id;
    state.unreadSeen = false;
  }
  state.unread++;
  updateTitle();
}
export function back() {
  if (away()) return;
  showFirstUnread();
  if (state.unread === 0) return;
  state.unread = 0;
  updateTitle();
}
export function caughtUp() {
  state.unreadFrom = 0;
  list.querySelector(".unread-line")?.remove();
  showFirstUnread();
}
// showFirstUnread shows the button to the "New" line while the line is
// above the view and has not been in view since the reader came back.
// (Not while away: the view following new messages then is no reading.)
export function showFirstUnread() {
  const line = list.querySelector(".unread-line");
  if (away()) { firstUnreadBtn.hidden = true; return; }
  if (!line || line.getBoundingClientRect().bottom > log.getBoundingClientRect().top + firstUnreadBtn.offsetHeight) state.unreadSeen = true;
  firstUnreadBtn.hidden = state.unreadSeen;
  if (state.unreadSeen) return;
  const since = state.events.filter((e) => e.id >= state.unreadFrom && e.type === "message" && e.user !== me);
  firstUnreadBtn.textContent = plural(since.length, "1 new message since {time}", "{n} new messages since {time}", { time: hm.format(new Date(since[0].ts)) });
}
export function toFirstUnread() {
  list.querySelector(".unread-line")?.scrollIntoView({ block: "center" });
  showFirstUnread();
}
function unreadLine() {
  const li = document.createElement("li");
  li.className = "unread-line";
  li.setAttribute("role", "separator");
  li.textContent = t("New");
  return li;
}
function updateTitle() {
  document.title = state.unread > 0 ? `(${state.unread}) ${baseTitle}` : baseTitle;
}
