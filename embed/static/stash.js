// The stash keeps pictures that are not uploaded yet, in IndexedDB, so a
// reload does not lose them: nor does a phone's browser discarding the
// tab in the background while a photo goes slowly. The outbox keeps a
// message from its upload on (outbox.js); before that, the picture's
// bytes are here, and only here. sessionStorage would not hold them (a
// few megabytes, as text); IndexedDB holds a Blob as it is.
//
// Like the outbox, what is stashed belongs to one tab (the id it keeps in
// sessionStorage, which a reload keeps and another tab does not have),
// room and name. A tab closed with pictures stashed leaves them behind,
// so what is older than STALE_MS goes at the next page's start; a logout
// empties it. Where IndexedDB is missing or refuses (a private window,
// a full disk), the page works as before, without it.
import { room, me } from "./state.js";

const DB = "chat", STORE = "uploads", STALE_MS = 2 * 24 * 3600 * 1000;
const TAB_KEY = "chat.tab";

function tabId() {
  try {
    let id = sessionStorage.getItem(TAB_KEY);
    if (!id) {
      id = crypto.randomUUID();
      sessionStorage.setItem(TAB_KEY, id);
    }
    return id;
  } catch {
    return "";
  }
}
const tab = tabId();

let opened = null;
function db() {
  opened ??= new Promise((ok, fail) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "nonce" });
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  return opened;
}

// change runs fn on the store in a read-write transaction, and resolves
// once that is committed. It never rejects: the stash is a help, not a
// need.
async function change(fn) {
  try {
    const tx = (await db()).transaction(STORE, "readwrite");
    fn(tx.objectStore(STORE));
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = tx.onabort = () => fail(tx.error); });
  } catch { /* no IndexedDB here, or it refused */ }
}

// stash keeps up (pictures.js) until unstash: its bytes and what its
// message will carry.
// at orders what is stashed: pictures picked together may be stashed in
// the same millisecond, so it never repeats.
let last = 0;
export function stash(up) {
  if (!tab) return Promise.resolve();
  const { nonce, blob, width, height, replyTo, after } = up;
  last = Math.max(Date.now(), last + 1);
  return change((s) => s.put({ nonce, tab, room, user: me, at: last, blob, width, height, replyTo, after }));
}

export function unstash(nonce) {
  return change((s) => s.delete(nonce));
}

// stashed resolves to what this tab stashed in this room under this
// name, oldest first. It drops what is stale meanwhile.
export async function stashed() {
  const mine = [], now = Date.now();
  if (!tab) return mine;
  await change((s) => {
    s.openCursor().onsuccess = (e) => {
      const c = e.target.result;
      if (!c) return;
      const v = c.value;
      if (!(v.at > now - STALE_MS)) c.delete();
      else if (v.tab === tab && v.room === room && v.user === me && v.blob instanceof Blob) mine.push(v);
      c.continue();
    };
  });
  return mine.sort((a, b) => a.at - b.at);
}

// forgetStash empties the stash, for every tab and room: on logout. It
// resolves once that is done, so the page can leave after.
export function forgetStash() {
  return change((s) => s.clear());
}
