// Reactions: a few emoji anyone may put on a message, and take off
// again. A message shows its reactions as a row of buttons under its text
// (the emoji and how many; whose, on hover), pressed where the reader's
// own is; a press puts the reader's on or takes it off. React opens the
// palette of all of them. The server's react and unreact events change
// what is shown (markReaction in view.js).
import { t, plural } from "./i18n.js";
import { me, state, fold } from "./state.js";

// REACTIONS is the server's reactionSet, in its order.
export const REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀"];

// A reaction is its name's, as the server compares names (fold).
const mine = (r) => r.users.some((u) => fold(u) === fold(me));

// withReaction is reactions with a react or unreact event applied, as
// the server's withReaction does: in REACTIONS' order, names in the
// order of their newest reaction. A react puts its name last, also one
// already there: a replay brings a message as it is now and then the
// events that made it so, and each name must end where its newest
// react puts it. (Kept in place, a name that reacted once stayed ahead
// of one that reacted after it but had taken an earlier reaction back.)
export function withReaction(reactions = [], ev) {
  const out = reactions.map((r) => ({ emoji: r.emoji, users: r.emoji === ev.emoji ? r.users.filter((u) => fold(u) !== fold(ev.user)) : r.users }));
  let r = out.find((x) => x.emoji === ev.emoji);
  if (ev.type === "react") {
    if (!r) {
      r = { emoji: ev.emoji, users: [] };
      out.push(r);
      out.sort((a, b) => REACTIONS.indexOf(a.emoji) - REACTIONS.indexOf(b.emoji));
    }
    r.users.push(ev.user);
  }
  return out.filter((x) => x.users.length > 0);
}

// whoReacted names those with reaction r, the first SHOWN_NAMES of
// them: in a busy room a popular one would otherwise be a tooltip of
// hundreds of names.
const SHOWN_NAMES = 10;
function whoReacted(r) {
  const names = r.users.slice(0, SHOWN_NAMES).join(", "), more = r.users.length - SHOWN_NAMES;
  if (more <= 0) return t("{names} reacted with {emoji}", { names, emoji: r.emoji });
  return plural(more, "{names} and 1 other reacted with {emoji}", "{names} and {n} others reacted with {emoji}", { names, emoji: r.emoji, total: r.users.length });
}

// reactionsEl is the row under a message, or null without reactions.
export function reactionsEl(ev) {
  if (!ev.reactions?.length || ev.deleted) return null;
  const row = document.createElement("div");
  row.className = "reactions";
  for (const r of ev.reactions) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "reaction";
    b.dataset.emoji = r.emoji;
    b.setAttribute("aria-pressed", String(mine(r)));
    b.title = whoReacted(r);
    const n = document.createElement("span");
    n.className = "count";
    n.textContent = r.users.length;
    b.append(r.emoji + " ", n);
    row.append(b);
  }
  return row;
}

// paletteEl is the row of every reaction, to pick one.
export function paletteEl() {
  const row = document.createElement("div");
  row.className = "palette";
  row.setAttribute("role", "group");
  row.setAttribute("aria-label", t("React"));
  for (const emoji of REACTIONS) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "pick";
    b.dataset.emoji = emoji;
    b.textContent = emoji;
    row.append(b);
  }
  return row;
}

// toggleReaction puts the reader's emoji on message ev, or takes it off.
export function toggleReaction(ev, emoji) {
  if (!state.ready) return false;
  const on = !ev.reactions?.some((r) => r.emoji === emoji && mine(r));
  state.ws.send(JSON.stringify({ type: on ? "react" : "unreact", id: ev.id, emoji }));
  return true;
}
