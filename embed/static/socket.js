// The connection: one WebSocket per tab, resumed with ?since=<last id>
// after any drop, so the screen never shows a gap or a duplicate; what the
// server sends over it; and the checks that find a socket dead.
import { t } from "./i18n.js";
import { room, me, MAX_SHOWN, state, list, statusEl } from "./state.js";
import { renderAll, renderTop, setOnline, flashError, showNew, atBottom, toBottom, nodesFor, away, markUnread, callsMe, quoteKnown } from "./view.js";
import { applyChange, trimShown, fillViewport, settle } from "./history.js";
import { confirmed, setPending, transmit } from "./outbox.js";
import { setTyping, spoke, clearTyping } from "./typing.js";
import { edited, editFailed, goneWhileEditing } from "./edit.js";
import { notify } from "./notify.js";
import { toLinked } from "./link.js";
import { showTopic, topicSet } from "./topic.js";
import { watched, onNews } from "./rooms.js";

// ---- events from the server
function onWelcome(ev) {
  state.opened = true;
  state.loginAt = ev.login_at;
  showTopic(ev.topic);
  state.attempt = 0;
  setOnline(ev.online);
  // A truncated replay or a server whose history is behind ours (the
  // database was replaced) cannot be stitched to what is on screen: start
  // over from what the server sends; older events load on scroll.
  if (ev.truncated || ev.last_id < state.lastId) {
    state.events = [];
    state.lastId = 0;
    state.oldestId = 0;
    state.reachedStart = false;
    state.pastTo = 0;
    state.era++;
    renderAll();
  }
  state.replayUntil = ev.last_id;
  if (state.lastId >= ev.last_id) becomeReady();
}

function onStored(ev, batch) {
  if (ev.id <= state.lastId) return; // already on screen
  state.lastId = ev.id;
  if (state.oldestId === 0) state.oldestId = ev.id;
  if (ev.id === 1) state.reachedStart = true;
  if (["delete", "edit", "react", "unreact"].includes(ev.type)) {
    applyChange(ev);
    if (ev.type === "delete") goneWhileEditing(ev.ref);
    if (ev.type === "edit") edited(ev);
    maybeReady();
    return;
  }
  if (ev.type === "topic") topicSet(ev); // and a line in the conversation, below
  if (ev.type === "message") spoke(ev.user);
  if (ev.type === "message" && ev.user === me && ev.nonce) {
    confirmed(ev.nonce);
    batch.mine = true;
  }
  // New to the reader: anything from others once the page has been live,
  // including what a reconnect's replay brings (not the first load).
  const fresh = ev.type === "message" && ev.user !== me && state.live;
  if (fresh) {
    batch.others++;
    if (away()) {
      markUnread(ev); // before nodesFor: the "New" line goes with it
      if (callsMe(ev)) notify(ev);
    }
  }
  // A window far back shows what comes as the reader scrolls down to
  // it (history.js).
  if (state.pastTo) { maybeReady(); return; }
  const prev = state.events[state.events.length - 1];
  state.events.push(ev);
  list.append(...nodesFor(ev, prev));
  if (ev.type === "message") quoteKnown(ev.id);
  maybeReady();
}

function maybeReady() {
  if (!state.ready && state.opened && state.lastId >= state.replayUntil) becomeReady();
}

// Messages queued while offline go out paced: a burst above the
// server's rate limit (5/s, bursts of 10) would only come back as
// rate_limited errors.
function becomeReady() {
  state.ready = true;
  if (!state.live) toLinked(); // the first time: the message a link names
  state.live = true;
  setStatus("connected");
  dispatchEvent(new Event("chat:ready")); // pictures.js's waiting uploads
  const queue = [...state.pending.values()].filter((p) => p.status !== "failed");
  let i = 0;
  const next = () => {
    // Eight at first, then one each time.
    for (const end = Math.min(queue.length, i === 0 ? 8 : i + 1); i < end; i++) {
      const p = queue[i];
      if (state.ready && state.pending.get(p.nonce) === p && p.status === "queued") transmit(p);
    }
    if (i < queue.length && state.ready) setTimeout(next, 250);
  };
  next();
}

