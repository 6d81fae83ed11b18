// The chat page. It speaks the protocol in README.md; each module says
// what it holds: i18n.js, state.js (what they share), view.js (what is on
// screen), socket.js (the connection) and outbox.js (sending, and what
// waits to be confirmed). This one wires the page's controls to them and
// starts.
import { t, translatePage } from "./i18n.js";
import { $, room, me, state, log, list, text, newBtn, firstUnreadBtn, roomName, composing } from "./state.js";
import { relabelDays } from "./time.js";
import { showNew, atBottom, setOnline, renderTop, flashError, back, toggleFullTime, showFirstUnread, toFirstUnread, togglePalette, shownMessage } from "./view.js";
import { toggleReaction } from "./reactions.js";
import "./search.js";
import { noteMention, mentionKey } from "./mentions.js";
import { copyLink, messageLink, toLinked, goTo } from "./link.js";
import { loadOlder, fillViewport, toLatest, loadNewer, nearTop, nearBottom } from "./history.js";
import "./topic.js";
import { restoreUploads } from "./pictures.js";
import { forgetStash } from "./stash.js";
import { forgetRooms } from "./rooms.js";
import { connect, wakeUp, goneOffline } from "./socket.js";
import { send, saveOutbox, restoreOutbox, forgetOutboxes, updateComposer } from "./outbox.js";
import { noteTyping } from "./typing.js";
import { startEdit, stopEdit, saveEdit, lastEditable } from "./edit.js";
import { startReply, stopReply } from "./reply.js";

translatePage(room);

// ---- scrolling
// Jumping to the new messages puts the cursor in the composer, but not on
// a touch screen: there that opens the keyboard over what one came to read.
newBtn.addEventListener("click", () => {
  toLatest();
  if (!matchMedia("(pointer: coarse)").matches) text.focus();
});
log.addEventListener("scroll", () => {
  if (atBottom() && !state.pastTo) state.newCount = 0;
  showNew();
  if (nearTop()) loadOlder();
  if (state.pastTo && nearBottom()) loadNewer();
  if (!firstUnreadBtn.hidden) showFirstUnread();
  placeActions(list.querySelector(".msg:hover, .msg:focus-within"));
}, { passive: true });
firstUnreadBtn.addEventListener("click", toFirstUnread);

// A message's toolbar (React, Reply, …) sits on its top edge (style.css).
// On a tall one, a picture, whose top is scrolled out of the log, it
// would be out of view with it: it comes down to the log's top edge
// instead, as far as the message's end, while the mouse or the keyboard
// is on the message, and follows a scroll.
function placeActions(li) {
  const bar = li?.querySelector(":scope > .actions");
  if (!bar) return;
  bar.style.top = "";
  const cut = log.getBoundingClientRect().top + 2 - bar.getBoundingClientRect().top;
  if (cut > 0) bar.style.top = `${Math.min(bar.offsetTop + cut, li.clientHeight - bar.offsetHeight)}px`;
}
list.addEventListener("pointerover", (e) => placeActions(e.target.closest(".msg")));
list.addEventListener("focusin", (e) => placeActions(e.target.closest(".msg")));

// ---- reacting to a message (reactions.js), replying to it (reply.js)
// and going to the one a reply quotes; editing one's own message
// (edit.js), and deleting it, for everyone, once confirmed; the server's
// events then show it changed on every page.
list.addEventListener("click", (e) => {
  const li = e.target.closest(".msg"), id = Number(li?.dataset.id);
  const quote = e.target.closest(".quote");
  if (quote) { goTo(Number(quote.dataset.ref)); return; }
  if (e.target.closest(".react")) { togglePalette(li); return; }
  const emoji = e.target.closest(".pick, .reaction")?.dataset.emoji;
  if (emoji) {
    const ev = shownMessage(id);
    if (ev && !toggleReaction(ev, emoji)) flashError(t("unavailable"));
    if (e.target.closest(".pick")) li.querySelector(":scope > .palette")?.remove();
    return;
  }
  if (e.target.closest(".reply")) { startReply(id); return; }
  if (e.target.closest(".link")) { copyLink(messageLink(id), e.target.closest(".link"), "Link", "Copy this link to the message:"); return; }
  if (e.target.closest(".edit")) { startEdit(id); return; }
  if (!e.target.closest(".delete") || !confirm(t("Delete this message for everyone?"))) return;
  if (!state.ready) { flashError(t("unavailable")); return; }
  state.ws.send(JSON.stringify({ type: "delete", id }));
});

// ---- dates on a touch screen (see toggleFullTime); a mouse has titles.
// A tap on a link or a button is theirs, and a tap that ends a text
// selection selects.
list.addEventListener("click", (e) => {
  if (!matchMedia("(pointer: coarse)").matches || e.target.closest("a, button") || !getSelection().isCollapsed) return;
  const li = e.target.closest(".msg, .system");
  if (li) toggleFullTime(li);
});

