// Sending, and what the server has not confirmed yet: shown as pending,
// sent again after a reconnect, and kept through a reload.
import { t, plural } from "./i18n.js";
import { room, me, MAX_LEN, state, pendingList, text, sendBtn, counter } from "./state.js";
import { messageEl, flashError, caughtUp, button, shownMessage } from "./view.js";
import { toLatest } from "./history.js";
import { checkAlive, SUSPECT_MS } from "./socket.js";
import { sent } from "./typing.js";
import { stopReply } from "./reply.js";

// ---- sending
export function newNonce() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function pendingEl(p) {
  const li = messageEl({ user: me, text: p.text, reply_to: p.replyTo, image: p.image }, false, "pending");
  const note = document.createElement("span");
  note.className = "pending-note";
  li.append(note);
  return li;
}

export function setPending(p, status) {
  p.status = status;
  saveOutbox();
  const note = p.el.querySelector(".pending-note");
  p.el.classList.toggle("failed", status === "failed");
  note.replaceChildren(status === "failed" ? t("Not sent") : state.ready ? t("Sending…") : t("Waiting for connection"));
  if (status === "failed") {
    // Remove, for a refusal that trying again cannot change: the message
    // would otherwise stay, through reloads too. Retry, unless the page
    // knows it would be refused again (p.gone: its picture is no longer
    // on the server, see socket.js's onError).
    const remove = button("remove", "Remove");
    remove.addEventListener("click", () => forget(p));
    if (!p.gone) {
      const again = button("retry", "Retry");
      again.addEventListener("click", () => {
        if (state.pending.get(p.nonce) !== p) return; // delivered meanwhile
        setPending(p, "queued");
        if (state.ready) transmit(p);
      });
      note.append(" ", again);
    }
    note.append(" ", remove);
  }
}

// after tells the server how far back a copy of this message could be
// stored: any copy has a higher id than the newest the page had seen
// when it first sent it. That is the id to keep, not the page's last
// id at a resend: a truncated replay leaves a gap before it.
export function transmit(p) {
  if (p.after === undefined) p.after = state.lastId;
  setPending(p, "sent");
  const frame = { type: "message", text: p.text, nonce: p.nonce, after: p.after };
  if (p.replyTo) frame.reply_to = p.replyTo;
  if (p.image) frame.image = p.image.id;
  state.ws.send(JSON.stringify(frame));
  setTimeout(() => { if (state.pending.get(p.nonce) === p && p.status === "sent") checkAlive(); }, SUSPECT_MS);
}

// addPending puts a message in the outbox; image is its picture, uploaded
// already (see pictures.js), and gone says the server no longer has it.
export function addPending(nonce, value, status, after, replyTo = 0, image = null, gone = false) {
  const p = { nonce, text: value, status, after, replyTo, image, gone, el: null };
  p.el = pendingEl(p);
  state.pending.set(p.nonce, p);
  pendingList.append(p.el);
  setPending(p, status);
  return p;
}

// trimmed cuts white space from both ends as the server does (Go's
// strings.TrimSpace), so the page counts what will be stored. JavaScript's
// trim differs at U+0085 (space to Go) and U+FEFF (not).
export const trimmed = (s) => s.replace(/^[\t\n\v\f\r\u0085\p{Z}]+|[\t\n\v\f\r\u0085\p{Z}]+$/gu, "");

// send takes what the composer holds, unless it is empty or too long: a
// too-long one stays, so nothing typed is lost, and the page says why.
// (The textarea has no maxlength: that would cut a paste without a word,
// and it counts UTF-16 units, so an emoji would count as two.)
export function send() {
  const value = trimmed(text.value);
  if (!value) return;
  if ([...value].length > MAX_LEN) { flashError(t("too_long")); return; }
  text.value = "";
  sent();
  caughtUp(); // they have read what is new: the "New" line has done its work
  const p = addPending(newNonce(), value, "queued", undefined, state.replyTo);
  stopReply();
  if (state.ready) transmit(p);
  updateComposer();
  toLatest();
}