// onDuplicate confirms a message the server had stored already. If that
// is not on screen (a truncated replay started after it), the page says
// where it went rather than let it vanish.
function onDuplicate(ev) {
  if (state.pending.has(ev.nonce) && !list.querySelector(`[data-id="${Number(ev.id)}"]`)) flashError(t("That message was sent already; it is further up."));
  confirmed(ev.nonce);
}

function onError(ev) {
  const p = ev.nonce && state.pending.get(ev.nonce);
  // not_found for a message means its picture is gone (see pictures.js),
  // which trying again cannot change.
  const gone = !!p?.image && ev.code === "not_found";
  if (p) { p.gone = gone; setPending(p, "failed"); }
  if (ev.nonce) editFailed(ev.nonce);
  if (gone) flashError(t("That picture is not there any more; send it again."));
  else flashError(t(ev.code) !== ev.code ? t(ev.code) : ev.text);
}

// ---- connection
let reconnectTimer = 0, countdownTimer = 0;
// why: what the server said when it refused the last socket, if anything.
function setStatus(kind, n, why = "") {
  statusEl.dataset.state = kind;
  statusEl.dataset.why = why;
  statusEl.textContent = {
    connected: t("Connected"), connecting: t("Connecting…"), offline: t("Offline"),
    reconnecting: t({
      origin_refused: "The server does not accept connections from this page's address; reconnecting in {n} s…",
      too_many_sockets: "Too many connections from your network; reconnecting in {n} s…",
      too_many_rooms: "Too many new rooms opened from your network; reconnecting in {n} s…",
      unavailable: "Server unavailable; reconnecting in {n} s…",
    }[why] || "Reconnecting in {n} s…", { n }),
  }[kind];
}

export function connect() {
  clearTimeout(reconnectTimer);
  clearInterval(countdownTimer);
  if (state.ws) return;
  if (!navigator.onLine) { setStatus("offline"); return; }
  setStatus("connecting");
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  let url = `${proto}//${location.host}/ws?room=${encodeURIComponent(room)}`;
  if (state.lastId > 0) url += `&since=${state.lastId}`;
  for (const r of watched()) url += `&watch=${encodeURIComponent(r)}`;
  const ws = new WebSocket(url);
  state.ws = ws;
  state.opened = false;
  state.ready = false;
  // A network that swallows packets can keep a handshake hanging for
  // minutes before the browser gives up; give up sooner and try again.
  const handshake = setTimeout(() => { if (ws.readyState === WebSocket.CONNECTING) giveUp(ws); }, HANDSHAKE_MS);
  ws.onopen = () => clearTimeout(handshake);
  ws.onmessage = (e) => {
    const stick = !state.pastTo && atBottom();
    const batch = { others: 0, mine: false };
    for (const line of String(e.data).split("\n")) {
      if (!line) continue;
      let ev;
      try { ev = JSON.parse(line); } catch { continue; }
      switch (ev.type) {
        case "welcome": onWelcome(ev); break;
        case "message": case "join": case "leave": case "topic": case "edit": case "delete": case "react": case "unreact": onStored(ev, batch); break;
        case "presence": setOnline(ev.online); break;
        case "typing": setTyping(ev); break;
        case "news": onNews(ev); break; // in another room
        case "error": onError(ev); break;
        // The server had this message already (its echo was lost with
        // a socket, or another tab with the same outbox sent it too): it
        // is on screen, or in the older history, as ev.id.
        case "duplicate": onDuplicate(ev); break;
        // Only a pong answers a ping. Other frames do not count: one
        // that arrives just after the ping may have left before the
        // network went, and a socket whose frames come in but whose
        // own writes go nowhere is dead too.
        case "pong": stopDeadTimer(); break;
      }
    }
    if (stick && state.events.length > MAX_SHOWN) trimShown();
    renderTop();
    if (state.pastTo) settle();
    if ((stick || batch.mine) && !state.pastTo) toBottom();
    else if (batch.others) { state.newCount += batch.others; showNew(); }
    fillViewport();
  };
  ws.onclose = (e) => { clearTimeout(handshake); lost(ws, e.code); };
}

