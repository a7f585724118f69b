// Live updates for the status page. Everything a client sent is inserted with textContent, never as HTML.
"use strict";
(() => {
  const table = document.getElementById("hosts");
  const body = table.tBodies[0];
  const events = document.getElementById("events");
  const live = document.getElementById("live");
  const filter = document.querySelector("form.filter input[name=q]");

  function ago(iso) {
    const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 120) return `${seconds} s ago`;
    if (seconds < 7200) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 172800) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} d ago`;
  }
  function duration(seconds) {
    if (seconds < 120) return `${Math.round(seconds * 10) / 10}s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
    if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
    return `${Math.round(seconds / 86400)}d`;
  }
  function local(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    const offset = -d.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
      `${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  }
  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }
  function row(host) {
    const tr = document.createElement("tr");
    tr.dataset.host = host.id;
    tr.append(cell(host.id, "host"), cell(host.state, `state state-${host.state}`), cell(host.ip), cell(host.peer, "muted"));
    const seen = cell(ago(host.lastSeen));
    seen.dataset.lastSeen = host.lastSeen;
    seen.title = local(host.lastSeen);
    tr.append(seen, cell(`${duration(host.intervalSeconds)} (${host.intervalSource})`, "muted"), cell(String(host.ipChanges)), notes(host));
    return tr;
  }
  // The server words the notes (HostNotes); the page only shows them.
  function notes(host) {
    const td = cell("", "notes");
    for (const note of host.notes) {
      const span = document.createElement("span");
      span.className = `note note-${note.kind}`;
      span.textContent = note.text;
      td.append(span);
    }
    return td;
  }
  function render(status) {
    const page = status.hosts;
    body.replaceChildren(...page.hosts.map(row));
    document.getElementById("uptime").textContent = duration(status.server.uptimeSeconds);
    document.getElementById("beats").textContent = status.server.heartbeatsReceived.toLocaleString("en-US");
    document.getElementById("host-count").textContent = Object.values(page.counts).reduce((a, b) => a + b, 0).toLocaleString("en-US");
    for (const [state, count] of Object.entries(page.counts)) {
      const counter = document.querySelector(`[data-count=${state}]`);
      if (counter) counter.textContent = String(count);
    }
    const shown = page.hosts.length.toLocaleString("en-US");
    document.getElementById("shown").textContent = !page.nextCursor ? ""
      : page.total !== undefined ? `${shown} of ${page.total.toLocaleString("en-US")} shown, ${(page.total - page.hosts.length).toLocaleString("en-US")} more`
      : `first ${shown} matches shown, more match`;
  }

  // A read token given in the page's address (?token=…) goes along with every request the page makes.
  const token = new URLSearchParams(location.search).get("token");
  const withToken = (url) => {
    if (!token) return url;
    return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
  };

  let pending = null;
  async function refresh() {
    pending = null;
    const query = new URLSearchParams();
    if (filter && filter.value) query.set("q", filter.value);
    try {
      const response = await fetch(withToken(`/?${query}`), { headers: { Accept: "application/json" } });
      if (response.ok) render(await response.json());
    } catch { /* the next poll tries again */ }
  }
  const soon = () => { if (!pending) pending = setTimeout(refresh, 200); };

  function addEvent(e) {
    const li = document.createElement("li");
    const time = document.createElement("time");
    time.dateTime = e.at;
    time.textContent = local(e.at);
    li.append(time, document.createTextNode(e.summary));
    events.prepend(li);
    while (events.children.length > 50) events.lastElementChild.remove();
  }

  if (filter) {
    filter.form.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
    filter.addEventListener("input", soon);
  }
  setInterval(() => {
    for (const td of body.querySelectorAll("[data-last-seen]")) td.textContent = ago(td.dataset.lastSeen);
  }, 1000);
  setInterval(refresh, 5000); // beats are not events: poll for last-seen times, and as a fallback without SSE

  if (window.EventSource) {
    const source = new EventSource(withToken("/api/v1/events"));
    source.onopen = () => { live.textContent = "live"; };
    source.onerror = () => { live.textContent = "reconnecting…"; };
    for (const kind of ["new", "down", "recovered", "ip-changed", "failing", "maintenance", "rebooted",
      "duplicate-identity", "clock-skew", "site-down", "site-recovered"]) {
      source.addEventListener(kind, (message) => { addEvent(JSON.parse(message.data)); soon(); });
    }
  }
  for (const td of body.querySelectorAll("[data-last-seen]")) td.textContent = ago(td.dataset.lastSeen);
})();
