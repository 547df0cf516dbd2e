/* Counter console: the staff stream (LoketStream, office room): the full state on connect
 * and after a gap, then `ticket` / `call` / `counter` / `device` deltas, and the connection
 * dot. Every delta is also relayed as a DOM event "loket:<name>" (e.g. intake's
 * resi_print). start() (called by the entry console.js) draws the page, runs the clocks
 * and starts the stream, which it returns.
 */
import {LoketStream, STAFF, pageData, t} from "./loket.js";
import * as deviceAlerts from "./device_alerts.js";
import {state as S, findMyCounter, mine, upsertCounter, upsertTicket} from "./console_state.js";
import {refreshMine, toast} from "./console_requests.js";
import {render, renderClock, renderTimes} from "./console_render.js";
import {renderWaiting} from "./console_lists.js";
const $ = (id) => document.getElementById(id);

function onState(state) {
  if (state.server_time) S.clockOffset = Date.parse(state.server_time) - Date.now();
  S.services = new Map(state.services.map((s) => [s.id, s]));
  const hadMine = S.myId;
  S.counters = new Map();
  state.counters.forEach((c) => S.counters.set(c.id, c));
  S.waiting = new Map((state.waiting || []).map((tk) => [tk.id, tk]));
  const my = hadMine ? S.counters.get(hadMine) : null;
  if (my && my.state !== "closed" && my.officer_id === S.me.id) S.myId = my.id;
  else {
    if (hadMine && !S.closing) toast("info", t("console.msg.counter_lost", {counter: my ? my.label : ""}));
    S.myId = findMyCounter();
  }
  const c = mine();
  if (!c || !c.current) S.detail = null;
  else if (!S.detail || S.detail.id !== c.current.id) refreshMine();
  S.synced = true;
  deviceAlerts.set(state.devices || []);
  render();
}

function onEvent(name, data) {
  document.dispatchEvent(new CustomEvent("loket:" + name, {detail: data}));  // e.g. intake's resi_print
  if (name === "device" && data.device) deviceAlerts.upsert(data.device);
  if (name === "counter" && data.counter) upsertCounter(data.counter);
  if ((name === "ticket" || name === "call") && data.ticket) upsertTicket(data.ticket);
  if (name === "call" && data.call && data.call.counter_id === S.myId && S.detail && S.detail.id === data.call.ticket_id) {
    S.detail = Object.assign({}, S.detail, {called_at: data.call.at});
  }
  render();
}

function onStatus(online) {
  S.online = online;
  $("conn-dot").classList.toggle("online", online);
  $("conn-text").textContent = t(online ? "console.conn.online" : "console.conn.offline");
  document.body.classList.toggle("is-offline", !online);
}

/* ---- start: the clocks, the first paint, the stream -------------------------------- */
export function start() {
  setInterval(() => {
    renderTimes();
    renderClock();
    const c = mine();
    if (c) renderWaiting(c);
  }, 1000);
  render();
  renderClock();
  const stream = new LoketStream({namespace: STAFF, auth: {office_id: pageData().office.id}, onState, onEvent, onStatus});
  stream.start();
  return stream;
}
