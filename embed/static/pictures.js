// Pictures: picked with the 🖼 button, pasted into the composer or dropped
// on the page. Each is uploaded first (POST /api/rooms/{room}/images) and
// then sent through the outbox as a message with the picture's id, so
// from there on it waits for a connection, survives a reload and is
// stored once, as text does. Only the upload needs the network: one that
// fails for want of a connection (or of the server, during a restart)
// waits on the page and goes again by itself, as text typed offline does;
// one the server refused stays with the reason, to try again or remove.
import { t } from "./i18n.js";
import { $, room, me, state, pendingList, text } from "./state.js";
import { messageEl, flashError, caughtUp, button } from "./view.js";
import { toLatest } from "./history.js";
import { addPending, transmit, newNonce } from "./outbox.js";
import { sessionEnded } from "./socket.js";
import { stopReply } from "./reply.js";
import { stash, unstash, stashed } from "./stash.js";

const attach = $("attach"), input = $("picture-input");
const TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
// A JPEG is drawn again before it goes, at most MAX_SIDE pixels a side.
// That drops what the camera wrote in it (where it was taken, among
// other things), and makes a phone's photo a fraction of its size.
// Other formats go as they are: a GIF may move, and a PNG is most often
// a screenshot, whose every pixel counts.
const MAX_SIDE = 2560;
// The upload's errors the page says in its own words (and language);
// for others, such as a picture with too many pixels, the server's words
// are the more exact.
const PICTURE_ERRORS = ["too_large", "unsupported", "storage_full", "rate_limited"];

if (document.body.dataset.pictures === "on") {
  attach.hidden = false;
  attach.addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    sendPictures([...input.files]);
    input.value = "";
  });
  // A copied picture arrives as a file (a textarea would take nothing of
  // it); text on the clipboard pastes as usual.
  text.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files ?? [])].filter((f) => f.type.startsWith("image/"));
    if (!files.length) return;
    e.preventDefault();
    sendPictures(files);
  });
  document.addEventListener("dragover", (e) => {
    if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
  });
  document.addEventListener("drop", (e) => {
    const files = [...(e.dataTransfer?.files ?? [])];
    if (!files.length) return;
    e.preventDefault(); // or the browser would leave the chat to show it
    sendPictures(files);
  });
}

// sendPictures sends files, each as a message of its own, in the order
// they were picked: they are prepared side by side (a photo's redraw
// takes a while), and shown and uploaded one after another, also after
// pictures picked before. Picked while "Replying to" shows, they are
// that reply (all of them), as a message sent then would be, and the
// bar's work is done.
let picked = Promise.resolve();
function sendPictures(files) {
  const ok = files.filter((f) => TYPES.includes(f.type));
  if (ok.length < files.length) flashError(t("unsupported"));
  if (!ok.length) return;
  caughtUp();
  const replyTo = state.replyTo;
  stopReply();
  const ready = ok.map(prepared);
  picked = picked.then(async () => { for (const p of ready) sendPicture(await p, replyTo); }).catch(console.error);
}

// sendPicture shows a prepared picture in the outbox and uploads it.
// Its message's nonce and after are set now, not after the upload: were
// the page to die between the upload and the outbox keeping the message,
// the stash would send it again, and the server would know it for the
// same one.
function sendPicture(prep, replyTo) {
  const up = { ...prep, replyTo, nonce: newNonce(), after: state.lastId };
  stash(up);
  show(up);
}

let shown = 0; // pictures shown, for their order (up.seq)

// restoreUploads shows again what the stash kept through a reload, and
// uploads it. What the outbox has already was uploaded before the page
// went (see upload).
export async function restoreUploads() {
  for (const kept of await stashed()) {
    if (state.pending.has(kept.nonce)) unstash(kept.nonce);
    else show({ ...kept });
  }
}

function show(up) {
  up.seq = ++shown;
  up.preview = URL.createObjectURL(up.blob);
  up.el = messageEl({ user: me, text: "", reply_to: up.replyTo, image: { src: up.preview, width: up.width, height: up.height } }, false, "pending");
  const note = document.createElement("span");
  note.className = "pending-note";
  up.el.append(note);
  pendingList.append(up.el);
  toLatest();
  upload(up);
}

// prepared is what goes for file: its bytes, and its width and height
// as the page shows it before the server has it (0 where the browser
// cannot read it: the server then says what is wrong with it).
async function prepared(file) {
  let bmp;
  try {
    bmp = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return { blob: file, width: 0, height: 0 };
  }
  const { width, height } = bmp;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const w = Math.round(width * scale), h = Math.round(height * scale);
  let blob = null;
  if (file.type === "image/jpeg") {
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    canvas.getContext("2d").drawImage(bmp, 0, 0, w, h);
    blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.85));
  }
  bmp.close();
  return blob ? { blob, width: w, height: h } : { blob: file, width, height };
}

