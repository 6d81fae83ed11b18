// Who else is typing, from the server's typing events, and the notices
// this page sends while its reader types. The server forgets a notice
// after 5 s, so one every NOTICE_MS keeps a typist listed; it tells when
// they stop (their message came, they cleared the composer, the notice
// ran out, they left).
import { t } from "./i18n.js";
import { $, me, state, text } from "./state.js";
import { trimmed } from "./outbox.js";

// The server passes on one notice a second per session (typingGap) and
// drops the rest: after a message, the next notice waits AGAIN_MS from
// the last one, not NOTICE_MS, and is sent then even if no key comes.
const NOTICE_MS = 3000, AGAIN_MS = 1100, COUNTS_MS = 5000;
const el = $("typing");
// announced: a notice went since the last message or stop, so the room
// may list the reader.
let typing = { users: [], count: 0 }, noticeAt = 0, gap = NOTICE_MS, later = 0, announced = false;

// noteTyping runs when the reader changes the composer: while it holds
// text, the room hears so, at most every NOTICE_MS. Emptied, it hears
// that the reader stopped, rather than list them until the notice runs
// out; the server takes the next notice only a second after the last.
export function noteTyping() {
  clearTimeout(later);
  if (!state.ready || state.editing) return; // an edit is not news to the room
  if (!trimmed(text.value)) { // what Send would send
    if (announced && Date.now() - noticeAt < COUNTS_MS) state.ws.send(JSON.stringify({ type: "typing", stopped: true }));
    if (announced) gap = AGAIN_MS;
    announced = false;
    return;
  }
  const wait = noticeAt + gap - Date.now();
  if (wait > 0) {
    if (gap === AGAIN_MS) later = setTimeout(noteTyping, wait);
    return;
  }
  noticeAt = Date.now();
  gap = NOTICE_MS;
  announced = true;
  state.ws.send(JSON.stringify({ type: "typing" }));
}

// sent: a message ends its sender's typing on the server, so the next
// keystroke says so again as soon as the server takes it.
export function sent() { gap = AGAIN_MS; announced = false; }

export function setTyping(ev) {
  typing = { users: Array.isArray(ev.users) ? ev.users : [], count: Number(ev.count) || 0 };
  render();
}

// spoke takes the author of a message off at once; the server's event
// saying so may come up to a second later.
export function spoke(user) {
  if (!typing.users.includes(user)) return;
  setTyping({ users: typing.users.filter((u) => u !== user), count: typing.count - 1 });
}

// Without a socket the page does not know; the next welcome tells again.
export const clearTyping = () => setTyping({});

function render() {
  const others = typing.users.filter((u) => u !== me);
  // The event names the first five; more than that are "several".
  const n = typing.count > typing.users.length ? Infinity : others.length;
  const [a, b, c] = others;
  el.textContent = n === 0 ? ""
    : n === 1 ? t("{a} is typing…", { a })
    : n === 2 ? t("{a} and {b} are typing…", { a, b })
    : n === 3 ? t("{a}, {b} and {c} are typing…", { a, b, c })
    : t("Several people are typing…");
}