// ---- the online list
const onlineBtn = $("online-toggle"), onlineList = $("online-list");
function showOnline(open) {
  onlineList.hidden = !open;
  onlineBtn.setAttribute("aria-expanded", String(open));
}
onlineBtn.addEventListener("click", () => showOnline(onlineList.hidden));
// Escape closes a reaction palette, from anywhere on the page.
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") for (const p of list.querySelectorAll(".palette")) p.remove();
});
// Escape closes it, from anywhere on the page, as it does a menu.
document.addEventListener("keydown", (e) => {
  if (e.key !== "Escape" || onlineList.hidden) return;
  const inside = onlineList.contains(document.activeElement);
  showOnline(false);
  if (inside) onlineBtn.focus();
});
// A name in it puts "@name " into the composer where the cursor is, to
// mention them (see mentionsMe in view.js), and the cursor after it.
onlineList.addEventListener("click", (e) => {
  const b = e.target.closest(".mention-name");
  if (!b) return;
  const start = text.selectionStart, end = text.selectionEnd;
  const space = start > 0 && !/\s/.test(text.value[start - 1]) ? " " : "";
  text.setRangeText(space + "@" + b.dataset.name + " ", start, end, "end");
  text.focus();
  updateComposer();
  saveOutbox();
});

// ---- the composer
const submit = () => (state.editing ? saveEdit() : send());
$("send-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); text.focus(); });
text.addEventListener("keydown", (e) => {
  if (mentionKey(e)) return; // the list of names has it (mentions.js)
  // Keys an input method takes while it composes (Chinese input) are its
  // own: Enter that confirms it must not send, nor Escape that cancels it
  // give up an edit.
  if (composing(e)) return;
  // Enter sends (or saves an edit); Shift+Enter is a new line.
  if (e.key === "Enter" && !e.shiftKey) {
    e.preventDefault();
    submit();
  }
  // Escape gives up an edit or a reply; Up in an empty composer edits
  // one's last message, as in other chat apps.
  if (e.key === "Escape" && state.editing) { e.preventDefault(); stopEdit(); }
  else if (e.key === "Escape" && state.replyTo) { e.preventDefault(); stopReply(); }
  if (e.key === "ArrowUp" && !text.value && !state.editing) {
    if (state.pastTo) {
      // From a window far back, one's last message is most likely below
      // it: go to the newest first, as sending does.
      e.preventDefault();
      toLatest().then(() => {
        const id = !state.pastTo && !text.value && !state.editing && lastEditable();
        if (id) startEdit(id);
      });
    } else {
      const id = lastEditable();
      if (id) { e.preventDefault(); startEdit(id); }
    }
  }
});
text.addEventListener("input", () => { updateComposer(); saveOutbox(); noteTyping(); noteMention(); });
// The cursor moved without typing (a click, Left, Home): the name being
// typed may be another one now, or none.
text.addEventListener("keyup", (e) => { if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) noteMention(); });
text.addEventListener("click", noteMention);

// ---- the network and the tab coming and going
window.addEventListener("online", wakeUp);
window.addEventListener("offline", goneOffline);
document.addEventListener("visibilitychange", () => {
  if (document.hidden) return;
  back();
  relabelDays();
  wakeUp(); // back on the tab: a phone waking up, a laptop opened
});
window.addEventListener("focus", back); // back from another window
window.addEventListener("hashchange", toLinked); // a link to a message here

// ---- inviting: the room's link, to send to friends, who get the login
// page with the room filled in. A phone offers its share sheet; elsewhere
// the link is copied, and where the page may not write the clipboard
// (plain HTTP to an address other than localhost) it is shown to copy.
const inviteBtn = $("invite");
inviteBtn.addEventListener("click", async () => {
  const url = `${location.origin}/r/${encodeURIComponent(room)}`;
  if (navigator.share && matchMedia("(pointer: coarse)").matches) {
    try { await navigator.share({ title: `#${room}`, url }); } catch { /* closed without sharing */ }
    return;
  }
  copyLink(url, inviteBtn, "Invite", "Copy this link and send it to the people you want to invite:");
});

// ---- going to another room
$("room-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("room-input");
  // Case is the server's to fold (serveRoom redirects to the room's own
  // address): JavaScript's lower case differs from Go's for a few letters.
  const name = input.value.trim().normalize("NFC");
  if (!roomName(name)) { flashError(t("Room names have 1–32 letters, digits, - or _.")); input.focus(); return; }
  location.href = `/r/${encodeURIComponent(name)}`;
});

// Logging out on purpose ends what this tab kept for every room, the
// pictures any tab had not uploaded, and the rooms this browser was in:
// the next person at this computer has no use for them. The form goes
// once the stash is empty (or after a second, should IndexedDB hang).
const logout = document.querySelector(".logout-form");
logout.addEventListener("submit", async (e) => {
  e.preventDefault();
  forgetOutboxes();
  forgetRooms();
  await Promise.race([forgetStash(), new Promise((done) => setTimeout(done, 1000))]);
  logout.submit();
});

setOnline([me]);
restoreOutbox();
restoreUploads(); // after the outbox: it tells which were uploaded already
updateComposer();
renderTop();
// The last id moves with every event; keep the saved one near it while
// something is waiting, so a reload replays little.
addEventListener("pagehide", () => { if (state.pending.size > 0) saveOutbox(); });
connect();
fillViewport(); // a restored page shows what came before its last id
