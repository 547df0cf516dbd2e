/* Kiosk page: the service grid (waiting count per service, "Tutup" when no open or paused
 * counter serves it or its daily quota is used up), a service's detail (requirements and
 * queue type), and taking a number: one POST with the kiosk's device token and a request id
 * per tap, so a lost answer tapped again gets the same ticket, not a second one.
 */
import {api, hasText as has, LANG, t} from "../static/js/loket.js";
import {armIdle, CODE, model, serviceName, show, splitName, TOKEN, ui} from "./kiosk_state.js";
import {showTicket} from "./kiosk_ticket.js";

const $ = (id) => document.getElementById(id);

const REQUEST_TIMEOUT_MS = 20000;
const PRIORITIES = ["regular", "lansia", "disabilitas", "ibu_hamil"];

/* ---------- helpers ---------- */
function serviceDesc(s) { return (LANG === "en" && s.description_en) || s.description_id || ""; }
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

/* ---------- taking a number ---------- */
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
  return t("kiosk.error.generic");
}

function newRequestId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
}

/* `promise`, or a rejection with Error("timeout") after `ms` milliseconds. */
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
      api("POST", "/api/v1/offices/" + encodeURIComponent(CODE) + "/tickets", body, {token: TOKEN}),
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

/* ---------- wiring ---------- */
document.querySelectorAll(".k-prio-option").forEach((b) => b.addEventListener("click", () => {
  if (ui.busy) return;
  ui.priority = PRIORITIES.includes(b.dataset.priority) ? b.dataset.priority : "regular";
  renderPriority();
  armIdle();
}));
$("btn-take").addEventListener("click", takeNumber);
$("btn-back").addEventListener("click", () => { if (!ui.busy) show("services"); });
$("screen-detail").addEventListener("pointerdown", armIdle);

export {renderServices, withTimeout, REQUEST_TIMEOUT_MS};
