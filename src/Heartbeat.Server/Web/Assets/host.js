// The host page: keeps "for how long" current between loads; the page itself is rendered on the server.
"use strict";
(() => {
  function format(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s >= 86400) return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
    if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
    if (s >= 120) return s % 60 === 0 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${s}s`;
  }
  const since = document.querySelectorAll("[data-since]");
  setInterval(() => {
    for (const el of since) el.textContent = format((Date.now() - Date.parse(el.dataset.since)) / 1000);
  }, 1000);
  // After an action, the confirmation is where a screen reader and the eye land first.
  document.querySelector(".flash, .error")?.scrollIntoView({ block: "nearest" });
})();
