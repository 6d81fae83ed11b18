// Notifications: a message that calls the reader (a mention, or a reply
// to one of theirs) while they are away shows as a system notification,
// once they have asked for it with the header's button. The choice is
// kept for this browser, for every room; the browser's own permission
// decides whether it can be done at all.
import { t } from "./i18n.js";
import { $, room } from "./state.js";
import { flashError, away } from "./view.js";
import { goTo, linkedId } from "./link.js";

const KEY = "chat.notify", btn = $("notify");
const supported = "Notification" in window;
const wanted = () => { try { return localStorage.getItem(KEY) === "1"; } catch { return false; } };
const on = () => supported && Notification.permission === "granted" && wanted();

// The button is a bell and its words; a narrower header (a phone, a
// tablet) shows the bell alone (style.css), and the words stay its name.
function show() {
  btn.hidden = !supported;
  btn.setAttribute("aria-pressed", String(on()));
  const bell = document.createElement("span"), label = document.createElement("span");
  bell.setAttribute("aria-hidden", "true");
  bell.textContent = on() ? "🔔" : "🔕";
  label.className = "label";
  label.textContent = on() ? t("Notifications on") : t("Notify me");
  btn.replaceChildren(bell, " ", label);
}

function want(yes) {
  try { if (yes) localStorage.setItem(KEY, "1"); else localStorage.removeItem(KEY); } catch { /* storage off: this page only */ }
}

// The button asks the browser for permission the first time (only a
// click may), and afterwards turns notifications on and off.
btn.addEventListener("click", async () => {
  if (on()) { want(false); show(); return; }
  let p = Notification.permission;
  if (p === "default") p = await Notification.requestPermission();
  if (p === "granted") want(true);
  else flashError(t("Notifications are blocked for this site; your browser's site settings can allow them."));
  show();
});
// Another tab may turn them on or off.
addEventListener("storage", (e) => { if (e.key === KEY) show(); });
show();

// notify tells the reader, away, of a message that calls them. The
// messages that call them while they are away are one notification for
// the room, replaced as more come, and each still alerts (renotify): the
// one's author and text, or how many and the newest, so a busy room does
// not fill the system's list. A click brings the page up and shows the
// first of them there (the worker's tells the page, or opens the first's
// link where no page is). Back on the page, it goes. It never throws:
// a notification that cannot be shown must not keep the message itself
// off the page.
let count = 0, first = 0, shown = null; // since the reader was last here
export function notify(ev) {
  if (!on()) return;
  if (count++ === 0) first = ev.id;
  const what = ev.text ? ev.text.slice(0, 200) : "🖼 " + t("Picture");
  const title = count === 1 ? t("{user} in #{room}", { user: ev.user, room }) : t("{n} messages for you in #{room}", { n: count, room });
  const opts = { body: count === 1 ? what : `${ev.user}: ${what}`, tag: `chat:${room}`, renotify: true };
  try {
    const n = new Notification(title, opts), at = first;
    n.onclick = () => { window.focus(); n.close(); goTo(at); };
    shown = n;
  } catch {
    // Chrome on Android: "Illegal constructor", the worker must show it.
    viaWorker(title, { ...opts, data: { url: `/r/${encodeURIComponent(room)}#msg-${first}` } }).catch(() => { /* the unread count and the highlight still tell */ });
  }
}

// seen takes the notification away once the reader is back on the page,
// where what it told is, and the next message that calls them starts a
// new one.
async function seen() {
  if (away() || count === 0) return;
  count = 0;
  shown?.close();
  shown = null;
  try {
    const reg = await navigator.serviceWorker?.getRegistration("/static/");
    for (const n of (await reg?.getNotifications({ tag: `chat:${room}` })) ?? []) n.close();
  } catch { /* none shown that way */ }
}
addEventListener("focus", seen);
document.addEventListener("visibilitychange", seen);

// A click on a notification the worker showed, with this page open, is
// told here: the page shows the message, as it would for the link. The
// worker's messages wait until this listener is there (startMessages).
navigator.serviceWorker?.addEventListener("message", (e) => {
  let link;
  try { link = new URL(e.data?.link); } catch { return; }
  const id = linkedId(link.hash);
  if (id !== null && link.origin === location.origin && link.pathname === location.pathname) goTo(id);
});
navigator.serviceWorker?.startMessages();

// viaWorker shows a notification through sw.js, registered the first
// time it is needed (after that, register finds it) and active once
// installed: its install and activate wait for nothing.
async function viaWorker(title, opts) {
  const reg = await navigator.serviceWorker.register("/static/sw.js", { scope: "/static/" });
  const w = reg.installing ?? reg.waiting;
  if (!reg.active && w) await new Promise((done) => w.addEventListener("statechange", () => { if (w.state === "activated") done(); }));
  await reg.showNotification(title, opts);
}
