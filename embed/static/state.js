// What the modules of the chat page share: the room and user the server
// rendered the page for, its elements, and the state of the conversation.

export const $ = (id) => document.getElementById(id);
export const room = document.body.dataset.room;
export const me = document.body.dataset.user;
export const MAX_LEN = 2000;
// fold is a name (or text with names in it) as the server compares names:
// whatever the case or width (NFKC, then lower case).
export const fold = (s) => s.normalize("NFKC").toLowerCase();
// composing: a key that an input method (Chinese typed as pinyin) takes
// while it composes, Enter that picks its characters among them. Browsers
// say so with isComposing; Safari, with the key code 229.
export const composing = (e) => e.isComposing || e.keyCode === 229;
// roomName says whether name (in NFC) is a room's, by the server's rule
// (names.go): letters, digits, - and _, and combining marks after the
// first character; 1–32 of them. Case does not change the answer: Go
// lowers a letter to one letter, which the server does after (see
// serveRoom).
export const roomName = (name) => /^[\p{L}\p{Nd}_-][\p{L}\p{Mn}\p{Mc}\p{Nd}_-]*$/u.test(name) && [...name].length <= 32;
export const PAGE = 50;
// A tab left open in a busy room would otherwise grow without end (and
// a phone slow down with it): past MAX_SHOWN events, while the reader is
// at the bottom, only the newest KEEP_SHOWN stay; scrolling up loads
// the older ones again from the history API.
export const MAX_SHOWN = 1000, KEEP_SHOWN = 500;

export const log = $("log"), list = $("messages"), pendingList = $("pending"), top = $("history-top"), bottom = $("history-bottom");
export const text = $("text"), sendBtn = $("send"), counter = $("counter"), errBox = $("composer-error");
export const newBtn = $("new-messages"), firstUnreadBtn = $("first-unread"), statusEl = $("status");
export const baseTitle = document.title;

// Retry asks again for a page of the history that the server failed to
// give, after a pause, and not before: 1 s, twice that after each
// failure in a row, up to 30 s. Without the pause a server in trouble
// would be asked in a loop: a screen the history does not fill asks for
// the next page as soon as one is on screen, a reader at the top or the
// bottom asks with every scroll event, and far back every frame the
// socket brings asks too (see history.js).
export class Retry {
  #pause = 0;
  #timer = 0;
  // waiting: a page failed, and nothing asks for another till the pause ends.
  get waiting() { return this.#timer !== 0; }
  // failed starts the pause, which ends by calling then.
  failed(then) {
    clearTimeout(this.#timer);
    this.#pause = Math.min(this.#pause * 2 || 1000, 30000);
    this.#timer = setTimeout(() => { this.#timer = 0; then(); }, this.#pause);
  }
  // had: a page came, so the next failure pauses 1 s.
  had() { this.#pause = 0; }
  // cancel: what failed is no longer wanted (a new window far back).
  cancel() { clearTimeout(this.#timer); this.#timer = 0; this.#pause = 0; }
}

export const state = {
  events: [],          // stored events on screen, by id
  lastId: 0,           // newest id seen: the resume point
  oldestId: 0,         // oldest id on screen
  reachedStart: false,
  loadingOlder: false,
  olderRetry: new Retry(), // the older page failed (see loadOlder)
  newerRetry: new Retry(), // the page below a window far back failed (see loadNewer)
  era: 0,              // counts the times what is on screen was replaced or cut (see loadOlder)
  pastTo: 0,           // the newest id on screen while that is not the newest there is (see history.js), else 0
  ws: null,
  opened: false,       // the current socket got its welcome
  ready: false,        // replay done: live, and pending messages may go
  live: false,         // ready once: what arrives since is new to the reader, replayed or not
  replayUntil: 0,
  loginAt: "",         // when the session logged in (welcome): its messages since may be edited or deleted
  editing: null,       // the message being edited (see edit.js)
  replyTo: 0,          // the message the next one replies to (see reply.js)
  online: [],          // who is online, from the last welcome or presence
  attempt: 0,
  pending: new Map(),  // nonce -> {text, status: "queued"|"sent"|"failed", after (see transmit), el}
  unread: 0,           // messages from others since the reader went away
  unreadFrom: 0,       // id of the first of them: the "New" line goes before it
  unreadSeen: false,   // the line has been on screen since the reader came back
  newCount: 0,
};

