/* Kiosk page: services → requirements and queue type → ticket (number, QR, print state).
 *
 * This module holds the page's model of the office, the state of the screen (ui), and the
 * switch between the screens. The kiosk's modules (ES modules, each importing what it uses
 * from the others; the entry kiosk.js, loaded by kiosk/templates/kiosk/kiosk.html):
 *   kiosk_state.js     model, ui state, screens, the idle return (this file)
 *   kiosk_services.js  the service grid, a service's detail, taking a number
 *   kiosk_ticket.js    the ticket screen: print state or on-screen ticket, return countdown
 *   kiosk_stream.js    the office stream, the header (office, clock, connection); start()
 *   checkin.js         check-in of an online booking; listen(socket)
 *
 * Live data comes from the office stream (LoketStream, auth {token}): services, counters
 * (a service no open or paused counter serves is shown "Tutup"), and the waiting tickets,
 * kept as a map from state.waiting plus `ticket` deltas (status "waiting" adds/updates,
 * anything else removes).
 */
import {LANG} from "../static/js/loket.js";
import {stopTicketTimers} from "./kiosk_ticket.js";

const root = document.getElementById("kiosk");
const CODE = root.dataset.office;
const TOKEN = new URLSearchParams(location.search).get("token") || "";
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
  if (screen !== "ticket") stopTicketTimers();
  window.scrollTo(0, 0);
}

function armIdle() {
  clearTimeout(ui.idleTimer);
  ui.idleTimer = setTimeout(() => { if (ui.screen === "detail" && !ui.busy) show("services"); }, IDLE_MS);
}

export {root, CODE, TOKEN, model, ui, serviceName, splitName, show, armIdle};
