/* Managers' live dashboard (issue 7): tiles, Chart.js charts and tables of one office.
 *
 * The page starts from the snapshot rendered into it (its data block, pageData()), joins the
 * office's staff stream (LoketStream, as the console and worklist do) and re-reads
 * GET /api/v1/offices/<code>/dashboard whenever a relevant event arrives (ticket, call,
 * counter, device, application), on every (re)sync of the stream, and every 30 s so the
 * longest wait keeps growing. Re-reads are coalesced: at most one per second, never two
 * at once. While the socket is down a "koneksi terputus" banner shows. No reload.
 */
import {api, h, LANG, LoketStream, pageData, STAFF, t} from "./loket.js";

const RELEVANT = new Set(["ticket", "call", "counter", "device", "application"]);
const MIN_GAP_MS = 1000, PERIODIC_MS = 30000;
const COLORS = {waiting: "#f0a500", serving: "#0b4f9c", idle: "#7fa7d6", paused: "#ffc928", closed: "#b0b8c4",
                served: "#2e7d32", late: "#c62828", ontime: "#6a9fd8", calls: "#0b4f9c"};
// tile → the figure its threshold watches (services.dashboard.thresholds)
const TILE_FIGURE = {waiting: "waiting", longest_wait: "longest_wait_min", no_show: "no_show_pct",
                     devices: "unhealthy_devices", late_steps: "late_steps", overdue: "overdue"};
const en = LANG === "en";
let snap = pageData();   // the snapshot rendered into the page (dashboard.html)
const charts = {};
let refreshes = 0;

const name = (o) => (en ? o.name_en : o.name_id) || o.name_id;
const mins = (s) => (s === null || s === undefined ? "–" : String(Math.floor(s / 60)));
// wall-clock time in the office's zone (WIB/WITA/WIT), like the calls chart's labels
const clock = (iso) => new Date(iso).toLocaleTimeString(en ? "en-GB" : "id-ID",
                                                        {timeZone: snap.office.timezone, hour: "2-digit", minute: "2-digit"});

function tile(key, value, sub) {
  document.querySelector(`[data-testid="tile-${key}-value"]`).textContent = value;
  document.querySelector(`[data-testid="tile-${key}-sub"]`).textContent = sub || "";
}

function renderTiles(s) {
  const q = s.queue, c = s.counter_summary, ns = s.no_show, apps = s.applications;
  tile("waiting", q.waiting, t("dash.sub.services", {n: s.services.filter((x) => x.waiting).length}));
  tile("serving", q.serving);
  tile("longest_wait", q.longest_wait_s === null ? "–" : t("dash.min", {n: mins(q.longest_wait_s)}),
       q.longest_wait_number ? t("dash.sub.ticket", {number: q.longest_wait_number}) : "");
  tile("counters", `${c.serving + c.idle}/${s.counters.length}`,
       t("dash.sub.counters", {serving: c.serving, idle: c.idle, paused: c.paused}));
  tile("calls", s.calls.last_hour, t("dash.sub.recalls", {n: s.calls.recalls_last_hour}));
  tile("no_show", ns.rate_pct === null ? "–" : `${ns.rate_pct}%`, t("dash.sub.no_show", {n: ns.no_show, ended: ns.ended}));
  tile("devices", s.devices.unhealthy.length, t("dash.sub.devices", {total: s.devices.total}));
  tile("late_steps", apps.late_steps, t("dash.sub.open_files", {n: apps.open}));
  tile("overdue", apps.overdue, t("dash.sub.open_files", {n: apps.open}));
  tile("activations", s.activations_today);
  const alerting = new Set(s.alerts.map((a) => a.key));
  document.querySelectorAll(".dash-tile").forEach((el) => {
    el.classList.toggle("is-alert", alerting.has(TILE_FIGURE[el.dataset.key]));
  });
}

function renderAlerts(s) {
  const list = document.querySelector('[data-testid="alerts-list"]');
  list.replaceChildren(...s.alerts.map((a) => h("li", {"data-key": a.key, text: t("dash.alert." + a.key, {value: a.value, limit: a.limit})})));
  document.querySelector('[data-testid="alerts-none"]').hidden = s.alerts.length > 0;
  document.querySelector('[data-testid="alerts"]').classList.toggle("has-alerts", s.alerts.length > 0);
}

function renderTables(s) {
  document.getElementById("services-body").replaceChildren(...s.services.map((x) => h("tr", {"data-testid": "service-" + x.code},
    h("td", {text: `${x.letter} · ${name(x)}`}), h("td", {text: x.waiting}), h("td", {text: x.serving}),
    h("td", {text: x.longest_wait_s === null ? "–" : t("dash.min", {n: mins(x.longest_wait_s)})}))));
  document.getElementById("counters-body").replaceChildren(...s.counters.map((c) => h("tr", {"data-testid": "counter-" + c.number},
    h("td", {text: c.label}),
    h("td", {class: "state-" + c.state, text: t("dash.state." + c.state) + (c.pause_reason ? ` (${c.pause_reason})` : "")}),
    h("td", {text: c.officer || "–"}), h("td", {text: c.current || "–"}))));
  const late = s.applications.worst;
  document.getElementById("late-body").replaceChildren(...(late.length ? late.map((f) => h("tr", {class: f.overdue_working_days ? "is-alert" : null},
    h("td", {}, h("a", {href: `/applications/${f.id}`, text: f.resi_number})), h("td", {text: f.letter}),
    h("td", {text: name(f)}),
    h("td", {text: t("dash.in_step_of", {n: Math.round(f.minutes_in_step), standard: f.standard_minutes})}),
    h("td", {text: f.overdue_working_days}))) : [h("tr", {}, h("td", {colspan: 5, text: t("dash.none")}))]));
  const bad = s.devices.unhealthy;
  document.getElementById("devices-body").replaceChildren(...(bad.length ? bad.map((d) => h("tr", {class: "is-alert"},
    h("td", {text: d.name}), h("td", {text: t("dash.device." + d.reason) + (d.last_error ? ` · ${d.last_error}` : "")}),
    h("td", {text: d.since ? clock(d.since) : "–"}))) :
    [h("tr", {}, h("td", {colspan: 3, text: t("dash.devices_ok", {never: s.devices.never_reported})}))]));
}

