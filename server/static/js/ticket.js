/* Public ticket status page (/t/<public_id>): the citizen's number, live.
 *
 * The stream (auth {ticket}) joins the office's public room; its sync answer carries
 * state.ticket (status, people_ahead, estimated_wait_s, following transfers). Any delta
 * of the office may move this ticket up the queue, so deltas trigger a GET of the status,
 * at most once every 3 s. A `call` naming this ticket shows "Dipanggil ke loket N" at once
 * (and vibrates the phone). After a transfer the number lives on another ticket id: the
 * GET follows transfers, and the returned `id` is the one watched from then on.
 */
import {api, LANG, LoketStream, minutes, t} from "./loket.js";

const $ = (id) => document.getElementById(id);
const app = $("ticket-app");
const PUBLIC_ID = app.dataset.publicId;
const REFRESH_MS = 3000;
const OFFLINE_POLL_MS = 15000;
const FINAL = ["done", "no_show", "cancelled"];

let ticket = null;          // the status dict (GET /api/v1/tickets/<public_id> shape)
let online = false;
let lastFetch = 0;
let fetchTimer = null;
let lastBuzz = null;        // key of the last call we vibrated for
let lastUpdate = null;
let changes = 0;            // bumped when a delta changes this ticket directly

/* ---------- rendering ---------- */
function splitName(name) {
  const m = /^(.+?)\s*\((.+)\)\s*$/.exec(name || "");
  return m ? m[1] : (name || "");
}

function statusText(tk) {
  const counter = tk.counter_number ?? "";
  switch (tk.status) {
    case "waiting": return t("ticket.status.waiting");
    case "called": return t("ticket.status.called", {counter});
    case "serving": return t("ticket.status.serving", {counter});
    case "done": return t("ticket.status.done");
    case "no_show": return t("ticket.status.no_show");
    case "cancelled": return t("ticket.status.cancelled");
    case "transferred": return t("ticket.status.transferred");
    default: return tk.status || "";
  }
}

function waitText(tk) {
  if (tk.estimated_wait_s === null || tk.estimated_wait_s === undefined) return t("ticket.wait_unknown");
  if (!tk.people_ahead || tk.estimated_wait_s <= 0) return t("ticket.wait_soon");
  return t("ticket.wait_minutes", {n: minutes(tk.estimated_wait_s)});
}

function noteText(tk) {
  if (tk.status === "waiting" && tk.skip_count > 0) return t("ticket.skipped");
  if (tk.status === "waiting" && tk.people_ahead === 0) return t("ticket.next");
  if (tk.status === "done") return t("ticket.done_hint");
  if (tk.status === "no_show") return t("ticket.no_show_hint");
  if (tk.status === "cancelled") return t("ticket.cancelled_hint");
  return "";
}

function render() {
  if (!ticket) return;
  const tk = ticket;
  app.dataset.status = tk.status;
  $("ticket-number").textContent = tk.number;
  if (tk.service) $("service-name").textContent = splitName((LANG === "en" && tk.service.name_en) || tk.service.name_id);
  if (tk.office) $("office-name").textContent = tk.office.name;
  const prio = $("priority");
  prio.hidden = !tk.priority_kind;
  if (tk.priority_kind) prio.textContent = t("ticket.priority", {kind: t("ticket.priority." + tk.priority_kind)});
  $("status-text").textContent = statusText(tk);

  const called = tk.status === "called";
  $("called-box").hidden = !called;
  if (called) $("called-counter").textContent = t("ticket.counter", {counter: tk.counter_number ?? ""});

  const waiting = tk.status === "waiting";
  $("stats").hidden = !waiting;
  if (waiting) {
    $("people-ahead").textContent = tk.people_ahead === undefined || tk.people_ahead === null ? "–" : String(tk.people_ahead);
    $("estimate").textContent = waitText(tk);
  }
  const note = noteText(tk);
  $("note").hidden = !note;
  $("note").textContent = note;
  $("note").dataset.kind = tk.status;
  $("hint").hidden = FINAL.includes(tk.status);
  $("survey-link").hidden = tk.status !== "done";  // the IKM survey, once served (issue 7)

  document.title = (called ? statusText(tk) + " · " : "") + tk.number + " · " + t("ticket.title");
  if (lastUpdate) {
    const opts = {hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false};
    let time;
    try {
      time = lastUpdate.toLocaleTimeString(LANG === "en" ? "en-GB" : "id-ID", Object.assign({timeZone: tk.office && tk.office.timezone}, opts));
    } catch (e) {
      time = lastUpdate.toLocaleTimeString(LANG === "en" ? "en-GB" : "id-ID", opts);
    }
    $("updated").textContent = t("ticket.updated", {time});
  }
}