// confirmed drops a message from the outbox: the server has it.
export function confirmed(nonce) {
  const p = state.pending.get(nonce);
  if (p) forget(p);
}

// forget takes p out of the outbox, and off the screen.
function forget(p) {
  if (state.pending.get(p.nonce) !== p) return;
  p.el.remove();
  state.pending.delete(p.nonce);
  saveOutbox();
}

// ---- surviving a reload
// What the server has not confirmed, and the draft, are kept in
// sessionStorage too: a reload, or a phone's browser discarding the tab
// in the background, would otherwise lose what was typed offline. It is
// per tab, so other tabs do not send the same messages, and per room. The
// page that comes back resumes from the saved last id, as a reconnect
// does: the replay brings back any of these the server did store (by
// nonce), and only the others are sent. (Any message of ours the page
// had not seen by that id has a higher one, as the room's ids follow
// commit order.)
const OUTBOX_PREFIX = "chat.outbox.", OUTBOX = OUTBOX_PREFIX + room;
let loggingOut = false;
export function saveOutbox() {
  if (loggingOut) return;
  const items = [...state.pending.values()].map((p) => ({ nonce: p.nonce, text: p.text, after: p.after, replyTo: p.replyTo, image: p.image, failed: p.status === "failed", gone: p.gone }));
  // While a message is being edited, the composer holds its text; the
  // draft is what waits aside (see edit.js).
  const draft = state.editing ? state.editing.draft : text.value;
  try {
    if (items.length === 0 && !draft) sessionStorage.removeItem(OUTBOX);
    else sessionStorage.setItem(OUTBOX, JSON.stringify({ user: me, lastId: state.lastId, items, draft }));
  } catch { /* storage full or turned off: the page works without it */ }
}
// forgetOutboxes ends what this tab kept, for every room: on logout.
export function forgetOutboxes() {
  loggingOut = true;
  for (const k of Object.keys(sessionStorage)) if (k.startsWith(OUTBOX_PREFIX)) sessionStorage.removeItem(k);
}

export function restoreOutbox() {
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(OUTBOX)); } catch { /* nothing usable */ }
  if (!saved || saved.user !== me || !Array.isArray(saved.items)) return;
  if (typeof saved.draft === "string") text.value = saved.draft;
  if (saved.items.length === 0) return;
  if (saved.lastId > 0) {
    state.lastId = saved.lastId;
    state.oldestId = saved.lastId + 1; // what came before loads as older history
  }
  for (const it of saved.items) {
    // Kept by a page before after was: no copy of it has an id the
    // page had seen, so the saved last id serves.
    const after = Number.isInteger(it.after) ? it.after : Number.isInteger(saved.lastId) ? saved.lastId : undefined;
    const replyTo = Number.isInteger(it.replyTo) && it.replyTo > 0 ? it.replyTo : 0;
    const image = typeof it.image?.id === "string" && it.image.width > 0 && it.image.height > 0 ? { id: it.image.id, width: it.image.width, height: it.image.height } : null;
    if (typeof it.nonce === "string" && typeof it.text === "string") addPending(it.nonce, it.text, it.failed ? "failed" : "queued", after, replyTo, image, image !== null && it.gone === true);
  }
}

export function updateComposer() {
  const len = [...trimmed(text.value)].length;
  const left = MAX_LEN - len;
  counter.hidden = left > 200;
  counter.textContent = left >= 0 ? plural(left, "1 character left", "{n} characters left")
    : plural(-left, "1 character too many", "{n} characters too many");
  counter.classList.toggle("over", left < 0);
  // An edit may empty a picture's caption; nothing else goes empty.
  const mayBeEmpty = !!state.editing && !!shownMessage(state.editing.id)?.image;
  sendBtn.disabled = (len === 0 && !mayBeEmpty) || left < 0 || !!state.editing?.nonce; // an edit on its way
  text.style.height = "auto";
  text.style.height = Math.min(text.scrollHeight, 160) + "px";
}
