// The rooms this browser has been in lately, offered in the header's room
// box (a datalist), newest first and not the one open. Kept in
// localStorage, at most KEEP of them, and forgotten on logout: the next
// person at a shared computer need not see where the last one talked.
import { $, room } from "./state.js";

const KEY = "chat.rooms", KEEP = 10;

function load() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY));
    return Array.isArray(v) ? v.filter((r) => typeof r === "string") : [];
  } catch { return []; }
}

const rooms = [room, ...load().filter((r) => r !== room)].slice(0, KEEP);
try { localStorage.setItem(KEY, JSON.stringify(rooms)); } catch { /* storage off: no list */ }
$("recent-rooms").replaceChildren(...rooms.slice(1).map((r) => {
  const o = document.createElement("option");
  o.value = r;
  return o;
}));

// forgetRooms empties the list: on logout.
export function forgetRooms() {
  try { localStorage.removeItem(KEY); } catch { /* nothing kept */ }
}
