/* The pickup officer's station page (issue 4, Drive-Thru).
 *
 * Joins the station's Socket.IO room (join_station); each `scan` {code, source, at} from
 * the lane camera, and each resi typed or read by a keyboard-wedge scanner into the text
 * field, is looked up (POST /api/v1/pickup/<id>/lookup) and shown in big text: the
 * application, its state, shelf location and checks, or the refusal. A camera scan of the
 * code already shown, within DEDUPE_MS of the last sighting, is the same car: no second
 * look-up, no flicker. The hand-over form posts /api/v1/pickup/<id>/hand-over with the
 * signature drawn on the canvas (PNG data URL) and, optionally, a photo of the collector
 * (file input, on a tablet the camera): read in the browser and downscaled on a canvas to at
 * most PHOTO_MAX_SIDE px on its long side, sent as a JPEG data URL (quality 0.85), so a
 * phone photo fits the server's 1.5 MB limit.
 *
 * window.LOKET_PICKUP exposes counters and timings for tests and bench/scan_latency.py:
 * {lookups, ignored, shown: [{code, source, at, eventAt, shownAt, paintedAt, result}]}.
 */
import {api, joinStation, LANG, pageData, t} from "./loket.js";

const station = pageData();   // the station (pickup_station.html)
const DEDUPE_MS = 10000;
const PHOTO_MAX_SIDE = 1280;
const $ = (id) => document.getElementById(id);
const stats = window.LOKET_PICKUP = {lookups: 0, ignored: 0, shown: []};
let current = null;      // {code, seenAt, view}
let inflight = null;     // code being looked up
let signed = false;
let photo = null;        // JPEG data URL of the collector's photo, or null

function fmtDate(iso) {
  if (!iso) return "-";
  const d = new Date(iso.length === 10 ? iso + "T00:00:00" : iso);
  const opts = iso.length === 10 ? {day: "2-digit", month: "long", year: "numeric"}
    : {day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"};
  return d.toLocaleString(LANG === "en" ? "en-GB" : "id-ID", opts);
}

function refusalText(view) {
  const d = view.details || {};
  return t("pickup.refusal." + view.refusal, {due: fmtDate(d.due_date), when: fmtDate(d.collected_at),
                                               who: d.collector_name || "-"});
}

function setText(id, text) { $(id).textContent = text == null ? "" : text; }

function showApplication(app) {
  $("result-details").hidden = !app;
  if (!app) return;
  setText("d-resi", app.resi_number);
  setText("d-service", LANG === "en" ? app.service.name_en : app.service.name_id);
  setText("d-applicant", app.applicant_name);
  setText("d-nik", app.applicant_nik_masked);
  setText("d-status", t("resi.status." + app.status) !== "resi.status." + app.status ? t("resi.status." + app.status) : app.status);
  setText("d-shelf", app.shelf_location || "-");
}

function render(view, code) {
  const box = $("result");
  box.dataset.state = view.result === "ok" ? "ok" : "refused";
  box.dataset.refusal = view.refusal || "";
  setText("result-title", view.result === "ok" ? t("pickup.ok_title") : t("pickup.refused_title"));
  setText("result-message", view.result === "ok" ? "" : refusalText(view));
  showApplication(view.application);
  const list = $("checks-list");
  list.innerHTML = "";
  (view.checks || []).forEach((c) => {
    const li = document.createElement("li");
    li.textContent = LANG === "en" ? c.en : c.id;
    li.dataset.key = c.key;
    list.appendChild(li);
  });
  $("result-checks").hidden = !(view.checks || []).length;
  const form = $("handover");
  form.hidden = view.result !== "ok";
  if (view.result === "ok") resetForm(view);
}

function resetForm(view) {
  document.querySelector('input[name=kind][value=applicant]').checked = true;
  $("rep-fields").hidden = true;
  $("kind-rep-label").hidden = !view.delegable;
  ["f-nik", "f-name", "f-letter"].forEach((id) => { $(id).value = ""; });
  setText("handover-error", "");
  clearSignature();
  clearPhoto();
}

async function lookup(code, source, meta) {
  code = (code || "").trim();
  if (!code) return;
  const now = Date.now();
  if (source === "camera") {
    if (inflight === code) { stats.ignored += 1; return; }
    if (current && current.code === code && now - current.seenAt < DEDUPE_MS) {
      current.seenAt = now;  // the same car is still at the window
      stats.ignored += 1;
      return;
    }
  }
  inflight = code;
  stats.lookups += 1;
  try {
    const view = await api("POST", `/api/v1/pickup/${station.id}/lookup?lang=${LANG}`, {code});
    current = {code, seenAt: Date.now(), view};
    render(view, code);
    const entry = {code, source, at: meta && meta.at, eventAt: meta && meta.eventAt, shownAt: Date.now(),
                   paintedAt: null, result: view.refusal || "ok"};
    stats.shown.push(entry);
    requestAnimationFrame(() => { entry.paintedAt = Date.now(); });  // the next frame has it on screen
  } catch (err) {
    $("result").dataset.state = "error";
    setText("result-title", t("pickup.error", {message: err.message}));
  } finally {
    if (inflight === code) inflight = null;
  }
}

// -- signature canvas -----------------------------------------------------------------
const canvas = $("signature");
const ctx = canvas.getContext("2d");
function clearSignature() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  signed = false;
}
let drawing = false;
function point(ev) {
  const r = canvas.getBoundingClientRect();
  return [(ev.clientX - r.left) * canvas.width / r.width, (ev.clientY - r.top) * canvas.height / r.height];
}
canvas.addEventListener("pointerdown", (ev) => {
  drawing = true;
  const [x, y] = point(ev);
  ctx.beginPath(); ctx.moveTo(x, y);
  canvas.setPointerCapture && canvas.setPointerCapture(ev.pointerId);
});
canvas.addEventListener("pointermove", (ev) => {
  if (!drawing) return;
  const [x, y] = point(ev);
  ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.strokeStyle = "#10224a";
  ctx.lineTo(x, y); ctx.stroke();
  signed = true;
});
["pointerup", "pointerleave", "pointercancel"].forEach((n) => canvas.addEventListener(n, () => { drawing = false; }));
$("signature-clear").addEventListener("click", clearSignature);
clearSignature();

