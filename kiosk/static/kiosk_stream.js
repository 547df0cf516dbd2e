/* Kiosk page: the office stream (LoketStream with the kiosk's device token) feeding the
 * model (kiosk_state.js), and the header (office name, clock in the office's time zone,
 * connection; a refused token is said on screen). start() (called by the entry kiosk.js)
 * starts the clock and the stream.
 */
import {LANG, LoketStream, t} from "../static/js/loket.js";
import {model, root, show, TOKEN, ui} from "./kiosk_state.js";
import {renderServices} from "./kiosk_services.js";
import {applyPrintStatus, setPrinter} from "./kiosk_ticket.js";

const $ = (id) => document.getElementById(id);

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

function onStatus(online, message) {
  // A refused connection ("invalid device token"): the kiosk was revoked or mistyped.
  ui.deviceError = !online && !!message && /token|authentication/i.test(message) ? true : (online ? false : ui.deviceError);
  root.classList.toggle("has-device-error", ui.deviceError);
  $("loading-text").textContent = ui.deviceError ? t("kiosk.error.device") : t("kiosk.loading");
  $("offline-banner").textContent = ui.deviceError ? t("kiosk.error.device") : t("kiosk.offline_banner");
  setOnline(online);
}

/* ---------- start: the clock and the stream, which it returns ---------- */
export function start() {
  // Kiosks have no reason for a context menu or pinch zoom.
  document.addEventListener("contextmenu", (e) => e.preventDefault());

  tick();
  setInterval(tick, 1000);
  if (!TOKEN) onStatus(false, "no device token");
  const stream = new LoketStream({auth: {token: TOKEN}, onState, onEvent, onStatus});
  stream.start();
  return stream;
}
