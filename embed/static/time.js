// Times and days as the page shows them: a message's time (its full
// date as its title), the day dividers' "Today", "Yesterday" or date,
// which change meaning at midnight, and a time with its day for a
// message shown away from the dividers (search results).
import { t, locale } from "./i18n.js";
import { list } from "./state.js";

export const hm = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
export const full = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeStyle: "medium" });
const longDate = new Intl.DateTimeFormat(locale, { dateStyle: "long" });
export const dayKey = (d) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
export function dayLabel(d) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(d) === dayKey(today)) return t("Today");
  if (dayKey(d) === dayKey(yesterday)) return t("Yesterday");
  return longDate.format(d);
}
export function timeEl(d) {
  const el = document.createElement("time");
  el.dateTime = d.toISOString();
  el.textContent = hm.format(d);
  el.title = full.format(d);
  return el;
}

// timeLabel is a time with its day ("Yesterday 14:05"), for a message
// shown away from the conversation's day dividers.
export function timeLabel(ts) {
  const d = new Date(ts), el = timeEl(d);
  el.textContent = `${dayLabel(d)} ${hm.format(d)}`;
  return el;
}

// "Today" and "Yesterday" change meaning at midnight: a tab left open
// overnight labels its dividers again then, and when it is looked at again
// (a hidden tab's timers may run late, a sleeping laptop's not at all).
export function relabelDays() {
  for (const li of list.querySelectorAll(".divider")) li.textContent = dayLabel(new Date(Number(li.dataset.time)));
}
(function atMidnight() {
  const now = new Date();
  const next = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  setTimeout(() => { relabelDays(); atMidnight(); }, next - now + 100);
})();