// -- optional photo of the collector -------------------------------------------------
function clearPhoto() {
  photo = null;
  $("photo-input").value = "";
  $("photo-preview").removeAttribute("src");
  $("photo-box").hidden = true;
}

function loadImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("unreadable")); };
    img.src = url;
  });
}

async function downscaled(file) {
  const img = await loadImage(file);
  const w = img.naturalWidth, h = img.naturalHeight;
  if (!w || !h) throw new Error("unreadable");
  const scale = Math.min(1, PHOTO_MAX_SIDE / Math.max(w, h));
  const out = document.createElement("canvas");
  out.width = Math.max(1, Math.round(w * scale));
  out.height = Math.max(1, Math.round(h * scale));
  const c = out.getContext("2d");
  c.fillStyle = "#fff";  // a transparent PNG gets a white background in the JPEG
  c.fillRect(0, 0, out.width, out.height);
  c.drawImage(img, 0, 0, out.width, out.height);
  return out.toDataURL("image/jpeg", 0.85);
}

$("photo-input").addEventListener("change", async () => {
  const file = $("photo-input").files[0];
  if (!file) { clearPhoto(); return; }
  setText("handover-error", "");
  $("confirm").disabled = true;  // not before the photo is ready
  try {
    photo = await downscaled(file);
    $("photo-preview").src = photo;
    $("photo-box").hidden = false;
  } catch (err) {
    clearPhoto();
    setText("handover-error", t("pickup.photo_unreadable"));
  } finally {
    $("confirm").disabled = false;
  }
});
$("photo-remove").addEventListener("click", clearPhoto);

// -- hand-over ------------------------------------------------------------------------
document.querySelectorAll("input[name=kind]").forEach((r) => r.addEventListener("change", () => {
  $("rep-fields").hidden = document.querySelector("input[name=kind]:checked").value !== "representative";
}));
$("confirm").addEventListener("click", async () => {
  if (!current || current.view.result !== "ok") return;
  if (!signed) { setText("handover-error", t("pickup.signature_missing")); return; }
  const kind = document.querySelector("input[name=kind]:checked").value;
  const collector = {kind, nik: $("f-nik").value.trim()};
  if (kind === "representative") {
    Object.assign(collector, {name: $("f-name").value, relation: $("f-relation").value, letter_number: $("f-letter").value});
  }
  const app = current.view.application;
  $("confirm").disabled = true;
  try {
    const answer = await api("POST", `/api/v1/pickup/${station.id}/hand-over?lang=${LANG}`, {
      application_id: app.id, expected_version: app.version, collector, signature: canvas.toDataURL("image/png"),
      ...(photo ? {photo} : {})});
    const done = answer.application;
    $("handover").hidden = true;
    $("result").dataset.state = "collected";
    setText("result-title", t("pickup.collected_title"));
    setText("result-message", t("pickup.done", {name: done.collector.name}));
    showApplication(Object.assign({}, app, {status: done.status, shelf_location: done.shelf_location}));
    $("result-checks").hidden = true;
    current = {code: current.code, seenAt: current.seenAt, view: {result: "collected"}};
  } catch (err) {
    const reason = err.data && err.data.details && err.data.details.reason;
    setText("handover-error", reason ? t("pickup.refusal." + reason, {due: "-", when: "-", who: "-"}) : err.message);
  } finally {
    $("confirm").disabled = false;
  }
});

// -- typed resi / keyboard-wedge scanner ----------------------------------------------
$("typed-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const code = $("resi-input").value;
  $("resi-input").value = "";
  lookup(code, "typed", {eventAt: Date.now()});
});

// -- the lane camera ------------------------------------------------------------------
const dot = document.querySelector("[data-testid=connection-status]");
const socket = joinStation(station.id, dot);
socket.on("scan", (event) => {
  lookup(event.code, event.source === "scanner" ? "scanner" : "camera", {at: event.at, eventAt: Date.now()});
});