// failed says why up did not go, with Retry where trying again may
// help, and Remove.
function failed(up, msg, retry) {
  up.el.classList.add("failed");
  offer(up, msg, retry);
}

// offer puts msg under up, with Retry (if retry) and Remove.
function offer(up, msg, retry) {
  const again = button("retry", "Retry"), remove = button("remove", "Remove");
  again.addEventListener("click", () => upload(up));
  remove.addEventListener("click", () => gone(up));
  up.el.querySelector(".pending-note").replaceChildren(msg, " ", ...(retry ? [again, " "] : []), remove);
}

function gone(up) {
  up.gone = true;
  stopWaiting(up);
  up.el.remove();
  URL.revokeObjectURL(up.preview);
  unstash(up.nonce);
}

// Uploads waiting for a connection go again as soon as the socket is back
// (socket.js says so with a "chat:ready" event), or else after a wait
// that doubles from 2 s to 30 s: a fetch can fail while the socket still
// looks open. Retry and Remove stay offered meanwhile.
const waiting = new Set();
addEventListener("chat:ready", () => {
  for (const up of [...waiting].sort((a, b) => a.seq - b.seq)) upload(up);
});

function waitForConnection(up) {
  up.wait = Math.min((up.wait ?? 1000) * 2, 30000);
  up.timer = setTimeout(() => upload(up), up.wait);
  waiting.add(up);
  offer(up, t("Waiting for connection"), true);
}

function stopWaiting(up) {
  clearTimeout(up.timer);
  waiting.delete(up);
}

// Uploads go one at a time, in the order they were asked for, so that
// their messages go in the order the pictures were picked: a message
// goes once its picture is up. A picture removed meanwhile is skipped.
let uploads = Promise.resolve();
function upload(up) {
  if (up.queued) return;
  up.queued = true;
  stopWaiting(up);
  up.el.classList.remove("failed");
  const note = up.el.querySelector(".pending-note");
  note.replaceChildren(t("Waiting to upload…")); // behind the ones before it
  uploads = uploads.then(async () => {
    up.queued = false;
    if (up.gone) return;
    note.replaceChildren(t("Uploading…"));
    try {
      await uploadNow(up);
    } catch (err) { // a mistake here must not stop the uploads after it
      console.error(err);
      failed(up, t("unavailable"), true);
    }
  });
}

async function uploadNow(up) {
  let res, body = null;
  try {
    res = await fetch(`/api/rooms/${encodeURIComponent(room)}/images`, { method: "POST", body: up.blob, headers: { "Content-Type": up.blob.type } });
    body = await res.json();
  } catch {
    if (!res) { waitForConnection(up); return; }
  }
  // A proxy's answer while the server restarts (Fly's, during a deploy).
  if ([502, 503, 504].includes(res.status)) { waitForConnection(up); return; }
  up.wait = undefined;
  if (res.status === 401) { sessionEnded(); return; }
  if (!res.ok) {
    // Too large, of a kind the server does not take, too many pixels,
    // or no pictures here: trying again changes nothing.
    const code = body?.error?.code, final = [400, 403, 413, 415].includes(res.status);
    failed(up, PICTURE_ERRORS.includes(code) ? t(code) : body?.error?.message ?? t("unavailable"), !final);
    return;
  }
  // The outbox keeps the message before the stash lets go of the bytes.
  const p = addPending(up.nonce, "", "queued", up.after, up.replyTo, { id: body.id, width: body.width, height: body.height });
  gone(up);
  if (state.ready) transmit(p);
  toLatest();
}

// pictureEl is a message's picture, as big as it will be before it has
// loaded (its width and height come with the message), so nothing below
// it jumps. A click opens it whole in a new tab. A picture being
// uploaded shows from the browser's own copy (src).
export function pictureEl(ev) {
  const a = document.createElement("a");
  a.className = "picture";
  a.href = ev.image.src ?? `/images/${encodeURIComponent(ev.image.id)}`;
  a.target = "_blank";
  a.rel = "noopener";
  const img = document.createElement("img");
  img.src = a.href;
  img.width = ev.image.width;
  img.height = ev.image.height;
  if (ev.image.width > 0 && ev.image.height > 0) {
    a.classList.add("sized"); // style.css: the room it takes before it loads
    a.style.setProperty("--w", ev.image.width);
    a.style.setProperty("--h", ev.image.height);
  }
  img.alt = t("Picture from {user}", { user: ev.user });
  img.loading = "lazy";
  img.addEventListener("error", () => a.classList.add("broken"));
  a.append(img);
  return a;
}
