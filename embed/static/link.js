// Going to one message (toMessage): from a reply's quote, a search
// result, or a link. A link to a message is /r/{room}#msg-{id}: Link
// under a message copies it (or shows it to copy, where the page may not
// write the clipboard), and a page opened with one, or whose link
// changes to one, shows that message once it is live.
import { t } from "./i18n.js";
import { PAGE, room, state, list } from "./state.js";
import { flashError, shownMessage, messageLi } from "./view.js";
import { loadOlder, jumpTo } from "./history.js";

// toMessage shows a message in the conversation and flashes it. One a
// little further up than what is loaded (up to NEAR pages) is loaded a
// page at a time, as scrolling up does; one further still, or below a
// window far back, is shown in a window of its own (history.js). False:
// there is no such message in the room; null: the history could not be
// loaded (said).
const NEAR = 3;
export async function toMessage(ref) {
  while (!shownMessage(ref) && ref < state.oldestId && !state.reachedStart && state.oldestId - ref <= NEAR * PAGE) {
    if (state.loadingOlder) await new Promise((ok) => setTimeout(ok, 100)); // one on its way
    else if (!(await loadOlder())) break;
  }
  if (!shownMessage(ref)) {
    // On screen (from oldestId to the newest shown) and not a message, or
    // newer than any, or older and the room's start is shown: none such.
    const newest = state.pastTo || state.lastId;
    if (ref > state.lastId || (ref >= state.oldestId && ref <= newest) || (ref < state.oldestId && state.reachedStart)) return false;
    const shown = await jumpTo(ref);
    if (!shown) return shown;
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

// linkedId is the message a link's hash names (#msg-{id}), or null.
export function linkedId(hash) {
  const m = /^#msg-(\d+)$/.exec(hash);
  return m ? Number(m[1]) : null;
}

// toLinked shows the message the page's link names, if it names one, or
// says there is none such here (the link is to another room's, or made
// up).
export async function toLinked() {
  const id = linkedId(location.hash);
  if (id !== null) goTo(id);
}

// goTo shows a message, or says there is no such message here.
export async function goTo(ref) {
  if ((await toMessage(ref)) === false) flashError(t("There is no such message in this room."));
}
