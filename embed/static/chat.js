"use strict";
// Minimal client; replaced by the full web client.
(() => {
  const room = document.body.dataset.room;
  const list = document.getElementById("messages");
  let lastId = 0;
  let ws;
  function line(text) {
    const li = document.createElement("li");
    li.textContent = text;
    list.append(li);
  }
  function connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/ws?room=${encodeURIComponent(room)}` + (lastId ? `&since=${lastId}` : ""));
    ws.onmessage = (e) => {
      for (const l of e.data.split("\n")) {
        const ev = JSON.parse(l);
        if (ev.id) lastId = ev.id;
        if (ev.type === "message") line(`${ev.user}: ${ev.text}`);
        else if (ev.type === "join" || ev.type === "leave") line(`${ev.user} ${ev.type}`);
        else if (ev.type === "error") line(`error: ${ev.text}`);
      }
    };
    ws.onclose = (e) => { if (e.code === 4001) location.href = "/"; else setTimeout(connect, 1000); };
  }
  document.getElementById("send-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = document.getElementById("text");
    ws.send(JSON.stringify({ type: "message", text: t.value }));
    t.value = "";
  });
  connect();
})();
