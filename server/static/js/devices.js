/* Devices page: every station's health, live from the staff stream (`device` events). */
import {LoketStream, pageData, STAFF, t} from "./loket.js";

const DATA = pageData();   // {devices, office} (devices.html)
const devices = new Map((DATA.devices || []).map((d) => [d.id, d]));
const STALE_MS = 30000;  // a station silent for 30 s is shown as not reporting

function ago(iso) {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return t("devices.seconds", {n: s});
  if (s < 3600) return t("devices.minutes", {n: Math.floor(s / 60)});
  return t("devices.hours", {n: Math.floor(s / 3600)});
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function render() {
  const body = document.getElementById("devices-body");
  body.textContent = "";
  let bad = 0;
  [...devices.values()].sort((a, b) => (a.kind + a.name).localeCompare(b.kind + b.name)).forEach((d) => {
    const silent = !d.last_seen_at || Date.now() - Date.parse(d.last_seen_at) > STALE_MS;
    const state = silent ? "silent" : (d.healthy ? "ok" : "bad");
    if (state !== "ok") bad += 1;
    const tr = document.createElement("tr");
    tr.className = "dv-" + state;
    tr.dataset.testid = "device-" + d.id;
    tr.setAttribute("data-testid", "device-" + d.id);
    tr.appendChild(cell(d.name));
    tr.appendChild(cell(t("devices.kind." + d.kind)));
    tr.appendChild(cell(t("devices.state." + state), "dv-state"));
    const parts = Object.entries(d.devices || {}).map(([name, h]) => name + ": " + h.state + (h.detail ? " (" + h.detail + ")" : ""));
    tr.appendChild(cell(parts.join(" · ") || "-"));
    tr.appendChild(cell(ago(d.last_seen_at)));
    tr.appendChild(cell(d.unhealthy_since ? ago(d.unhealthy_since) : "-"));
    tr.appendChild(cell(d.last_error ? d.last_error + " · " + ago(d.last_error_at) : "-"));
    body.appendChild(tr);
  });
  document.querySelector('[data-testid="devices-summary"]').textContent =
    bad ? t("devices.summary_bad", {n: bad, total: devices.size}) : t("devices.summary_ok", {total: devices.size});
}

const stream = new LoketStream({
  namespace: STAFF,
  auth: {office_id: DATA.office.id},
  onStatus: (online) => document.querySelector('[data-testid="connection-status"]').classList.toggle("online", online),
  onState: (state) => { devices.clear(); (state.devices || []).forEach((d) => devices.set(d.id, d)); render(); },
  onEvent: (name, data) => { if (name === "device") { devices.set(data.device.id, data.device); render(); } },
});
stream.start();
render();
setInterval(render, 5000);
