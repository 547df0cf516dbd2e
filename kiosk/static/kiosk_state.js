/* Kiosk page: services → requirements and queue type → ticket (number, QR, print state).
 *
 * This file creates the namespace window.LoketKiosk that the kiosk's other scripts add to:
 * the page's model of the office, the state of the screen (ui), and the switch between the
 * screens. The template (kiosk/templates/kiosk/kiosk.html) loads them in this order:
 *   kiosk_state.js     model, ui state, screens, the idle return (this file)
 *   kiosk_services.js  the service grid, a service's detail, taking a number
 *   kiosk_ticket.js    the ticket screen: print state or on-screen ticket, return countdown
 *   kiosk_stream.js    the office stream, the header (office, clock, connection); starts it
 *   checkin.js         check-in of an online booking (uses LoketKiosk)
 *
 * Live data comes from the office stream (LoketStream, auth {token}): services, counters
 * (a service no open or paused counter serves is shown "Tutup"), and the waiting tickets,
 * kept as a map from state.waiting plus `ticket` deltas (status "waiting" adds/updates,
 * anything else removes).
 */
(function () {
  "use strict";

  const root = document.getElementById("kiosk");
  const LANG = window.LOKET_LANG === "en" ? "en" : "id";
  const IDLE_MS = 60000;          // detail screen left alone → back to the services

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
  function serviceName(s) { return (LANG === "en" && s.name_en) || s.name_id || s.code; }
  function splitName(name) {
    // "KTP-el (Kartu Tanda Penduduk Elektronik)" → ["KTP-el", "Kartu Tanda Penduduk Elektronik"]
    const m = /^(.+?)\s*\((.+)\)\s*$/.exec(name);
    return m ? [m[1], m[2]] : [name, ""];
  }

  /* ---------- screens ---------- */
  function show(screen) {
    ui.screen = screen;
    root.dataset.screen = screen;
    ["loading", "services", "detail", "ticket", "checkin"].forEach((name) => { $("screen-" + name).hidden = name !== screen; });
    clearTimeout(ui.idleTimer);
    if (screen === "detail") armIdle();
    if (screen !== "ticket") K.stopTicketTimers();
    window.scrollTo(0, 0);
  }

  function armIdle() {
    clearTimeout(ui.idleTimer);
    ui.idleTimer = setTimeout(() => { if (ui.screen === "detail" && !ui.busy) show("services"); }, IDLE_MS);
  }

  const K = window.LoketKiosk = {
    root, CODE: root.dataset.office, TOKEN: new URLSearchParams(location.search).get("token") || "", LANG,
    model, ui, serviceName, splitName, show, armIdle,
  };
})();
