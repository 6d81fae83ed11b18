// A link to one message: /r/{room}#msg-{id}. Link under a message copies
// it (or shows it to copy, where the page may not write the clipboard);
// a page opened with one, or whose link changes to one, shows that
// message once it is live, loading the history up to it as a reply's
// quote does.
import { t } from "./i18n.js";
import { room, state } from "./state.js";
import { toQuoted, flashError } from "./view.js";

export const messageLink = (id) => `${location.origin}/r/${encodeURIComponent(room)}#msg-${id}`;

// copyLink copies message id's link, and says so on the button.
export async function copyLink(id, btn) {
  const url = messageLink(id);
  try {
    await navigator.clipboard.writeText(url);
  } catch {
    prompt(t("Copy this link to the message:"), url);
    return;
  }
  btn.textContent = t("Link copied");
  setTimeout(() => { btn.textContent = t("Link"); }, 2000);
}

// toLinked shows the message the page's link names, if it names one, or
// says why not: there is none such here (the link is to another room's,
// or made up), or it is further back than the page loads.
export async function toLinked() {
  const m = /^#msg-(\d+)$/.exec(location.hash);
  if (!m) return;
  const id = Number(m[1]);
  if (await toQuoted(id)) return;
  const none = id > state.lastId || state.reachedStart || state.events.some((e) => e.id === id);
  flashError(t(none ? "There is no such message in this room." : "That message is too far back to show here."));
}