function chart(id, type, labels, datasets, options) {
  // Chart.js is UMD (vendor/chartjs/chart.umd.min.js, a classic script before this module):
  // its global. Charts are extra: tables hold the same figures.
  if (typeof window.Chart !== "function") return;
  if (!charts[id]) {
    charts[id] = new window.Chart(document.getElementById(id), {type, data: {labels, datasets},
      options: Object.assign({animation: false, responsive: true, maintainAspectRatio: false,
                              plugins: {legend: {position: "bottom"}}}, options || {})});
    return;
  }
  const c = charts[id];
  c.data.labels = labels;
  datasets.forEach((d, i) => { c.data.datasets[i].data = d.data; });
  c.update("none");
}

function renderCharts(s) {
  const stacked = {scales: {x: {stacked: true}, y: {stacked: true, beginAtZero: true, ticks: {precision: 0}}}};
  chart("chart-services", "bar", s.services.map((x) => x.letter), [
    {label: t("dash.tile.waiting"), data: s.services.map((x) => x.waiting), backgroundColor: COLORS.waiting},
    {label: t("dash.tile.serving"), data: s.services.map((x) => x.serving), backgroundColor: COLORS.serving},
  ], stacked);
  const c = s.counter_summary;
  chart("chart-counters", "doughnut", ["serving", "idle", "paused", "closed"].map((k) => t("dash.state." + k)), [
    {data: [c.serving, c.idle, c.paused, c.closed],
     backgroundColor: [COLORS.served, COLORS.idle, COLORS.paused, COLORS.closed]},
  ]);
  chart("chart-calls", "bar", s.calls.per_5_min.map((b) => b.from), [
    {label: t("dash.tile.calls"), data: s.calls.per_5_min.map((b) => b.calls), backgroundColor: COLORS.calls},
  ], {scales: {y: {beginAtZero: true, ticks: {precision: 0}}}, plugins: {legend: {display: false}}});
  const steps = s.applications.by_step;
  chart("chart-steps", "bar", steps.map((x) => `${x.letter} · ${name(x)}`), [
    {label: t("dash.on_time"), data: steps.map((x) => x.open - x.late), backgroundColor: COLORS.ontime},
    {label: t("dash.late"), data: steps.map((x) => x.late), backgroundColor: COLORS.late},
  ], Object.assign({indexAxis: "y"}, {scales: {x: {stacked: true, beginAtZero: true, ticks: {precision: 0}}, y: {stacked: true}}}));
}

function render(s) {
  snap = s;
  renderTiles(s);
  renderAlerts(s);
  renderTables(s);
  renderCharts(s);
  refreshes += 1;
  document.body.dataset.refreshes = String(refreshes);
  document.querySelector('[data-testid="dash-updated"]').textContent =
    t("dash.updated") + " " + clock(s.server_time);
}

// -- coalesced re-reads of the snapshot -------------------------------------------------
let pending = false, inFlight = false, timer = null, lastStart = 0;

function refresh() {
  pending = true;
  if (inFlight || timer) return;
  timer = setTimeout(run, Math.max(0, lastStart + MIN_GAP_MS - Date.now()));
}

async function run() {
  timer = null;
  if (!pending) return;
  pending = false;
  inFlight = true;
  lastStart = Date.now();
  try {
    render(await api("GET", `/api/v1/offices/${encodeURIComponent(snap.office.code)}/dashboard`));
  } catch (err) {
    document.querySelector('[data-testid="dash-updated"]').textContent = t("dash.stale");
  } finally {
    inFlight = false;
    if (pending) refresh();
  }
}

function online(up) {
  document.querySelector('[data-testid="connection-status"]').classList.toggle("online", up);
  document.querySelector('[data-testid="connection-lost"]').hidden = up;
  document.body.dataset.online = up ? "1" : "0";
}

render(snap);
document.body.dataset.online = "0";              // connecting: the banner waits for a real failure
const stream = new LoketStream({
  namespace: STAFF,
  auth: {office_id: snap.office.id},
  onStatus: online,
  onState: () => refresh(),                       // connect, reconnect, gap: read everything again
  onEvent: (eventName) => { if (RELEVANT.has(eventName)) refresh(); },
});
stream.start();
// A server that drops us on purpose (restart, shutdown) gets no automatic reconnect from
// socket.io: a wall screen must come back by itself, so try again shortly.
stream.socket.on("disconnect", (reason) => {
  if (reason === "io server disconnect") setTimeout(() => stream.socket.connect(), 2000);
});
setInterval(refresh, PERIODIC_MS);
window.LoketDashboard = {refresh, stream};
