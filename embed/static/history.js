// The history: the pages before what is on screen, loaded as the reader
// scrolls up, and a window far back.
//
// Far back: a message further up than a few pages (a search result, a
// link, a reply's quote) is shown in a window of the history around it,
// rather than after every page between it and the newest. While the page
// shows such a window, state.pastTo is the newest id in it, and what the
// socket brings is not put on screen, only changes to what is there.
// Scrolling down loads the pages after the window (the history API's
// after=), until they meet what the socket has brought and the page is
// live again; "Latest messages ↓", sending a message and picking a
// picture go straight to the newest page.
import { t } from "./i18n.js";
import { room, PAGE, MAX_SHOWN, KEEP_SHOWN, state, log, list, bottom } from "./state.js";
import { renderAll, renderTop, nodesFor, quoteKnown, showNew, toBottom, flashError, messageLi, markDeleted, markEdited, markReaction } from "./view.js";
import { sessionEnded } from "./socket.js";

// history fetches a page of the history API (query: before= or after=,
// and limit=): {events, during}, or null when it could not (the caller
// says so). Paced by the server (HISTORY_RATE), it waits as told and asks
// again, rather than call that a failure. during is the changes (edits,
// deletes, reactions) that came over the socket meanwhile: the page may
// have been read before them, so the caller applies them again once it
// has put the page on screen (applyAgain). Applying one twice is
// harmless, since each sets rather than toggles.
const flights = new Set();
export async function history(query) {
  const during = [];
  flights.add(during);
  try {
    const res = await paced(`/api/rooms/${encodeURIComponent(room)}/messages?${query}`);
    if (res.status === 401) { sessionEnded(); return null; }
    if (!res.ok) return null;
    return { events: (await res.json()).events, during };
  } catch {
    return null;
  } finally {
    flights.delete(during);
  }
}

// paced fetches url from the server's API, waiting out its answers that
// say to ask again later (429, Retry-After in seconds): the history and
// the search share HISTORY_RATE, and either is only slower for it.
export async function paced(url) {
  for (;;) {
    const res = await fetch(url, { credentials: "same-origin" });
    if (res.status !== 429) return res;
    await new Promise((ok) => setTimeout(ok, (Number(res.headers.get("Retry-After")) || 1) * 1000));
  }
}

// applyChange puts an edit, a delete or a reaction on the message it
// names, where that is on screen.
export function applyChange(ev) {
  for (const d of flights) d.push(ev);
  change(ev);
}
export const applyAgain = (page) => page.during.forEach(change);
function change(ev) {
  if (ev.type === "delete") markDeleted(ev.ref);
  else if (ev.type === "edit") markEdited(ev);
  else markReaction(ev);
}
// An edit, a delete or a reaction in a page is not shown: the message it
// changed comes with its newest text and reactions, or deleted.
const shown = (e) => ["message", "join", "leave", "topic"].includes(e.type);

// loadOlder fetches the page before the oldest event on screen and keeps
// the reader where they were, and says whether it did. state.era changes
// whenever what is on screen is replaced (a window far back) or cut: a page
// for what was there before is dropped.
//
// A page the server failed to give is asked for again after a pause
// (state.olderRetry), by itself if the top of the history is still in
// view: a screen not full cannot be scrolled to ask again.
export async function loadOlder() {
  if (state.loadingOlder || state.olderRetry.waiting || state.reachedStart || state.oldestId === 0) return false;
  if (state.oldestId <= 1) { state.reachedStart = true; renderTop(); return true; }
  state.loadingOlder = true;
  renderTop();
  const era = state.era;
  const page = await history(`before=${state.oldestId}&limit=${PAGE}`);
  state.loadingOlder = false;
  if (era !== state.era) { renderTop(); return false; }
  if (!page) {
    flashError(t("Could not load older messages."));
    state.olderRetry.failed(() => {
      renderTop();
      if (nearTop()) loadOlder();
    });
  } else {
    state.olderRetry.had();
    const { events } = page;
    const older = events.filter((e) => e.id < state.oldestId);
    if (older.length > 0) {
      const fromBottom = log.scrollHeight - log.scrollTop;
      state.events = older.filter(shown).concat(state.events);
      state.oldestId = older[0].id;
      if (state.oldestId <= 1) state.reachedStart = true;
      renderAll();
      applyAgain(page);
      log.scrollTop = log.scrollHeight - fromBottom;
    }
    if (events.length < PAGE) state.reachedStart = true;
  }
  renderTop();
  fillViewport();
  return !!page;
}
// nearTop: scrolled up to where the next older page is asked for (or a
// screen not full, which cannot be scrolled).
export const nearTop = () => log.scrollTop < 120;
// trimShown lets go of all but the newest KEEP_SHOWN events on screen
// (see MAX_SHOWN); only while the reader is at the bottom (of the
// conversation, or of a window far back, see append), so what they are
// reading never moves.
export function trimShown() {
  state.era++;
  state.events = state.events.slice(-KEEP_SHOWN);
  state.oldestId = state.events[0].id;
  state.reachedStart = state.oldestId <= 1;
  renderAll();
}
// With few messages there is nothing to scroll, so load until there is.
export function fillViewport() {
  if (!state.reachedStart && log.scrollHeight <= log.clientHeight + 8) loadOlder();
}

