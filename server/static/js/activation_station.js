/* The KTP-el activation officer's station page (issue 5).
 *
 * Joins the station's Socket.IO room (join_station) and GETs /api/v1/activation/<id> on
 * every (re)connect. `card` events {event, reader, uid, atr, at} from the station's agent
 * update the reader / card indicator in the header; `activation` events {session} (sent after
 * every change, including the server's card match on a tap) re-render the session panel.
 * The ref field (autofocus; keyboard-wedge scanners type into it and press Enter) opens a
 * session; fingerprint, complete and cancel post to /api/v1/activation/<id>/... with the
 * session's expected_version, one request at a time (buttons disabled while in flight).
 *
 * Demo mode only (the panel #demo-reader is rendered): its buttons POST /demo/card-reader to
 * tap / lift a card on the demo server's simulated reader or unplug / plug it; the card event
 * then arrives over Socket.IO like one from a real reader.
 *
 * window.LOKET_ACTIVATION exposes {renders, session, station} for tests.
 */
import {api, h, joinStation, LANG, pageData, t} from "./loket.js";

const DATA = pageData();   // {station, user} (activation_station.html)
const station = DATA.station;
const user = DATA.user || {};
const lang = LANG;
const base = `/api/v1/activation/${station.id}`;
const $ = (id) => document.getElementById(id);
const stats = window.LOKET_ACTIVATION = {renders: 0, session: null, station: null};
let session = null;       // the current SESSION, or null
let busy = false;         // a request is in flight
let checksFor = null;     // the session id the checkboxes belong to
const seen = {};          // session id → the highest version rendered

