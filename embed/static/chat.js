"use strict";
// The chat page. It speaks the protocol in README.md: one WebSocket per
// tab, resumed with ?since=<last id> after any drop, so the screen never
// shows a gap or a duplicate. User text only ever reaches the DOM through
// textContent and text nodes, never as HTML.
(() => {
  const $ = (id) => document.getElementById(id);
  const room = document.body.dataset.room;
  const me = document.body.dataset.user;
  const MAX_LEN = 2000;
  const PAGE = 50;
  // A tab left open in a busy room would otherwise grow without end (and
  // a phone slow down with it): past MAX_SHOWN events, while the reader is
  // at the bottom, only the newest KEEP_SHOWN stay; scrolling up loads
  // the older ones again from the history API.
  const MAX_SHOWN = 1000, KEEP_SHOWN = 500;

  // ---- i18n: English and Simplified Chinese, from the browser's language.
  const lang = /^zh\b/i.test((navigator.languages && navigator.languages[0]) || navigator.language || "") ? "zh" : "en";
  const locale = lang === "zh" ? "zh-CN" : undefined;
  const STR = {
    // Keys are the English text; en lists only the strings that differ
    // from their key (and the error codes), as the server's i18n.go does.
    en: {
      "{n} new messages": "{n} new messages ↓", "1 new message": "1 new message ↓",
      "Waiting for connection": "Will send when connected",
      "Beginning of #{room}": "This is the beginning of #{room}.",
      "invalid": "That message could not be sent.", "too_long": "Messages have at most 2000 characters.",
      "rate_limited": "You are sending too fast; wait a moment.", "unavailable": "The server could not save that; try again.",
    },
    zh: {
      "Go to room": "前往房间", "Room": "房间", "Go": "前往", "Log out": "退出", "Online": "在线",
      "Message": "消息", "Message #{room}": "发送到 #{room}", "Send": "发送",
      "{n} online": "{n} 人在线", "Connected": "已连接", "Connecting…": "连接中…",
      "Reconnecting in {n} s…": "{n} 秒后重新连接…", "Offline": "离线",
      "Too many connections from your network; reconnecting in {n} s…": "你的网络连接过多，{n} 秒后重新连接…",
      "Too many new rooms opened from your network; reconnecting in {n} s…": "你的网络新开的房间过多，{n} 秒后重新连接…",
      "Server unavailable; reconnecting in {n} s…": "服务器暂不可用，{n} 秒后重新连接…",
      "The server does not accept connections from this page's address; reconnecting in {n} s…": "服务器不接受来自此页面地址的连接，{n} 秒后重新连接…",
      "{n} new messages": "{n} 条新消息 ↓", "1 new message": "1 条新消息 ↓",
      "joined": "加入了房间", "left": "离开了房间", "Sending…": "发送中…", "Not sent": "未发送", "Retry": "重试",
      "Waiting for connection": "连接后发送",
      "Beginning of #{room}": "这是 #{room} 的开始。", "Loading older messages…": "正在加载更早的消息…",
      "Today": "今天", "Yesterday": "昨天", "{n} characters left": "还可输入 {n} 字",
      "{n} characters too many": "超出 {n} 字",
      "invalid": "这条消息无法发送。", "too_long": "消息最多 2000 字。",
      "rate_limited": "发送太快了，请稍等。", "unavailable": "服务器未能保存，请重试。",
      "Room names have 1–32 letters, digits, - or _.": "房间名为 1–32 个字母、数字、- 或 _。",
      "Could not load older messages.": "无法加载更早的消息。", "Messages": "消息",
    },
  };
  const t = (key, vars = {}) => {
    let s = STR[lang][key] ?? STR.en[key] ?? key;
    for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n, { room });
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder, { room });
  for (const el of document.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel, { room }));

  // ---- state
  const log = $("log"), list = $("messages"), pendingList = $("pending"), top = $("history-top");
  const text = $("text"), sendBtn = $("send"), counter = $("counter"), errBox = $("composer-error");
  const newBtn = $("new-messages"), statusEl = $("status");
  const baseTitle = document.title;
  const state = {
    events: [],          // stored events on screen, by id
    lastId: 0,           // newest id seen: the resume point
    oldestId: 0,         // oldest id on screen
    reachedStart: false,
    loadingOlder: false,
    ws: null,
    opened: false,       // the current socket got its welcome
    ready: false,        // replay done: live, and pending messages may go
    replayUntil: 0,
    attempt: 0,
    pending: new Map(),  // nonce -> {text, status: "queued"|"sent"|"failed", after (see transmit), el}
    unread: 0,
    newCount: 0,
  };

  // ---- time
  const hm = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const full = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "medium" });
  const longDate = new Intl.DateTimeFormat(locale, { dateStyle: "long" });
  const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
  function dayLabel(d) {
    const today = new Date();
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
    if (dayKey(d) === dayKey(today)) return t("Today");
    if (dayKey(d) === dayKey(yesterday)) return t("Yesterday");
    return longDate.format(d);
  }
  function timeEl(d) {
    const el = document.createElement("time");
    el.dateTime = d.toISOString();
    el.textContent = hm.format(d);
    el.title = full.format(d);
    return el;
  }

  // ---- rendering
  // Links become <a> only for http(s) URLs; everything else stays text.
  const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
  function withLinks(s) {
    const frag = document.createDocumentFragment();
    let last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(s))) {
      let url = m[0];
      const trail = url.match(/[.,;:!?)\]}'"。，；：！？）》」]+$/);
      if (trail) url = url.slice(0, url.length - trail[0].length);
      frag.append(s.slice(last, m.index));
      const a = document.createElement("a");
      a.href = url;
      a.textContent = url;
      a.rel = "noopener noreferrer nofollow";
      a.target = "_blank";
      frag.append(a);
      last = m.index + url.length;
      URL_RE.lastIndex = last;
    }
    frag.append(s.slice(last));
    return frag;
  }

  function messageEl(ev, grouped, extraClass) {
    const li = document.createElement("li");
    li.className = "msg" + (ev.user === me ? " mine" : "") + (grouped ? " grouped" : "") + (extraClass ? " " + extraClass : "");
    if (ev.id) li.dataset.id = ev.id;
    const d = ev.ts ? new Date(ev.ts) : new Date();
    if (!grouped) {
      const head = document.createElement("div");
      head.className = "meta";
      const who = document.createElement("span");
      who.className = "author";
      who.textContent = ev.user;
      head.append(who, timeEl(d));
      li.append(head);
    } else {
      const side = timeEl(d);
      side.className = "side-time";
      li.append(side);
    }
    const p = document.createElement("p");
    p.className = "text";
    p.append(withLinks(ev.text));
    li.append(p);
    return li;
  }

  function systemEl(ev) {
    const li = document.createElement("li");
    li.className = "system";
    li.dataset.id = ev.id;
    const d = new Date(ev.ts);
    const who = document.createElement("span");
    who.className = "author";
    who.textContent = ev.user;
    li.append(who, " " + t(ev.type === "join" ? "joined" : "left") + " · ", timeEl(d));
    return li;
  }

  function nodesFor(ev, prev) {
    const out = [];
    const d = new Date(ev.ts);
    const pd = prev && new Date(prev.ts);
    if (!prev || dayKey(pd) !== dayKey(d)) {
      const li = document.createElement("li");
      li.className = "divider";
      li.setAttribute("role", "separator");
      li.textContent = dayLabel(d);
      out.push(li);
    }
    if (ev.type === "message") {
      const grouped = !!prev && prev.type === "message" && prev.user === ev.user &&
        dayKey(pd) === dayKey(d) && d - pd < 5 * 60 * 1000;
      out.push(messageEl(ev, grouped));
    } else {
      out.push(systemEl(ev));
    }
    return out;
  }

  function renderAll() {
    const nodes = [];
    let prev = null;
    for (const ev of state.events) {
      nodes.push(...nodesFor(ev, prev));
      prev = ev;
    }
    list.replaceChildren(...nodes);
    renderTop();
  }

  function renderTop() {
    if (state.reachedStart) top.textContent = t("Beginning of #{room}", { room });
    else if (state.loadingOlder) top.textContent = t("Loading older messages…");
    else top.textContent = "";
  }

  // ---- scrolling
  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const toBottom = () => { log.scrollTop = log.scrollHeight; };
  function showNew() {
    if (state.newCount === 0) { newBtn.hidden = true; return; }
    newBtn.textContent = state.newCount === 1 ? t("1 new message") : t("{n} new messages", { n: state.newCount });
    newBtn.hidden = false;
  }
  newBtn.addEventListener("click", () => { toBottom(); state.newCount = 0; showNew(); text.focus(); });
  log.addEventListener("scroll", () => {
    if (atBottom() && state.newCount) { state.newCount = 0; showNew(); }
    if (log.scrollTop < 120) loadOlder();
  }, { passive: true });

  // loadOlder fetches the page before the oldest event on screen and keeps
  // the reader where they were.
  async function loadOlder() {
    if (state.loadingOlder || state.reachedStart || state.oldestId === 0) return;
    if (state.oldestId <= 1) { state.reachedStart = true; renderTop(); return; }
    state.loadingOlder = true;
    renderTop();
    try {
      const url = `/api/rooms/${encodeURIComponent(room)}/messages?before=${state.oldestId}&limit=${PAGE}`;
      let res = await fetch(url, { credentials: "same-origin" });
      // Paced by the server (HISTORY_RATE): keep "Loading…" up and ask
      // again when it says, rather than call it a failure.
      while (res.status === 429) {
        await new Promise((ok) => setTimeout(ok, (Number(res.headers.get("Retry-After")) || 1) * 1000));
        res = await fetch(url, { credentials: "same-origin" });
      }
      if (res.status === 401) return sessionEnded();
      if (!res.ok) throw new Error(String(res.status));
      const { events } = await res.json();
      const older = events.filter((e) => e.id < state.oldestId);
      if (older.length > 0) {
        const fromBottom = log.scrollHeight - log.scrollTop;
        state.events = older.concat(state.events);
        state.oldestId = older[0].id;
        if (state.oldestId <= 1) state.reachedStart = true;
        renderAll();
        log.scrollTop = log.scrollHeight - fromBottom;
      }
      if (events.length < PAGE) state.reachedStart = true;
    } catch {
      flashError(t("Could not load older messages."));
    } finally {
      state.loadingOlder = false;
      renderTop();
    }
    fillViewport();
  }
  // trimShown lets go of all but the newest KEEP_SHOWN events on screen
  // (see MAX_SHOWN); only while the reader is at the bottom, so what they
  // are reading never moves.
  function trimShown() {
    state.events = state.events.slice(-KEEP_SHOWN);
    state.oldestId = state.events[0].id;
    state.reachedStart = state.oldestId <= 1;
    renderAll();
  }
  // With few messages there is nothing to scroll, so load until there is.
  function fillViewport() {
    if (!state.reachedStart && log.scrollHeight <= log.clientHeight + 8) loadOlder();
  }

  // ---- presence
  const onlineBtn = $("online-toggle"), onlineList = $("online-list"), onlineNames = $("online-names");
  function setOnline(names) {
    onlineBtn.textContent = t("{n} online", { n: names.length });
    onlineNames.replaceChildren(...names.map((n) => {
      const li = document.createElement("li");
      li.textContent = n;
      if (n === me) li.className = "me";
      return li;
    }));
  }
  onlineBtn.addEventListener("click", () => {
    const open = onlineList.hidden;
    onlineList.hidden = !open;
    onlineBtn.setAttribute("aria-expanded", String(open));
  });

  // ---- events from the server
  function onWelcome(ev) {
    state.opened = true;
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
    if (ev.type === "message" && ev.user === me && ev.nonce) {
      confirmed(ev.nonce);
      batch.mine = true;
    }
    const prev = state.events[state.events.length - 1];
    state.events.push(ev);
    list.append(...nodesFor(ev, prev));
    if (ev.type === "message" && ev.user !== me && state.ready) {
      batch.others++;
      if (document.hidden) { state.unread++; updateTitle(); }
    }
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
    setStatus("connected");
    const queue = [...state.pending.values()].filter((p) => p.status !== "failed");
    let i = 0;
    const next = () => {
      for (let n = 0; n < (i === 0 ? 8 : 1) && i < queue.length; n++, i++) {
        const p = queue[i];
        if (state.ready && state.pending.get(p.nonce) === p && p.status === "queued") transmit(p);
      }
      if (i < queue.length && state.ready) setTimeout(next, 250);
    };
    next();
  }

  // confirmed drops a message from the outbox: the server has it.
  function confirmed(nonce) {
    const p = state.pending.get(nonce);
    if (p) { p.el.remove(); state.pending.delete(nonce); saveOutbox(); }
  }

  function onError(ev) {
    const p = ev.nonce && state.pending.get(ev.nonce);
    if (p) setPending(p, "failed");
    flashError(t(ev.code) !== ev.code ? t(ev.code) : ev.text);
  }

  let errTimer = 0;
  function flashError(msg) {
    errBox.textContent = msg;
    errBox.hidden = false;
    clearTimeout(errTimer);
    errTimer = setTimeout(() => { errBox.hidden = true; }, 5000);
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

  function connect() {
    clearTimeout(reconnectTimer);
    clearInterval(countdownTimer);
    if (state.ws) return;
    if (!navigator.onLine) { setStatus("offline"); return; }
    setStatus("connecting");
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${proto}//${location.host}/ws?room=${encodeURIComponent(room)}`;
    if (state.lastId > 0) url += `&since=${state.lastId}`;
    const ws = new WebSocket(url);
    state.ws = ws;
    state.opened = false;
    state.ready = false;
    // A network that swallows packets can keep a handshake hanging for
    // minutes before the browser gives up; give up sooner and try again.
    const handshake = setTimeout(() => { if (ws.readyState === WebSocket.CONNECTING) giveUp(ws); }, HANDSHAKE_MS);
    ws.onopen = () => clearTimeout(handshake);
    ws.onmessage = (e) => {
      const stick = atBottom();
      const batch = { others: 0, mine: false };
      for (const line of String(e.data).split("\n")) {
        if (!line) continue;
        let ev;
        try { ev = JSON.parse(line); } catch { continue; }
        switch (ev.type) {
          case "welcome": onWelcome(ev); break;
          case "message": case "join": case "leave": onStored(ev, batch); break;
          case "presence": setOnline(ev.online); break;
          case "error": onError(ev); break;
          // The server had this message already (its echo was lost with
          // a socket, or another tab with the same outbox sent it too): it
          // is on screen, or in the older history, as ev.id.
          case "duplicate": confirmed(ev.nonce); break;
          // Only a pong answers a ping. Other frames do not count: one
          // that arrives just after the ping may have left before the
          // network went, and a socket whose frames come in but whose
          // own writes go nowhere is dead too.
          case "pong": stopDeadTimer(); break;
        }
      }
      if (stick && state.events.length > MAX_SHOWN) trimShown();
      renderTop();
      if (stick || batch.mine) toBottom();
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
  const SUSPECT_MS = 5000, DEAD_MS = 5000;
  // How long a socket's handshake, and the probe after a refused one
  // (below), may take before the page gives up on them and tries again.
  const HANDSHAKE_MS = 10000, PROBE_MS = 5000;
  let deadTimer = 0;
  function checkAlive() {
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

  function sessionEnded() {
    location.href = `/?ended=1&next=${encodeURIComponent(location.pathname)}`;
  }

  // wakeUp runs when there is reason to expect the connection to work
  // now: the network came back, or someone looks at the tab again. A
  // socket that says it is open may have died meanwhile, so it is
  // checked; without one, the page does not sit out a backoff that grew
  // to 30 s while nobody was looking.
  function wakeUp() {
    state.attempt = 0;
    if (state.ws) checkAlive();
    else if (navigator.onLine) connect();
  }
  window.addEventListener("online", wakeUp);
  window.addEventListener("offline", () => { if (!state.ws) { clearTimeout(reconnectTimer); clearInterval(countdownTimer); setStatus("offline"); } });

  // ---- sending
  function nonce() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  function pendingEl(p) {
    const li = messageEl({ user: me, text: p.text }, false, "pending");
    const note = document.createElement("span");
    note.className = "pending-note";
    li.append(note);
    return li;
  }

  function setPending(p, status) {
    p.status = status;
    saveOutbox();
    const note = p.el.querySelector(".pending-note");
    p.el.classList.toggle("failed", status === "failed");
    note.replaceChildren(status === "failed" ? t("Not sent") : state.ready ? t("Sending…") : t("Waiting for connection"));
    if (status === "failed") {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "retry";
      b.textContent = t("Retry");
      b.addEventListener("click", () => {
        if (state.pending.get(p.nonce) !== p) return; // delivered meanwhile
        setPending(p, "queued");
        if (state.ready) transmit(p);
      });
      note.append(" ", b);
    }
  }

  // after tells the server how far back a copy of this message could be
  // stored: any copy has a higher id than the newest the page had seen
  // when it first sent it. That is the id to keep, not the page's last
  // id at a resend: a truncated replay leaves a gap before it.
  function transmit(p) {
    if (p.after === undefined) p.after = state.lastId;
    setPending(p, "sent");
    state.ws.send(JSON.stringify({ type: "message", text: p.text, nonce: p.nonce, after: p.after }));
    setTimeout(() => { if (state.pending.get(p.nonce) === p && p.status === "sent") checkAlive(); }, SUSPECT_MS);
  }

  function addPending(nonce, value, status, after) {
    const p = { nonce, text: value, status, after, el: null };
    p.el = pendingEl(p);
    state.pending.set(p.nonce, p);
    pendingList.append(p.el);
    setPending(p, status);
    return p;
  }

  function send() {
    const value = text.value.trim();
    if (!value || [...value].length > MAX_LEN) return;
    text.value = "";
    const p = addPending(nonce(), value, "queued");
    if (state.ready) transmit(p);
    updateComposer();
    toBottom();
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
  function saveOutbox() {
    if (loggingOut) return;
    const items = [...state.pending.values()].map((p) => ({ nonce: p.nonce, text: p.text, after: p.after, failed: p.status === "failed" }));
    try {
      if (items.length === 0 && !text.value) sessionStorage.removeItem(OUTBOX);
      else sessionStorage.setItem(OUTBOX, JSON.stringify({ user: me, lastId: state.lastId, items, draft: text.value }));
    } catch { /* storage full or turned off: the page works without it */ }
  }
  function restoreOutbox() {
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
      if (typeof it.nonce === "string" && typeof it.text === "string") addPending(it.nonce, it.text, it.failed ? "failed" : "queued", after);
    }
  }

  function updateComposer() {
    const len = [...text.value.trim()].length;
    const left = MAX_LEN - len;
    counter.hidden = left > 200;
    counter.textContent = left >= 0 ? t("{n} characters left", { n: left }) : t("{n} characters too many", { n: -left });
    counter.classList.toggle("over", left < 0);
    sendBtn.disabled = len === 0 || left < 0;
    text.style.height = "auto";
    text.style.height = Math.min(text.scrollHeight, 160) + "px";
  }

  $("send-form").addEventListener("submit", (e) => { e.preventDefault(); send(); text.focus(); });
  text.addEventListener("keydown", (e) => {
    // Enter sends; Shift+Enter is a new line; Enter that confirms an IME
    // composition (Chinese input) must not send.
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      send();
    }
  });
  text.addEventListener("input", () => { updateComposer(); saveOutbox(); });

  // ---- unread count in the title while the tab is hidden
  function updateTitle() {
    document.title = state.unread > 0 ? `(${state.unread}) ${baseTitle}` : baseTitle;
  }
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    state.unread = 0;
    updateTitle();
    wakeUp(); // back on the tab: a phone waking up, a laptop opened
  });

  // ---- going to another room
  $("room-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("room-input");
    const name = input.value.trim().toLowerCase();
    if (!/^[\p{L}\p{N}_-]{1,32}$/u.test(name)) { flashError(t("Room names have 1–32 letters, digits, - or _.")); input.focus(); return; }
    location.href = `/r/${encodeURIComponent(name)}`;
  });

  // Logging out on purpose ends what this tab kept for every room: the
  // next person at this computer has no use for it.
  document.querySelector(".logout-form").addEventListener("submit", () => {
    loggingOut = true;
    for (const k of Object.keys(sessionStorage)) if (k.startsWith(OUTBOX_PREFIX)) sessionStorage.removeItem(k);
  });

  setOnline([me]);
  restoreOutbox();
  updateComposer();
  renderTop();
  // The last id moves with every event; keep the saved one near it while
  // something is waiting, so a reload replays little.
  addEventListener("pagehide", () => { if (state.pending.size > 0) saveOutbox(); });
  connect();
  fillViewport(); // a restored page shows what came before its last id
})();
