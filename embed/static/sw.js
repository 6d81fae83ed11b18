// The service worker, for notifications alone: Chrome on Android lets a
// page show one only through a worker (notify.js). It handles no fetch,
// so the network goes as if it were not there, and its scope (/static/)
// holds no page. A click on a notification brings up the room's page
// where one is open, and has it show the message (notify.js), or opens
// the message's link where none is. The pages are not the worker's
// (outside its scope), so it cannot navigate them: it tells them.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));

self.addEventListener("notificationclick", (e) => {
  e.notification.close();
  const url = new URL(e.notification.data?.url ?? "/", self.location.origin);
  e.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = pages.find((c) => new URL(c.url).pathname === url.pathname);
    if (open) {
      open.postMessage({ link: url.href });
      return open.focus();
    }
    return self.clients.openWindow(url.href);
  })());
});