function buzz(key) {
  if (key === lastBuzz) return;
  lastBuzz = key;
  try { if (navigator.vibrate) navigator.vibrate([500, 200, 500, 200, 800]); } catch (e) { /* not allowed */ }
}

function apply(status) {
  if (!status) return;
  const before = ticket ? ticket.status : null;
  ticket = status;
  lastUpdate = new Date();
  if (status.status === "called" && before !== null && before !== "called") buzz("t" + status.id + "@" + status.called_at);
  render();
}

/* ---------- fetching (throttled) ---------- */
async function refresh() {
  lastFetch = Date.now();
  const seen = changes;
  try {
    const status = await api("GET", "/api/v1/tickets/" + encodeURIComponent(PUBLIC_ID));
    // A delta changed the ticket while this answer was on its way: the answer may predate
    // it (e.g. still "waiting" after the call); the refresh planned by that delta follows.
    if (seen === changes) apply(status);
  } catch (err) {
    if (err && err.status === 404 && !ticket) $("status-text").textContent = t("ticket.not_found");
  }
}

function scheduleRefresh() {
  if (fetchTimer) return;                       // a refresh is already planned
  const wait = lastFetch + REFRESH_MS - Date.now();
  if (wait <= 0) { refresh(); return; }
  fetchTimer = setTimeout(() => { fetchTimer = null; refresh(); }, wait);
}

/* ---------- stream ---------- */
function onState(state) {
  if (state && state.ticket) {
    lastFetch = Date.now();
    apply(state.ticket);
  } else {
    scheduleRefresh();
  }
}

function onEvent(name, data) {
  const mine = ticket && data.ticket && data.ticket.id === ticket.id;
  if (name === "call" && data.call && ticket && data.call.ticket_id === ticket.id) {
    // Show the call at once; the position figures come with the next refresh.
    ticket = Object.assign({}, ticket, {
      status: "called", counter_id: data.call.counter_id,
      counter_number: data.call.counter_number, counter_label: data.call.counter_label,
      called_at: data.call.at,
    });
    changes += 1;
    lastUpdate = new Date();
    buzz("c" + data.call.id);
    render();
  } else if (name === "ticket" && mine && data.ticket.status !== "transferred") {
    const tk = data.ticket;
    ticket = Object.assign({}, ticket, {
      status: tk.status, counter_id: tk.counter_id, counter_number: tk.counter_number,
      counter_label: tk.counter_label, skip_count: tk.skip_count, priority_kind: tk.priority_kind,
      called_at: tk.called_at, finished_at: tk.finished_at, end_reason: tk.end_reason,
    });
    changes += 1;
    lastUpdate = new Date();
    render();
  }
  scheduleRefresh();
}

function onStatus(isOnline) {
  online = isOnline;
  const conn = $("conn");
  conn.dataset.online = isOnline ? "true" : "false";
  conn.querySelector(".status-dot").classList.toggle("online", isOnline);
  $("conn-text").textContent = isOnline ? t("ticket.live") : t("ticket.offline");
}

const stream = new LoketStream({auth: {ticket: PUBLIC_ID}, syncArgs: {ticket: PUBLIC_ID}, onState, onEvent, onStatus});
window.LoketTicket = {stream, get ticket() { return ticket; }};

refresh();          // first paint without waiting for the socket
stream.start();
// Without the socket (blocked websocket, flaky mobile data) keep polling slowly.
setInterval(() => { if (!online) refresh(); }, OFFLINE_POLL_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) scheduleRefresh(); });
