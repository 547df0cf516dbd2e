/* Kiosk page: services → requirements and queue type → ticket (number, QR, print state).
 *
 * Live data comes from the office stream (LoketStream, auth {token}): services, counters
 * (a service no open or paused counter serves is shown "Tutup"), and the waiting tickets,
 * kept as a map from state.waiting plus `ticket` deltas (status "waiting" adds/updates,
 * anything else removes). Taking a number is one POST with the kiosk's device token; the
 * kiosk agent prints it and reports back, which arrives here as a `ticket` delta with
 * print_status "printed" or "failed: ...". Without an answer in 8 s the screen says the
 * number is still valid (photo of the screen, or the QR code).
 */
(function () {
  "use strict";

  const L = window.Loket;
  const t = L.t;
  const root = document.getElementById("kiosk");
  const CODE = root.dataset.office;
  const TOKEN = new URLSearchParams(location.search).get("token") || "";
  const LANG = window.LOKET_LANG === "en" ? "en" : "id";

  const PRINT_TIMEOUT_MS = 8000;
  const RETURN_MS = 20000;
  const RETURN_FAILED_MS = 45000;
  const IDLE_MS = 60000;          // detail screen left alone → back to the services
  const REQUEST_TIMEOUT_MS = 20000;
  const PRIORITIES = ["regular", "lansia", "disabilitas", "ibu_hamil"];

  const $ = (id) => document.getElementById(id);
  const model = {
    office: null,
    services: [],
    counters: new Map(),   // id → counter
    waiting: new Map(),    // ticket id → ticket (status waiting)
    printStatus: new Map(), // ticket id → last print_status seen on the stream
    deviceId: null,         // this kiosk's device id (from the full state)
    fullToday: new Set(),   // service codes whose daily quota is used up
    printerOk: true
  };
  const ui = {screen: "loading", service: null, priority: "regular", busy: false, ticket: null,
              print: null, printTimer: null, shownAt: 0, returnTimer: null, returnAt: 0, countdownTimer: null,
              idleTimer: null, deviceError: false};

  /* ---------- helpers ---------- */
  function has(key) { return Object.prototype.hasOwnProperty.call(window.LOKET_I18N || {}, key); }
  function serviceName(s) { return (LANG === "en" && s.name_en) || s.name_id || s.code; }
  function serviceDesc(s) { return (LANG === "en" && s.description_en) || s.description_id || ""; }
  function splitName(name) {
    // "KTP-el (Kartu Tanda Penduduk Elektronik)" → ["KTP-el", "Kartu Tanda Penduduk Elektronik"]
    const m = /^(.+?)\s*\((.+)\)\s*$/.exec(name);
    return m ? [m[1], m[2]] : [name, ""];
  }
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function available(service) {
    if (!service.active || model.fullToday.has(service.code)) return false;
    for (const c of model.counters.values()) {
      if ((c.state === "open" || c.state === "paused") && (c.service_ids || []).includes(service.id)) return true;
    }
    return false;
  }
  function waitingFor(service) {
    let n = 0;
    for (const tk of model.waiting.values()) if (tk.service_id === service.id) n += 1;
    return n;
  }
  function waitText(ticket) {
    if (ticket.estimated_wait_s === null || ticket.estimated_wait_s === undefined) return t("kiosk.wait_unknown");
    if (!ticket.people_ahead || ticket.estimated_wait_s <= 0) return t("kiosk.wait_soon");
    return t("kiosk.wait_minutes", {n: L.minutes(ticket.estimated_wait_s)});
  }

  /* ---------- screens ---------- */
  function show(screen) {
    ui.screen = screen;
    root.dataset.screen = screen;
    ["loading", "services", "detail", "ticket", "checkin"].forEach((name) => { $("screen-" + name).hidden = name !== screen; });
    clearTimeout(ui.idleTimer);
    if (screen === "detail") armIdle();
    if (screen !== "ticket") stopTicketTimers();
    window.scrollTo(0, 0);
  }

  function armIdle() {
    clearTimeout(ui.idleTimer);
    ui.idleTimer = setTimeout(() => { if (ui.screen === "detail" && !ui.busy) show("services"); }, IDLE_MS);
  }

  /* ---------- header: office, clock, connection ---------- */
  function renderOffice() {
    if (!model.office) return;
    $("office-name").textContent = model.office.name;
    document.title = t("kiosk.title") + " · " + model.office.name;
  }

  function tick() {
    const tz = (model.office && model.office.timezone) || undefined;
    const locale = LANG === "en" ? "en-GB" : "id-ID";
    const now = new Date();
    try {
      $("clock-time").textContent = new Intl.DateTimeFormat(locale, {hour: "2-digit", minute: "2-digit", hour12: false, timeZone: tz}).format(now).replace(".", ":");
      $("clock-date").textContent = new Intl.DateTimeFormat(locale, {weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: tz}).format(now);
    } catch (e) {
      $("clock-time").textContent = now.toTimeString().slice(0, 5);
    }
  }

  function setOnline(online) {
    const conn = $("conn");
    conn.dataset.online = online ? "true" : "false";
    conn.querySelector(".status-dot").classList.toggle("online", online);
    conn.querySelector(".k-conn-text").textContent = online ? t("kiosk.online") : t("kiosk.offline");
    $("offline-banner").hidden = online || ui.screen === "loading";
  }

  /* ---------- service list ---------- */
  function renderServices() {
    const grid = $("service-grid");
    const key = model.services.map((s) => s.id).join(",");
    if (grid.dataset.key !== key) {
      grid.dataset.key = key;
      grid.textContent = "";
      model.services.forEach((s) => grid.appendChild(serviceButton(s)));
      grid.dataset.count = String(model.services.length);
    }
    model.services.forEach((s) => {
      const btn = grid.querySelector('[data-service-id="' + s.id + '"]');
      if (!btn) return;
      const open = available(s);
      const n = waitingFor(s);
      btn.disabled = !open;
      btn.classList.toggle("is-closed", !open);
      btn.setAttribute("aria-disabled", open ? "false" : "true");
      btn.querySelector(".k-waiting").textContent = n > 0 ? t("kiosk.waiting_count", {n}) : t("kiosk.waiting_none");
      btn.querySelector(".k-waiting").dataset.count = String(n);
      btn.querySelector(".k-closed-hint").hidden = open;
      btn.querySelector(".k-closed-text").textContent = t(model.fullToday.has(s.code) ? "kiosk.full_today" : "kiosk.closed_hint");
    });
    $("services-empty").hidden = model.services.length > 0;
    if (ui.screen === "detail" && ui.service) renderDetailAvailability();
  }

  function serviceButton(s) {
    const [main, sub] = splitName(serviceName(s));
    const btn = el("button", "k-service");
    btn.type = "button";
    btn.dataset.serviceId = String(s.id);
    btn.dataset.testid = "service-" + s.code;
    btn.setAttribute("data-testid", "service-" + s.code);
    btn.appendChild(el("span", "k-letter", s.letter));
    const body = el("span", "k-service-body");
    body.appendChild(el("span", "k-service-name", main.replace(/-/g, "\u2011")));  // no break in "KTP-el"
    if (sub) body.appendChild(el("span", "k-service-sub", sub));
    const meta = el("span", "k-service-meta");
    const waiting = el("span", "k-waiting");
    waiting.setAttribute("data-testid", "waiting-" + s.code);
    meta.appendChild(waiting);
    const closed = el("span", "k-closed-hint");
    closed.appendChild(el("strong", "k-closed-tag", t("kiosk.closed")));
    closed.appendChild(el("span", "k-closed-text", t("kiosk.closed_hint")));
    meta.appendChild(closed);
    body.appendChild(meta);
    btn.appendChild(body);
    btn.appendChild(el("span", "k-chevron", "›"));
    btn.addEventListener("click", () => openService(s.id));
    return btn;
  }

  /* ---------- detail: requirements + queue type ---------- */
  function openService(serviceId) {
    const s = model.services.find((x) => x.id === serviceId);
    if (!s || !available(s)) return;
    ui.service = s;
    ui.priority = "regular";
    const [main, sub] = splitName(serviceName(s));
    $("detail-letter").textContent = s.letter;
    $("detail-name").textContent = main;
    $("detail-desc").textContent = [sub, serviceDesc(s)].filter(Boolean).join(" · ");
    const list = $("detail-reqs");
    list.textContent = "";
    const reqs = Array.isArray(s.requirements) ? s.requirements : [];
    if (!reqs.length) list.appendChild(el("li", "k-req-none", t("kiosk.requirements_none")));
    reqs.forEach((r) => {
      const text = typeof r === "string" ? r : ((LANG === "en" && r.en) || r.id || "");
      const li = el("li", "", text);
      const whenKey = r && r.when ? "kiosk.req_when." + r.when : null;
      if (whenKey && has(whenKey)) li.appendChild(el("span", "k-req-when", t(whenKey)));
      list.appendChild(li);
    });
    renderPriority();
    hideError();
    setBusy(false);
    renderDetailAvailability();
    show("detail");
  }

  function renderPriority() {
    document.querySelectorAll(".k-prio-option").forEach((b) => {
      const on = b.dataset.priority === ui.priority;
      b.setAttribute("aria-checked", on ? "true" : "false");
      b.classList.toggle("is-selected", on);
    });
  }

  function renderDetailAvailability() {
    const open = available(ui.service);
    $("detail-closed").hidden = open;
    $("btn-take").disabled = ui.busy || !open;
  }

  function setBusy(busy) {
    ui.busy = busy;
    const btn = $("btn-take");
    btn.disabled = busy || (ui.service ? !available(ui.service) : true);
    btn.classList.toggle("is-busy", busy);
    btn.setAttribute("aria-busy", busy ? "true" : "false");
    btn.textContent = busy ? t("kiosk.taking") : t("kiosk.take");
    $("btn-back").disabled = busy;
  }

  function showError(text) {
    $("detail-error-text").textContent = text;
    $("detail-error").hidden = false;
  }
  function hideError() { $("detail-error").hidden = true; }

  function errorText(err) {
    if (!err || !err.status) return t("kiosk.error.network");
    if (err.code === "office_closed") {
      const o = model.office || {};
      return t("kiosk.error.office_closed", {open: o.opening_time || "", close: o.closing_time || ""});
    }
    if (err.code === "service_unavailable") return t("kiosk.error.service_unavailable");
    if (err.code === "service_full_today") return t("kiosk.error.service_full_today");
    if (err.code === "not_found") return t("kiosk.error.not_found");
    if (err.status === 401 || err.status === 403 || err.code === "invalid_token") return t("kiosk.error.device");
    if (err.status >= 500) return t("kiosk.error.generic");
    return t("kiosk.error.generic");
  }

  function newRequestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  function withTimeout(promise, ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("timeout")), ms);
      promise.then((v) => { clearTimeout(timer); resolve(v); }, (e) => { clearTimeout(timer); reject(e); });
    });
  }

  async function takeNumber() {
    if (ui.busy || !ui.service) return;           // a second tap while the first is in flight
    setBusy(true);
    hideError();
    const service = ui.service;
    // One id per tap: if the answer is lost and the citizen taps again, or the request is
    // retried, the server answers the same ticket instead of issuing a second one.
    if (!ui.requestId) ui.requestId = newRequestId();
    const body = {service: service.code, priority_kind: ui.priority === "regular" ? null : ui.priority,
                  request_id: ui.requestId};
    try {
      const answer = await withTimeout(
        L.api("POST", "/api/v1/offices/" + encodeURIComponent(CODE) + "/tickets", body, {token: TOKEN}),
        REQUEST_TIMEOUT_MS);
      ui.requestId = null;  // the next tap is a new request
      showTicket(answer, service);
    } catch (err) {
      if (err.code === "service_full_today") { model.fullToday.add(service.code); ui.requestId = null; }
      showError(errorText(err));
      armIdle();
    } finally {
      setBusy(false);
    }
  }

  /* ---------- ticket screen ---------- */
  function showTicket(answer, service) {
    const tk = answer.ticket;
    ui.ticket = tk;
    $("ticket-number").textContent = tk.number;
    $("ticket-service").textContent = splitName(serviceName(tk.service || service))[0];
    const prio = $("ticket-priority");
    prio.hidden = !tk.priority_kind;
    if (tk.priority_kind) prio.textContent = t("kiosk.priority_tag", {kind: t("kiosk.priority." + tk.priority_kind)});
    $("people-ahead").textContent = String(tk.people_ahead ?? 0);
    $("ticket-wait").textContent = waitText(tk);
    const qr = $("ticket-qr");
    qr.src = "/t/" + encodeURIComponent(tk.public_id) + "/qr.svg";
    qr.alt = t("kiosk.scan");
    show("ticket");
    ui.returnAt = Date.now() + RETURN_MS;
    startCountdown();
    watchPrint(tk.id, answer.print);
  }

  function setPrint(state) {
    ui.print = state;
    const box = $("print-status");
    box.dataset.state = state;
    $("print-text").textContent = t("kiosk.print." + state);
    if (state === "failed") {
      clearTimeout(ui.printTimer);
      ui.returnAt = Math.max(ui.returnAt, ui.shownAt + RETURN_FAILED_MS);
      startCountdown();
    }
    if (state === "printed") clearTimeout(ui.printTimer);
  }
  function applyPrintStatus(status) {
    if (status === "printed") { setPrint("printed"); return true; }
    if (typeof status === "string" && status.indexOf("failed") === 0) {
      if (ui.print !== "printed") setPrint("failed");
      return true;
    }
    return false;
  }

  function watchPrint(ticketId, job) {
    ui.shownAt = Date.now();
    clearTimeout(ui.printTimer);
    if (!job || !model.printerOk) { setPrint("failed"); return; }  // a printer known to be down: say so at once
    setPrint("printing");
    if (applyPrintStatus(model.printStatus.get(ticketId))) return;  // the result came before the answer
    ui.printTimer = setTimeout(() => { if (ui.print === "printing") setPrint("failed"); }, PRINT_TIMEOUT_MS);
  }

  function startCountdown() {
    clearInterval(ui.countdownTimer);
    clearTimeout(ui.returnTimer);
    const update = () => {
      const left = Math.max(0, Math.ceil((ui.returnAt - Date.now()) / 1000));
      $("btn-done").textContent = t("kiosk.done_countdown", {n: left});
    };
    update();
    ui.countdownTimer = setInterval(update, 1000);
    ui.returnTimer = setTimeout(finishTicket, Math.max(0, ui.returnAt - Date.now()));
  }

  function stopTicketTimers() {
    clearInterval(ui.countdownTimer);
    clearTimeout(ui.returnTimer);
    clearTimeout(ui.printTimer);
  }

  function finishTicket() {
    stopTicketTimers();
    ui.ticket = null;
    ui.service = null;
    show(model.office ? "services" : "loading");
    renderServices();
  }

  /* ---------- stream ---------- */
  function onState(state) {
    model.office = state.office;
    model.services = (state.services || []).filter((s) => s.active !== false);
    model.counters = new Map((state.counters || []).map((c) => [c.id, c]));
    model.waiting = new Map((state.waiting || []).map((tk) => [tk.id, tk]));
    (state.waiting || []).forEach((tk) => { if (tk.print_status) model.printStatus.set(tk.id, tk.print_status); });
    model.deviceId = state.device_id || null;
    model.fullToday = new Set(state.full_today || []);
    const me = (state.devices || []).find((d) => d.id === model.deviceId);
    setPrinter(me);
    renderOffice();
    tick();
    renderServices();
    if (ui.screen === "loading") show("services");
    setOnline(true);
  }

  function onEvent(name, data) {
    if (name === "ticket" || name === "call") {
      const tk = data.ticket;
      if (!tk) return;
      if (tk.status === "waiting") model.waiting.set(tk.id, tk);
      else model.waiting.delete(tk.id);
      if (tk.print_status) {
        model.printStatus.set(tk.id, tk.print_status);
        if (model.printStatus.size > 500) model.printStatus.delete(model.printStatus.keys().next().value);
        if (ui.ticket && ui.ticket.id === tk.id && ui.screen === "ticket") applyPrintStatus(tk.print_status);
      }
    } else if (name === "counter" && data.counter) {
      model.counters.set(data.counter.id, data.counter);
    } else if (name === "device" && data.device && data.device.id === model.deviceId) {
      setPrinter(data.device);
    }
    renderServices();
  }

  /* The kiosk's own station health (its agent reports the printer): a printer known to be
     out of paper or offline is announced before anyone takes a number. A kiosk whose agent
     never reported (no health yet) is assumed fine: the 8 s print timeout still applies. */
  function setPrinter(device) {
    const printer = device && device.devices ? device.devices.printer : null;
    model.printerOk = !printer || ["ok", "paper_low"].includes(printer.state);
    const banner = $("printer-banner");
    banner.hidden = model.printerOk;
    banner.textContent = t("kiosk.printer_down");
  }

  function onStatus(online, message) {
    // A refused connection ("invalid device token"): the kiosk was revoked or mistyped.
    ui.deviceError = !online && !!message && /token|authentication/i.test(message) ? true : (online ? false : ui.deviceError);
    root.classList.toggle("has-device-error", ui.deviceError);
    $("loading-text").textContent = ui.deviceError ? t("kiosk.error.device") : t("kiosk.loading");
    $("offline-banner").textContent = ui.deviceError ? t("kiosk.error.device") : t("kiosk.offline_banner");
    setOnline(online);
  }

  /* ---------- wiring ---------- */
  document.querySelectorAll(".k-prio-option").forEach((b) => b.addEventListener("click", () => {
    if (ui.busy) return;
    ui.priority = PRIORITIES.includes(b.dataset.priority) ? b.dataset.priority : "regular";
    renderPriority();
    armIdle();
  }));
  $("btn-take").addEventListener("click", takeNumber);
  $("btn-back").addEventListener("click", () => { if (!ui.busy) show("services"); });
  $("btn-done").addEventListener("click", finishTicket);
  $("screen-detail").addEventListener("pointerdown", armIdle);
  // Kiosks have no reason for a context menu or pinch zoom.
  document.addEventListener("contextmenu", (e) => e.preventDefault());

  tick();
  setInterval(tick, 1000);
  if (!TOKEN) onStatus(false, "no device token");
  const stream = new L.LoketStream({auth: {token: TOKEN}, onState, onEvent, onStatus});
  window.LoketKiosk = {stream, model, ui, show, showTicket, withTimeout, REQUEST_TIMEOUT_MS};  // checkin.js uses these
  stream.start();
})();
