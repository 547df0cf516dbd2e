/* Counter console: the staff stream (LoketStream, office room): the full state on connect
 * and after a gap, then `ticket` / `call` / `counter` / `device` deltas, and the connection
 * dot. Every delta is also relayed as a DOM event "loket:<name>" (e.g. intake's
 * resi_print). Loaded last of the console's scripts: draws the page, runs the clocks and
 * starts the stream (LoketConsole.stream).
 */
(function () {
  "use strict";

  const C = window.LoketConsole;
  const S = C.state;
  const CFG = window.LOKET_CONSOLE;
  const t = Loket.t;
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
      if (hadMine && !S.closing) C.toast("info", t("console.msg.counter_lost", {counter: my ? my.label : ""}));
      S.myId = C.findMyCounter();
    }
    const c = C.mine();
    if (!c || !c.current) S.detail = null;
    else if (!S.detail || S.detail.id !== c.current.id) C.refreshMine();
    S.synced = true;
    if (window.LoketDeviceAlerts) LoketDeviceAlerts.set(state.devices || []);
    C.render();
  }

  function onEvent(name, data) {
    document.dispatchEvent(new CustomEvent("loket:" + name, {detail: data}));  // e.g. intake's resi_print
    if (name === "device" && data.device && window.LoketDeviceAlerts) LoketDeviceAlerts.upsert(data.device);
    if (name === "counter" && data.counter) C.upsertCounter(data.counter);
    if ((name === "ticket" || name === "call") && data.ticket) C.upsertTicket(data.ticket);
    if (name === "call" && data.call && data.call.counter_id === S.myId && S.detail && S.detail.id === data.call.ticket_id) {
      S.detail = Object.assign({}, S.detail, {called_at: data.call.at});
    }
    C.render();
  }

  function onStatus(online) {
    S.online = online;
    $("conn-dot").classList.toggle("online", online);
    $("conn-text").textContent = t(online ? "console.conn.online" : "console.conn.offline");
    document.body.classList.toggle("is-offline", !online);
  }

  /* ---- clocks ------------------------------------------------------------------------- */
  setInterval(() => {
    C.renderTimes();
    C.renderClock();
    const c = C.mine();
    if (c) C.renderWaiting(c);
  }, 1000);

  /* ---- start -------------------------------------------------------------------------- */
  C.render();
  C.renderClock();
  const stream = new Loket.LoketStream({namespace: Loket.STAFF, auth: {office_id: CFG.office.id}, onState, onEvent, onStatus});
  C.stream = stream;   // for tests and support
  stream.start();
})();