// jumpTo shows message ref with the page of the history that ends with
// it and the page after it. True: it is on screen; false: there is no
// such message in the room; null: the history could not be loaded (said).
export async function jumpTo(ref) {
  const era = ++state.era;
  const older = await history(`before=${ref + 1}&limit=${PAGE}`);
  if (era !== state.era) return null; // another jump, or the newest, since
  if (!older) { flashError(t("Could not load that message.")); return null; }
  const it = older.events.at(-1);
  if (it?.id !== ref || it.type !== "message") return false;
  const after = await history(`after=${ref}&limit=${PAGE}`);
  if (era !== state.era) return null;
  if (!after) { flashError(t("Could not load that message.")); return null; }
  show(older, ref);
  append(after);
  messageLi(ref).scrollIntoView({ block: "center" });
  settle();
  return true;
}

// toLatest goes down to the newest messages: the bottom of the
// conversation, or, from a window far back, the newest page (and any
// the socket brought while that was on its way).
export async function toLatest() {
  state.newCount = 0;
  if (state.pastTo) {
    let era = ++state.era;
    const page = await history(`limit=${PAGE}`);
    if (era !== state.era) return;
    if (!page) { couldNotLoadNewer(); return; }
    show(page, page.events.at(-1)?.id ?? 0);
    // append may let go of the top (trimShown), which is a new era.
    while (state.pastTo && state.pastTo < state.lastId && await newer(era)) era = state.era;
    if (era !== state.era) return;
    settle();
  }
  toBottom();
  showNew();
  fillViewport();
}

// show puts a page on screen in place of what was there, as a window
// up to pastTo.
function show(page, pastTo) {
  const { events } = page;
  state.events = events.filter(shown);
  state.oldestId = events[0]?.id ?? 0;
  state.reachedStart = events.length < PAGE || state.oldestId <= 1;
  state.pastTo = pastTo;
  state.newCount = 0;
  state.newerRetry.cancel();
  showLoading();
  renderAll();
  applyAgain(page);
}

// loadNewer is newer as scrolling down asks for it: one page at a time,
// shown as loading, and settled after.
//
// A page below the window that could not be had is asked for again
// after a pause (state.newerRetry), by itself if the reader is still
// near the window's bottom: a window that does not fill the screen
// cannot be scrolled to ask again. Until then nothing asks but the
// reader's "Latest messages ↓" or a link to another message far back
// (a window shown anew): not a scroll, nor settle, which every frame
// the socket brings calls (in a busy room, every message and typing
// notice would ask a server in trouble again).
let loadingNewer = false;
export async function loadNewer() {
  if (loadingNewer || state.newerRetry.waiting || !state.pastTo || state.pastTo >= state.lastId) return;
  loadingNewer = true;
  showLoading();
  await newer(state.era);
  loadingNewer = false;
  showLoading();
  // On: below this page, or below a window shown while it was on its way
  // (which could not ask meanwhile); after a failure, the pause stops it.
  settle();
}

// newer fetches the page after the window and puts it below it, and says
// whether it did: not when it could not (said), nor when what is on
// screen is no longer of era.
async function newer(era) {
  const page = await history(`after=${state.pastTo}&limit=${PAGE}`);
  if (era !== state.era) return false;
  if (!page) { couldNotLoadNewer(); return false; }
  state.newerRetry.had();
  append(page);
  return true;
}
function couldNotLoadNewer() {
  flashError(t("Could not load newer messages."));
  state.newerRetry.failed(() => {
    showLoading();
    if (nearBottom()) loadNewer();
  });
  showLoading();
}

// append puts a page of what came after the window below it (what it
// holds that is there already is not put twice). A long read down from
// far back lets go of the top, as a busy room does at the bottom (see
// MAX_SHOWN), where the reader does not see it move.
function append(page) {
  if (!state.pastTo) return; // live again: the socket brings the rest
  for (const ev of page.events) {
    if (ev.id <= state.pastTo) continue;
    state.pastTo = ev.id;
    if (!shown(ev)) continue; // in its message as that is now
    const prev = state.events.at(-1);
    state.events.push(ev);
    list.append(...nodesFor(ev, prev));
    if (ev.type === "message") quoteKnown(ev.id);
  }
  applyAgain(page);
  if (state.events.length > MAX_SHOWN) {
    const fromBottom = log.scrollHeight - log.scrollTop;
    trimShown();
    log.scrollTop = log.scrollHeight - fromBottom;
  }
}

// settle makes the page live again once the window reaches what the
// socket has brought (it may be ahead of the socket for a moment: then
// the socket catches up with it, and calls this), and loads on while
// the reader is near the window's bottom (not during a pause after a
// failure, see loadNewer).
export function settle() {
  if (state.pastTo && state.pastTo === state.lastId) state.pastTo = 0;
  showNew();
  if (nearBottom()) loadNewer();
}

export const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 120;

// showLoading says at the window's bottom that the page below it is on
// its way, or that it failed and will be asked for again.
function showLoading() {
  const failed = state.pastTo && state.newerRetry.waiting;
  bottom.hidden = !loadingNewer && !failed;
  bottom.textContent = loadingNewer ? t("Loading newer messages…") : failed ? t("Could not load newer messages.") : "";
}
