// Replying to a message: the composer says to whom ("Replying to alice",
// with the start of what they said) until the reply is sent or given
// up; the message then carries reply_to, and every page shows what it
// answers over it (quoteEl in view.js).
import { t } from "./i18n.js";
import { $, state, text } from "./state.js";
import { shownMessage, quoteEl } from "./view.js";
import { stopEdit } from "./edit.js";

const bar = $("replying"), cancelBtn = $("cancel-reply");

// startReply makes the next message a reply to message id. An edit in
// the composer is given up: its text is not the reply's.
export function startReply(id) {
  const ev = shownMessage(id);
  if (!ev || ev.deleted) return;
  stopEdit();
  state.replyTo = id;
  const label = document.createElement("span");
  label.textContent = t("Replying to {name}", { name: ev.user });
  const quote = quoteEl(id);
  quote.tabIndex = -1; // the composer's is for reading; the message's goes there
  bar.replaceChildren(label, quote, cancelBtn);
  bar.hidden = false;
  text.focus();
}

// stopReply makes the next message a message again.
export function stopReply() {
  state.replyTo = 0;
  bar.hidden = true;
}
cancelBtn.addEventListener("click", () => { stopReply(); text.focus(); });
