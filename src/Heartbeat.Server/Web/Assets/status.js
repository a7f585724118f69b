// Live updates for the status page. Everything a client sent is inserted with textContent, never as HTML.
"use strict";
(() => {
  const table = document.getElementById("hosts");
  const body = table.tBodies[0];
  const events = document.getElementById("events");
  const live = document.getElementById("live");
  const form = document.querySelector("form.filter");
  const pager = document.getElementById("pager");
  const favicon = document.getElementById("favicon");
  // The page of the list this address shows; a filter change starts again from the first.
  let cursor = new URLSearchParams(location.search).get("cursor");

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
  function cell(text, className, label) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    if (label) td.dataset.label = label;
    return td;
  }
  // As the server renders it (PageHtml.BreakableName): the name may wrap after '.', '-' and '_'.
  function breakable(name) {
    const parts = name.split(/(?<=[.\-_])(?=.)/);
    const nodes = [];
    parts.forEach((part, i) => {
      nodes.push(document.createTextNode(part));
      if (i < parts.length - 1) nodes.push(document.createElement("wbr"));
    });
    return nodes;
  }
  function hostCell(host) {
    const td = cell("", "host");
    const link = document.createElement("a");
    link.href = `/hosts/${encodeURIComponent(host.id)}`;
    link.append(...breakable(host.id));
    td.append(link);
    if (host.reason) {
      const reason = document.createElement("div");
      reason.className = "reason";
      reason.textContent = host.reason;
      td.append(reason);
    }
    return td;
  }
  function row(host) {
    const tr = document.createElement("tr");
    tr.dataset.host = host.id;
    tr.append(hostCell(host), cell(host.state, `state state-${host.state}`, "State"), cell(host.ip, "", "IP"), cell(host.peer, "muted", "Peer"));
    const seen = cell(ago(host.lastSeen), "", "Last seen");
    seen.dataset.lastSeen = host.lastSeen;
    seen.title = local(host.lastSeen);
    tr.append(seen, cell(`${duration(host.intervalSeconds)} (${host.intervalSource})`, "muted", "Interval"), cell(String(host.ipChanges), "", "IP changes"), notes(host));
    return tr;
  }
  function filters() {
    const query = new URLSearchParams();
    for (const name of ["q", "state", "group"]) {
      const value = form ? form.elements[name].value : "";
      if (value) query.set(name, value);
    }
    return query;
  }
  function link(id, text, query) {
    const a = document.createElement("a");
    a.id = id;
    a.href = withToken(`/?${query}`);
    a.textContent = text;
    return a;
  }
  function renderPager(page) {
    const links = [];
    if (cursor) links.push(link("first-page", "First page", filters()), document.createTextNode(" "));
    if (page.nextCursor) {
      const next = filters();
      next.set("cursor", page.nextCursor);
      links.push(link("next-page", "Next page", next));
    }
    pager.replaceChildren(...links);
  }
  function renderDown(down) {
    const icon = down > 0 ? "/assets/favicon-down.svg" : "/assets/favicon.svg";
    if (favicon.getAttribute("href") !== icon) favicon.setAttribute("href", icon);
    document.title = down > 0 ? `(${down.toLocaleString("en-US")} down) Heartbeat` : "Heartbeat";
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
    renderPager(page);
    renderDown(page.counts.down || 0);
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
    const query = filters();
    if (cursor) query.set("cursor", cursor);
    history.replaceState(null, "", withToken(query.size ? `/?${query}` : "/"));
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

  if (form) {
    const restart = () => { cursor = null; soon(); };
    form.addEventListener("submit", (event) => { event.preventDefault(); cursor = null; refresh(); });
    form.addEventListener("input", restart);
    form.addEventListener("change", restart);
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
