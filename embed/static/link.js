// Going to one message (toMessage): from a reply's quote, a search
// result, or a link. A link to a message is /r/{room}#msg-{id}: Link
// under a message copies it (or shows it to copy, where the page may not
// write the clipboard), and a page opened with one, or whose link
// changes to one, shows that message once it is live.
import { t } from "./i18n.js";
import { room, state, list } from "./state.js";
import { flashError, shownMessage, loadOlder, messageLi } from "./view.js";

// toMessage shows a message in the conversation and flashes it, and says
// whether it could. One further up than what is loaded is loaded first,
// a page at a time as scrolling up does, up to MAX_PAGES_UP pages.
const MAX_PAGES_UP = 20;
export async function toMessage(ref) {
  for (let pages = 0; !shownMessage(ref) && ref < state.oldestId && !state.reachedStart && pages < MAX_PAGES_UP; pages++) {
    if (state.loadingOlder) await new Promise((ok) => setTimeout(ok, 100)); // one on its way
    else await loadOlder();
  }
  const li = messageLi(ref);
  if (!li) return false;
  li.scrollIntoView({ block: "center", behavior: "smooth" });
  for (const el of list.querySelectorAll(".flash")) el.classList.remove("flash");
  void li.offsetWidth; // start the animation again
  li.classList.add("flash");
  return true;
}

export const messageLink = (id) => `${location.origin}/r/${encodeURIComponent(room)}#msg-${id}`;

// copyLink puts url on the clipboard and says "Link copied" on btn for
// 2 s, before its label comes back. Where the page may not write the
// clipboard (plain HTTP to an address other than localhost) it shows url
// to copy, asking with ask. Invite and each message's Link use it.
const restores = new WeakMap();
export async function copyLink(url, btn, label, ask) {
  try {
    await navigator.clipboard.writeText(url);
  } catch {
    prompt(t(ask), url);
    return;
  }
  btn.textContent = t("Link copied");
  clearTimeout(restores.get(btn));
  restores.set(btn, setTimeout(() => { btn.textContent = t(label); }, 2000));
}

// toLinked shows the message the page's link names, if it names one, or
// says why not: there is none such here (the link is to another room's,
// or made up), or it is further back than the page loads.
export async function toLinked() {
  const m = /^#msg-(\d+)$/.exec(location.hash);
  if (!m) return;
  const id = Number(m[1]);
  if (await toMessage(id)) return;
  const none = id > state.lastId || state.reachedStart || state.events.some((e) => e.id === id);
  flashError(t(none ? "There is no such message in this room." : "That message is too far back to show here."));
}