// lost handles the end of a socket: closed by either side, or given up
// on as dead (see checkAlive), whichever the page learns first.
function lost(ws, code) {
  if (state.ws !== ws) return;
  state.ws = null;
  state.ready = false;
  stopDeadTimer();
  clearTyping();
  editFailed(""); // an edit on its way: its echo comes in the replay, if it was taken
  for (const p of state.pending.values()) if (p.status === "sent") setPending(p, "queued");
  if (code === 4001) return sessionEnded();
  if (!state.opened) return probeThenRetry(ws.url);
  scheduleReconnect();
}

// A socket can die without a close event (a phone that slept, a network
// that changed under it, a proxy that forgot the connection): the
// browser still says it is open, and nothing arrives. When there is
// reason to doubt it (the tab comes back into view, the network comes
// back, a sent message has no echo after SUSPECT_MS) the page pings. If
// no pong arrives within DEAD_MS, it gives the socket up and
// reconnects with since: what was missed is replayed, and messages with
// no echo are sent again once the replay is read (one that did arrive
// comes back in the replay and is not sent twice).
export const SUSPECT_MS = 5000, DEAD_MS = 5000;
// How long a socket's handshake, and the probe after a refused one
// (below), may take before the page gives up on them and tries again.
const HANDSHAKE_MS = 10000, PROBE_MS = 5000;
let deadTimer = 0;
export function checkAlive() {
  const ws = state.ws;
  if (!ws || ws.readyState !== WebSocket.OPEN || deadTimer) return;
  ws.send(JSON.stringify({ type: "ping" }));
  deadTimer = setTimeout(() => { deadTimer = 0; giveUp(ws); }, DEAD_MS);
}
// giveUp closes a socket the page no longer waits for, and goes on as if
// it had closed: the browser may take minutes to say so itself.
function giveUp(ws) {
  if (state.ws !== ws) return;
  ws.close();
  lost(ws, 0);
}
function stopDeadTimer() {
  clearTimeout(deadTimer);
  deadTimer = 0;
}

// A socket refused before the upgrade gives the page only a 1006: browsers
// hide the handshake's status. The same URL fetched without the upgrade
// meets the same checks and answers with a status (426: a socket would be
// let in now). A dead session goes to the login page; the other refusals
// say what the page is waiting for.
async function probeThenRetry(url) {
  let why = "";
  try {
    // The fetch sends no Origin header (same origin), so name it.
    const probe = url.replace(/^ws/, "http") + "&origin=" + encodeURIComponent(location.origin);
    const res = await fetch(probe, { credentials: "same-origin", signal: AbortSignal.timeout(PROBE_MS) });
    if (res.status === 401) return sessionEnded();
    why = { 403: "origin_refused", 429: "too_many_sockets", 503: "unavailable" }[res.status] || "";
    // Of the two 429s, only a room load over ROOM_RATE says when to
    // come back; too many sockets wait for one to close.
    if (res.status === 429 && res.headers.has("Retry-After")) why = "too_many_rooms";
  } catch { /* offline, or no answer in PROBE_MS: retry below */ }
  scheduleReconnect(why);
}

function scheduleReconnect(why = "") {
  // Exponential backoff with full jitter, 0.5 s up to 30 s.
  const cap = Math.min(30000, 500 * 2 ** state.attempt);
  const delay = cap / 2 + Math.random() * cap / 2;
  state.attempt++;
  const until = Date.now() + delay;
  const tick = () => setStatus("reconnecting", Math.max(1, Math.ceil((until - Date.now()) / 1000)), why);
  tick();
  countdownTimer = setInterval(tick, 1000);
  reconnectTimer = setTimeout(connect, delay);
}

export function sessionEnded() {
  location.href = `/?ended=1&next=${encodeURIComponent(location.pathname)}`;
}

// wakeUp runs when there is reason to expect the connection to work
// now: the network came back, or someone looks at the tab again. A
// socket that says it is open may have died meanwhile, so it is
// checked; without one, the page does not sit out a backoff that grew
// to 30 s while nobody was looking.
export function wakeUp() {
  state.attempt = 0;
  if (state.ws) checkAlive();
  else if (navigator.onLine) connect();
}

// goneOffline says so, unless a socket is still open: it may well be, and
// the browser's idea of online is only a guess.
export function goneOffline() {
  if (!state.ws) { clearTimeout(reconnectTimer); clearInterval(countdownTimer); setStatus("offline"); }
}