function fmtDate(iso) {
  if (!iso) return "-";
  const d = new Date(iso.length === 10 ? iso + "T00:00:00" : iso);
  if (isNaN(d)) return iso;
  const opts = iso.length === 10 ? {day: "2-digit", month: "long", year: "numeric"}
    : {day: "2-digit", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit"};
  return d.toLocaleString(lang === "en" ? "en-GB" : "id-ID", opts);
}

function setText(id, text) { $(id).textContent = text == null ? "" : String(text); }

/* The page's text for a refusal code (with its details), else the server's message. */
function refusalText(err) {
  const code = err.code || (err.data && err.data.error);
  const d = (err.data && err.data.details) || {};
  const who = (d.officer && typeof d.officer === "object" ? d.officer.name : d.officer) || d.officer_name;
  const key = "activation.refusal." + code + (code === "already_activated" && !who ? "_at" : "");
  if (!code || code === "checklist_incomplete" || t(key) === key) return err.message;
  return t(key, {step: d.step_name || "-", due: fmtDate(d.due_date), when: fmtDate(d.activated_at), who: who || "-"});
}

function showRefusal(err) {
  const panel = $("refusal");
  const msg = $("refusal-message");
  msg.replaceChildren(h("span", {text: refusalText(err)}));
  panel.dataset.code = err.code || "";
  panel.hidden = false;
}

function clearRefusal() { $("refusal").hidden = true; $("refusal").dataset.code = ""; setText("refusal-message", ""); }

// -- header: reader and card -----------------------------------------------------------
function renderReader(reader, card) {
  const state = reader && reader.state;
  const box = $("reader");
  const ok = state === "ok" || (!state && card && card.present);  // a card was read: the reader works
  box.dataset.state = ok ? "ok" : state ? "down" : "unknown";
  setText("reader-text", ok ? t("activation.reader.ok")
    : state ? t("activation.reader.down") : t("activation.reader.unknown"));
  box.title = (reader && reader.detail) || "";
  if (card) setText("card-text", card.present ? `${t("activation.reader.card_present")}${card.uid ? " · " + card.uid : ""}`
    : t("activation.reader.no_card"));
}

/* The officer's counter and the ticket called or served there (the queue side). */
function renderDesk(desk) {
  setText("desk", !desk || !desk.counter ? t("activation.desk.none")
    : desk.ticket ? t("activation.desk.ticket", {counter: desk.counter, ticket: desk.ticket})
      : t("activation.desk.idle", {counter: desk.counter}));
}

function onCardEvent(ev) {
  if (!ev) return;
  const st = stats.station = stats.station || {};
  st.reader = st.reader || {};
  st.card = st.card || {};
  if (ev.event === "reader_removed") Object.assign(st.reader, {state: "no_reader", detail: ev.reader});
  else if (ev.event === "reader_added") Object.assign(st.reader, {state: "ok", detail: ev.reader});
  else if (ev.event === "inserted") {
    Object.assign(st.card, {present: true, uid: ev.uid, reader: ev.reader, at: ev.at});
    Object.assign(st.reader, {state: "ok"});
  } else if (ev.event === "removed") Object.assign(st.card, {present: false, uid: null, at: ev.at});
  renderReader(st.reader, st.card);
  renderDemo();
}

// -- session panel ---------------------------------------------------------------------
function renderSession(next, opts) {
  opts = opts || {};
  if (next && !opts.force && next.version < (seen[next.id] || 0)) return;  // a stale event
  if (next) seen[next.id] = Math.max(next.version || 0, seen[next.id] || 0);
  session = next && next.status === "open" ? next : null;
  stats.session = next;
  stats.renders += 1;
  if (next && next.status === "completed") showDone(next);
  $("session").hidden = !session;
  $("idle").hidden = !!session || !$("done").hidden;
  if (!session) { setText("action-error", ""); updateButtons(); return; }
  $("done").hidden = true;
  if (checksFor !== session.id) {
    $("check-in-person").checked = false;
    $("check-identity").checked = false;
    setText("action-error", "");
    checksFor = session.id;
  }
  const app = session.application || {};
  $("session").dataset.status = session.status;
  setText("d-name", app.name);
  setText("d-nik", app.nik);
  setText("d-resi", app.resi_number);
  const svc = app.service;
  setText("d-service", svc && typeof svc === "object" ? (lang === "en" ? svc.name_en : svc.name_id) || svc.code : svc);
  setText("d-step", app.step_name || app.status);

  const card = session.card || {};
  const state = ["waiting", "match", "mismatch", "removed"].includes(card.state) ? card.state : "waiting";
  $("card-box").dataset.state = state;
  setText("card-state", t("activation.card." + state));
  const refusal = card.refusal ? (card.message || t("activation.card.refusal." + card.refusal)) : "";
  setText("card-refusal", state === "mismatch" ? refusal || card.message : "");
  setText("card-uid", card.uid ? t("activation.card.uid", {uid: card.uid}) : "");

  const fp = session.fingerprint || {};
  $("fp").dataset.state = fp.blocked ? "blocked" : fp.verified ? "verified" : "pending";
  setText("fp-attempts", t("activation.fp.attempts", {attempts: fp.attempts || 0, failures: fp.failures || 0,
                                                      max: fp.max_failures || 4}));
  $("fp-verified").hidden = !fp.verified;
  $("fp-blocked").hidden = !fp.blocked;
  updateButtons();
}

function showDone(done) {
  $("done").hidden = false;
  setText("done-resi", [done.application && done.application.name, done.application && done.application.resi_number]
    .filter(Boolean).join(" · "));
}

function updateButtons() {
  const open = !!session;
  const fp = (session && session.fingerprint) || {};
  const ticked = $("check-in-person").checked && $("check-identity").checked;
  $("complete").disabled = busy || !open || !session.can_complete || !ticked;
  $("fp-match").disabled = $("fp-no-match").disabled = busy || !open || !!fp.blocked || !!fp.verified;
  $("cancel").disabled = busy || !open;
  $("ref-submit").disabled = busy;
  renderDemo();
  if ($("release")) $("release").disabled = busy || !open || !fp.blocked;
}

async function refresh() {
  try {
    const state = await api("GET", `${base}?lang=${lang}`);
    stats.station = state.station || {};
    renderReader(stats.station.reader, stats.station.card);
    renderDesk(stats.station.desk);
    renderSession(state.session, {force: true});
    renderDemo();
  } catch (err) {
    setText("action-error", t("activation.error", {message: err.message}));
  }
}

/* One request at a time; `fn` gets nothing and returns the API's answer. */
async function run(fn, onError) {
  if (busy) return;
  busy = true;
  updateButtons();
  try {
    return await fn();
  } catch (err) {
    onError(err);
    if (err.status === 409 || err.code === "activation_blocked") refresh();
  } finally {
    busy = false;
    updateButtons();
  }
}

function actionError(err) {  // a block is shown by the fingerprint panel after the refresh
  setText("action-error", err.code === "activation_blocked" ? "" : refusalText(err));
}

function post(action, body) {
  return api("POST", `${base}/${action}?lang=${lang}`, body);
}

// -- actions ---------------------------------------------------------------------------
$("ref-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const ref = $("ref-input").value.trim();
  if (!ref) return;
  run(async () => {
    const answer = await post("open", {ref});
    $("ref-input").value = "";
    clearRefusal();
    $("done").hidden = true;
    renderSession(answer.session, {force: true});
  }, (err) => { $("ref-input").select(); showRefusal(err); });
});

