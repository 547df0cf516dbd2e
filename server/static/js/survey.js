/* IKM satisfaction survey (PermenPANRB 14/2017): the phone link and the counter tablet.
 *
 * Link (/s/<token>): the form posts to /api/v1/survey/link/<token>; the answer decides the
 * screen (thanks, already answered, not served yet, invalid link).
 *
 * Tablet (/survey/<office>?token=<survey device token>): asks GET /api/v1/survey/tablet which
 * ticket to survey (finished last at its counters, not answered) and shows the form, or the
 * idle "thank you" screen. It follows the office's public stream: a `ticket` message with
 * status "done" at one of its counters (number and counter only, no personal data) makes
 * it ask again. After sending: "thank you" for THANKS_MS, then idle. A form left untouched
 * for IDLE_MS is dismissed (the citizen has gone).
 */
import {api, LoketStream, scriptReady, t} from "./loket.js";

const app = document.getElementById("survey-app");
const form = document.getElementById("survey-form");
const errorBox = document.getElementById("survey-error");
const submitBtn = form.querySelector("[data-testid=survey-submit]");
const comment = form.querySelector("textarea[name=comment]");
const ELEMENTS = Array.from(form.querySelectorAll("fieldset[data-element]")).map((f) => f.dataset.element);
const MODE = app.dataset.mode;
const THANKS_MS = 8000;
const IDLE_MS = 180000;

let ticketId = null;          // tablet: the ticket the form is for
let sending = false;
let thanksUntil = 0;
let idleTimer = null;
const dismissed = new Set();

function screen(name) { app.dataset.screen = name; window.scrollTo(0, 0); }

function showError(text) {
  errorBox.hidden = !text;
  errorBox.textContent = text || "";
}

function resetForm() {
  form.reset();
  form.querySelectorAll(".is-missing").forEach((f) => f.classList.remove("is-missing"));
  showError("");
  updateLeft();
}

function updateLeft() {
  document.getElementById("comment-left").textContent = t("survey.comment_left", {n: 500 - comment.value.length});
}

function collect() {
  const answers = {};
  const missing = [];
  ELEMENTS.forEach((key) => {
    const picked = form.querySelector(`input[name="${key}"]:checked`);
    const field = form.querySelector(`fieldset[data-element="${key}"]`);
    field.classList.toggle("is-missing", !picked);
    if (picked) answers[key] = Number(picked.value); else missing.push(key);
  });
  return {answers, missing};
}

async function send(event) {
  event.preventDefault();
  if (sending) return;
  const {answers, missing} = collect();
  if (missing.length) {
    showError(t("survey.missing", {codes: missing.map((k) => k.toUpperCase()).join(", ")}));
    const first = form.querySelector(`fieldset[data-element="${missing[0]}"]`);
    if (first && first.scrollIntoView) first.scrollIntoView({block: "center"});
    return;
  }
  sending = true;
  submitBtn.disabled = true;
  submitBtn.textContent = t("survey.sending");
  const payload = {answers, comment: comment.value.trim() || null};
  try {
    if (MODE === "link") {
      await api("POST", "/api/v1/survey/link/" + encodeURIComponent(app.dataset.linkToken), payload);
    } else {
      await api("POST", "/api/v1/survey/tablet", Object.assign({ticket_id: ticketId}, payload), {token: TOKEN});
    }
    done("thanks");
  } catch (err) {
    const code = err && err.code;
    if (code === "survey_already_answered") done("already");
    else if (code === "survey_not_served") done("not_served");
    else if (code === "survey_link_invalid") done("invalid");
    else if (code === "survey_expired" || code === "survey_wrong_counter") { dismissed.add(ticketId); done("idle"); }
    else showError(t("survey.error", {message: (err && err.message) || "?"}));
  } finally {
    sending = false;
    submitBtn.disabled = false;
    submitBtn.textContent = t("survey.submit");
  }
}

function done(name) {
  if (MODE === "link") { screen(name); return; }
  if (ticketId !== null) dismissed.add(ticketId);
  ticketId = null;
  clearTimeout(idleTimer);
  resetForm();
  screen(name === "idle" ? "idle" : "thanks");
  thanksUntil = Date.now() + THANKS_MS;
  setTimeout(() => { if (!ticketId) screen("idle"); refresh(); }, THANKS_MS);
}

form.addEventListener("submit", send);
comment.addEventListener("input", updateLeft);
form.addEventListener("change", (event) => {
  const field = event.target.closest("fieldset");
  if (field) field.classList.remove("is-missing");
  showError("");
  armIdle();
});

/* ---------- tablet (not on the link page) ---------- */
const TOKEN = new URLSearchParams(location.search).get("token") || "";
let counters = [];

function armIdle() {
  clearTimeout(idleTimer);
  if (ticketId !== null) idleTimer = setTimeout(() => { dismissed.add(ticketId); ticketId = null; resetForm(); screen("idle"); }, IDLE_MS);
}

function tabletError(text) {
  const box = document.getElementById("tablet-error");
  box.hidden = !text;
  box.textContent = text || "";
}

function show(ticket) {
  if (!ticket || dismissed.has(ticket.id)) {
    if (ticketId !== null && !sending) { ticketId = null; resetForm(); }
    if (Date.now() >= thanksUntil) screen("idle");
    return;
  }
  if (ticket.id === ticketId) return;          // already on screen
  resetForm();
  ticketId = ticket.id;
  const line = document.getElementById("survey-ticket");
  line.textContent = t("survey.your_ticket", {number: ticket.number, service: ticket.service}) +
    (ticket.counter_label ? " · " + ticket.counter_label : "");
  line.dataset.ticketId = String(ticket.id);
  screen("form");
  armIdle();
}

async function refresh() {
  if (MODE === "link") return;   // the link page has no tablet to refresh
  if (!TOKEN) { tabletError(t("survey.bad_token")); return; }
  try {
    const state = await api("GET", "/api/v1/survey/tablet", undefined, {token: TOKEN});
    tabletError("");
    counters = state.counters.map((c) => c.number);
    if (state.office && !document.getElementById("office-name").textContent.trim()) {
      document.getElementById("office-name").textContent = state.office.name;
    }
    if (!sending) show(state.ticket);
  } catch (err) {
    tabletError(err && (err.status === 401 || err.status === 403) ? t("survey.bad_token") : t("survey.offline"));
  }
}

function onEvent(name, data) {
  const tk = data && data.ticket;
  if (name === "ticket" && tk && tk.status === "done" && counters.includes(tk.counter_number)) refresh();
}

if (MODE !== "link") {
  app.dataset.tabletReady = "0";
  new LoketStream({
    auth: {token: TOKEN},
    onState: () => { refresh().then(() => { app.dataset.tabletReady = "1"; }); },
    onEvent,
    onStatus: (online) => { app.dataset.online = online ? "1" : "0"; },
  }).start();
}
scriptReady();  // the survey form's handler is attached
