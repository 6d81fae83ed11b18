// Editing one's own message. The composer takes the message's text, and
// what was being written waits aside until the edit is saved or given
// up. The page stays in edit mode until the server's edit event comes
// back, so an edit the server refused, or lost with a socket, can be
// saved again rather than vanish.
import { t } from "./i18n.js";
import { $, MAX_LEN, state, text, sendBtn } from "./state.js";
import { shownMessage, changeable, flashError, messageLi } from "./view.js";
import { trimmed, updateComposer, newNonce } from "./outbox.js";
import { stopReply } from "./reply.js";

const bar = $("editing"), cancelBtn = $("cancel-edit");

// state.editing is null, or { id, draft, nonce }: the message, what the
// composer held before, and the edit frame's nonce while it is on its way.

function mark(on) {
  messageLi(state.editing.id)?.classList.toggle("editing", on);
}

// startEdit puts message id into the composer.
export function startEdit(id) {
  const ev = shownMessage(id);
  if (!ev || !changeable(ev)) return;
  if (state.editing) stopEdit();
  stopReply(); // the composer's text is the message's now, not a reply
  state.editing = { id, draft: text.value, nonce: "" };
  mark(true);
  bar.hidden = false;
  sendBtn.textContent = t("Save");
  text.value = ev.text ?? ""; // a picture alone has none (not "undefined")
  text.focus();
  text.setSelectionRange(text.value.length, text.value.length);
  updateComposer();
}

// stopEdit leaves edit mode, and gives the composer back its draft.
export function stopEdit() {
  if (!state.editing) return;
  mark(false);
  text.value = state.editing.draft;
  state.editing = null;
  bar.hidden = true;
  sendBtn.textContent = t("Send");
  updateComposer();
}
cancelBtn.addEventListener("click", () => { stopEdit(); text.focus(); });

// saveEdit sends the composer's text as the message's new text. Empty
// is not an edit (Delete is), but for a picture's caption, and the same
// text needs no saving.
export function saveEdit() {
  const e = state.editing, ev = shownMessage(e.id);
  const value = trimmed(text.value);
  if (!ev || !changeable(ev)) { stopEdit(); return; }
  if (!value && !ev.image) { flashError(t("A message cannot be empty; delete it instead.")); return; }
  if ([...value].length > MAX_LEN) { flashError(t("too_long")); return; }
  if (value === (ev.text ?? "")) { stopEdit(); return; }
  if (!state.ready) { flashError(t("unavailable")); return; }
  e.nonce = newNonce();
  sendBtn.disabled = true;
  sendBtn.textContent = t("Saving…");
  state.ws.send(JSON.stringify({ type: "edit", id: e.id, text: value, nonce: e.nonce }));
}

// edited: an edit event came. Ours, with what the composer holds, ends
// edit mode; it came back in a replay too if the socket was lost after
// the server took it.
export function edited(ev) {
  const e = state.editing;
  // (An empty one is a caption taken away only if this page asked for
  // it; in a replay it may be an edit that a later one made empty.)
  if (e && ev.ref === e.id && (ev.text || e.nonce) && (ev.text ?? "") === trimmed(text.value)) stopEdit();
}

// editFailed: the server refused the edit (it says why), or its socket
// went: the composer keeps the text, to save again.
export function editFailed(nonce) {
  const e = state.editing;
  if (!e || !e.nonce || (nonce && nonce !== e.nonce)) return;
  e.nonce = "";
  sendBtn.textContent = t("Save");
  updateComposer();
}

// A message deleted while it is being edited (from another tab) cannot
// be saved: edit mode ends.
export function goneWhileEditing(ref) {
  if (state.editing?.id === ref) stopEdit();
}

// lastEditable is the newest of the reader's messages on screen that
// may be edited: the Up arrow in an empty composer edits it.
export function lastEditable() {
  for (let i = state.events.length - 1; i >= 0; i--) {
    const ev = state.events[i];
    if (ev.type === "message" && changeable(ev)) return ev.id;
  }
  return 0;
}