function fingerprint(result) {
  if (!session) return;
  run(async () => {
    setText("action-error", "");
    const answer = await post("fingerprint", {result, expected_version: session.version});
    renderSession(answer.session);
  }, actionError);
}
$("fp-match").addEventListener("click", () => fingerprint("match"));
$("fp-no-match").addEventListener("click", () => fingerprint("no_match"));

["check-in-person", "check-identity"].forEach((id) => $(id).addEventListener("change", updateButtons));

$("complete").addEventListener("click", () => {
  if (!session) return;
  run(async () => {
    setText("action-error", "");
    const answer = await post("complete", {in_person: $("check-in-person").checked,
                                          identity_checked: $("check-identity").checked,
                                          expected_version: session.version});
    renderSession(answer.session, {force: true});
    $("ref-input").focus();
  }, actionError);
});

$("cancel").addEventListener("click", () => {
  if (!session) return;
  run(async () => {
    const answer = await post("cancel", {});
    renderSession(answer.session || null, {force: true});
    $("ref-input").focus();
  }, actionError);
});

if ($("release") && user.can_release) {
  $("release").addEventListener("click", () => {
    if (!session) return;
    const reason = (window.prompt(t("activation.release_prompt")) || "").trim();
    if (!reason) return;
    const appId = session.application.id;
    run(async () => {
      await api("POST", `/api/v1/applications/${appId}/activation-release?lang=${lang}`, {reason});
      setText("action-error", t("activation.released"));
      await refresh();
    }, actionError);
  });
}

// -- demo mode: the simulated card reader ---------------------------------------------
const demo = $("demo-reader");
function renderDemo() {
  if (!$("demo-reader")) return;
  const reader = (stats.station && stats.station.reader) || {};
  const plugged = reader.state !== "no_reader";
  const plug = $("demo-plug");
  plug.dataset.plugged = plugged ? "1" : "0";
  plug.textContent = t(plugged ? "activation.demo.unplug" : "activation.demo.plug");
  const bound = session && session.card && session.card.bound_uid;
  $("demo-tap-bound").disabled = !bound;
  $("demo-tap-bound").title = session && !bound ? t("activation.demo.no_bound") : "";
}

function randomUid() {  // 7 bytes, NXP manufacturer byte 04 first
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return "04" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

async function demoAction(action, uid) {
  try {
    const answer = await api("POST", "/demo/card-reader", uid ? {action, uid} : {action});
    const ev = answer.event;
    setText("demo-result", ev ? t("activation.demo.sent", {event: ev.event, uid: ev.uid ? " · " + ev.uid : ""})
      : t("activation.demo.nothing"));
    if (action === "unplug" || action === "plug") refresh();
  } catch (err) {
    setText("demo-result", t("activation.demo.error", {message: err.message}));
  }
}

if (demo) {
  $("demo-tap-bound").addEventListener("click", () => {
    const bound = session && session.card && session.card.bound_uid;
    if (bound) demoAction("tap", bound);
  });
  $("demo-tap-other").addEventListener("click", () => demoAction("tap", randomUid()));
  $("demo-lift").addEventListener("click", () => demoAction("lift"));
  $("demo-plug").addEventListener("click", () => demoAction($("demo-plug").dataset.plugged === "1" ? "unplug" : "plug"));
}

// -- realtime --------------------------------------------------------------------------
const dot = document.querySelector("[data-testid=connection-status]");
const socket = joinStation(station.id, dot, refresh);
socket.on("card", onCardEvent);
socket.on("activation", (data) => {
  if (!data || !("session" in data)) return;
  if (data.session && data.session.status === "cancelled" && session && session.id !== data.session.id) return;
  renderSession(data.session);
});
updateButtons();
