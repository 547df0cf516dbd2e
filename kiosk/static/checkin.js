/* Kiosk check-in of an online booking (issue 6), on top of the kiosk_*.js modules.
 *
 * The citizen scans the booking QR (a keyboard-wedge scanner types the payload and Enter
 * into the focused field) or types the 8-character code, then the last 6 digits of the
 * NIK. One POST /api/v1/offices/<code>/checkin with the kiosk's device token; the answer
 * is the ticket, shown (and printed) exactly like a walk-in ticket. Refusals are said
 * plainly, with what to do (too early: come back from HH.MM; too late: take a walk-in
 * number; ...).
 *
 * The kiosk's own scanner or camera (kiosk agent → server → this kiosk's page only, as
 * "booking_scan"): a booking QR opens this screen with the booking code filled in and asks
 * for the NIK digits (the signed payload is what is sent); a resi, ticket, forged or damaged
 * QR is said plainly, keeping what was typed. The same booking scanned again keeps the
 * digits typed so far.
 */
import {api, t} from "../static/js/loket.js";
import {model, show, ui} from "./kiosk_state.js";
import {REQUEST_TIMEOUT_MS, withTimeout} from "./kiosk_services.js";
import {showTicket} from "./kiosk_ticket.js";

const $ = (id) => document.getElementById(id);
const CODE = document.getElementById("kiosk").dataset.office;
const TOKEN = new URLSearchParams(location.search).get("token") || "";
const IDLE_MS = 60000;
let busy = false;
let idle = null;
let scanned = null;  // {ref, code}: the scanned payload behind the code shown in the field

function armIdle() {
  clearTimeout(idle);
  idle = setTimeout(() => { if (ui.screen === "checkin" && !busy) show("services"); }, IDLE_MS);
}

function open() {
  $("checkin-ref").value = "";
  $("checkin-nik").value = "";
  $("checkin-error").hidden = true;
  $("checkin-scanned").hidden = true;
  scanned = null;
  setBusy(false);
  show("checkin");
  armIdle();
  $("checkin-ref").focus();  // the scanner types into the focused field
}

function setBusy(on) {
  busy = on;
  const btn = $("btn-checkin-submit");
  btn.disabled = on;
  btn.classList.toggle("is-busy", on);
  btn.textContent = on ? t("kiosk.taking") : t("kiosk.checkin.submit");
  $("btn-checkin-back").disabled = on;
}

function hhmm(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || isNaN(d)) return "";
  const tz = (model.office && model.office.timezone) || undefined;
  try {
    return new Intl.DateTimeFormat("id-ID", {hour: "2-digit", minute: "2-digit", hour12: false, timeZone: tz}).format(d).replace(":", ".");
  } catch (e) { return d.toTimeString().slice(0, 5).replace(":", "."); }
}

function errorText(err) {
  if (!err || !err.status) return t("kiosk.error.network");
  const d = (err.data && err.data.details) || {};
  const known = ["too_early", "too_late", "wrong_day", "cancelled", "expired", "nik_mismatch", "booking_forged",
                 "booking_foreign", "booking_wrong_office", "not_found", "office_closed", "service_unavailable"];
  if (err.code === "validation_error") {
    return t(d.field === "nik_suffix" ? "kiosk.checkin.error.nik_format" : "kiosk.checkin.error.code_format");
  }
  if (known.includes(err.code)) {
    const day = d.day ? d.day.split("-").reverse().join("-") : "";
    return t("kiosk.checkin.error." + err.code,
             {from: d.checkin_from_hhmm || hhmm(d.checkin_from), until: d.checkin_until_hhmm || hhmm(d.checkin_until), day});
  }
  if (err.status === 401 || err.status === 403) return t("kiosk.error.device");
  return t("kiosk.error.generic");
}

async function submit(event) {
  if (event) event.preventDefault();
  if (busy) return;
  const typed = $("checkin-ref").value.trim();
  const ref = scanned && typed === scanned.code ? scanned.ref : typed;
  const nik = $("checkin-nik").value.replace(/\D/g, "");
  if (!ref) { $("checkin-ref").focus(); return; }
  if (nik.length !== 6) { $("checkin-nik").focus(); showError(t("kiosk.checkin.error.nik_format")); return; }
  setBusy(true);
  $("checkin-error").hidden = true;
  try {
    const answer = await withTimeout(
      api("POST", "/api/v1/offices/" + encodeURIComponent(CODE) + "/checkin", {ref, nik_suffix: nik}, {token: TOKEN}),
      REQUEST_TIMEOUT_MS);
    const code = answer.booking && answer.booking.service ? answer.booking.service.code : null;
    const service = model.services.find((s) => s.code === code) || answer.booking.service || {};
    clearTimeout(idle);
    showTicket(answer, service);
  } catch (err) {
    showError(errorText(err));
    armIdle();
  } finally {
    setBusy(false);
  }
}

function showError(text) {
  $("checkin-error-text").textContent = text;
  $("checkin-error").hidden = false;
  $("checkin-scanned").hidden = true;
}

const SCAN_ERRORS = ["resi_qr", "ticket_qr", "booking_damaged", "not_booking"];  // else kiosk.checkin.error.*

function onScan(data) {
  // Not while a check-in or a walk-in number is on its way: the citizen simply scans again.
  if (!data || busy || ui.busy || ui.screen === "loading") return;
  if (ui.screen !== "checkin") open();
  if (data.ok) {
    const same = scanned && scanned.ref === data.ref && $("checkin-ref").value === data.code;
    scanned = {ref: data.ref, code: data.code};
    $("checkin-ref").value = data.code;
    if (!same) $("checkin-nik").value = "";  // another booking: not the digits typed for the last one
    $("checkin-error").hidden = true;
    $("checkin-scanned").hidden = false;
    $("checkin-nik").focus();
  } else {
    const known = SCAN_ERRORS.includes(data.error) ? "kiosk.checkin.scan." + data.error : "kiosk.checkin.error." + data.error;
    showError(t(known) === known ? t("kiosk.checkin.scan.not_booking") : t(known));
  }
  armIdle();
}

// A scanned QR payload ends with Enter in the code field: go on to the NIK digits.
$("checkin-ref").addEventListener("keydown", (e) => {
  if (e.key !== "Enter") return;
  e.preventDefault();
  if ($("checkin-nik").value.replace(/\D/g, "").length === 6) submit();
  else $("checkin-nik").focus();
});
$("checkin-form").addEventListener("submit", submit);
$("checkin-form").addEventListener("input", armIdle);
$("btn-checkin").addEventListener("click", open);
$("btn-checkin-back").addEventListener("click", () => { if (!busy) show("services"); });
$("checkin-ref").addEventListener("input", () => { $("checkin-scanned").hidden = true; });
/* Listen for the kiosk's scans on the office stream's socket (kiosk.js calls it). */
export function listen(socket) {
  socket.on("booking_scan", onScan);
}
