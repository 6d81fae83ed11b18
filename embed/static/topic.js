// The room's topic: a line under the header, set by anyone in the room
// with the header's Topic button (empty clears it). The page shows the
// topic the welcome brings and each topic event after it; the editor
// stays open until the server's event confirms what was saved, so a
// refused topic (too long, too fast) is not lost.
import { t } from "./i18n.js";
import { $, state, composing } from "./state.js";
import { flashError } from "./view.js";
import { withLinks } from "./format.js";
import { newNonce, trimmed } from "./outbox.js";

const bar = $("topic-bar"), textEl = $("topic"), form = $("topic-form"), input = $("topic-input");
let current = "", saving = "";

function render() {
  textEl.hidden = !current || !form.hidden;
  bar.hidden = textEl.hidden && form.hidden;
}

// showTopic shows topic ({text, user, ts}, or nothing: none).
export function showTopic(topic) {
  current = topic?.text || "";
  textEl.replaceChildren(withLinks(current));
  textEl.title = current ? t("Set by {user}, {when}", { user: topic.user, when: new Date(topic.ts).toLocaleString() }) : "";
  render();
}

// topicSet runs for each topic event: the newest is the room's now, and
// the editor closes once it shows what the reader saved.
export function topicSet(ev) {
  showTopic(ev.text ? ev : null);
  if (!form.hidden && saving !== "" && (ev.text || "") === saving.trim()) close();
}

function open() {
  form.hidden = false;
  input.value = current;
  render();
  input.focus();
  input.select();
}
function close() {
  form.hidden = true;
  saving = "";
  render();
}
$("topic-edit").addEventListener("click", () => (form.hidden ? open() : close()));
$("topic-cancel").addEventListener("click", close);
input.addEventListener("keydown", (e) => { if (e.key === "Escape" && !composing(e)) { e.preventDefault(); close(); } });
form.addEventListener("submit", (e) => {
  e.preventDefault();
  const text = trimmed(input.value);
  if (text === current) { close(); return; }
  if (!state.ready) { flashError(t("unavailable")); return; }
  saving = text + " "; // not "" even when clearing: "" means nothing is on its way
  state.ws.send(JSON.stringify({ type: "topic", text, nonce: newNonce() }));
});
