/* Kiosk page: the ticket screen (number, service, people ahead, estimated wait, QR code) and
 * its print state. The kiosk agent prints the ticket and reports back, which arrives as a
 * `ticket` delta with print_status "printed" or "failed: ..."; without an answer in 8 s, or
 * with a printer known to be down (the kiosk's station health: printer banner), the screen
 * says the number is still valid (photo of the screen, or the QR code) and stays longer.
 * Then back to the services, counted down on the "done" button.
 */
import {minutes, t} from "../static/js/loket.js";
import {model, serviceName, show, splitName, ui} from "./kiosk_state.js";
import {renderServices} from "./kiosk_services.js";

const $ = (id) => document.getElementById(id);

const PRINT_TIMEOUT_MS = 8000;
const RETURN_MS = 20000;
const RETURN_FAILED_MS = 45000;

function waitText(ticket) {
  if (ticket.estimated_wait_s === null || ticket.estimated_wait_s === undefined) return t("kiosk.wait_unknown");
  if (!ticket.people_ahead || ticket.estimated_wait_s <= 0) return t("kiosk.wait_soon");
  return t("kiosk.wait_minutes", {n: minutes(ticket.estimated_wait_s)});
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

/* ---------- print state ---------- */
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
/* A print_status from the stream: true when it is a result ("printed" or "failed..."). */
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

/* ---------- back to the services ---------- */
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

$("btn-done").addEventListener("click", finishTicket);

export {showTicket, applyPrintStatus, setPrinter, stopTicketTimers};
