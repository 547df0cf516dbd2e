/* Counter intake (permohonan): the officer registers an application for the ticket called
 * or served at the counter. Reads the console's state (console_state.js) and posts to
 * /api/v1/counters/<id>/application; 201 shows the resi, 422 requirements_missing the
 * list of what is missing (printable), nothing registered. Key A opens the form.
 * Imported by the console's entry module (console.js).
 */
import {LANG, api, h, t} from "./loket.js";
import {state as S} from "./console_state.js";
import {isTyping} from "./console_dialogs.js";

const $ = (id) => document.getElementById(id);
const dlg = $("dlg-intake"), form = $("intake-form"), button = $("btn-intake");
const AT_COUNTER = new Set(["called", "serving"]);
let ctx = null;      // {counter, ticket, service} of the open form
let app = null;      // the registered application (201 answer)
let busy = false;
let printJob = null; // job id of the last resi print asked for

/* The counter, its ticket and the ticket's service when an application can be opened. */
function current() {
  if (!S.synced || !S.myId) return null;
  const counter = S.counters.get(S.myId);
  const ticket = counter && counter.current;
  if (!ticket || !AT_COUNTER.has(ticket.status)) return null;
  // The counter's `current` is short ({id, number, status}); the console's `detail` is the full ticket.
  const detail = S.detail && S.detail.id === ticket.id ? S.detail : null;
  const service = detail ? S.services.get(detail.service_id) : null;
  if (!service || service.kind !== "application") return null;
  return {counter, ticket: Object.assign({}, ticket, {number: ticket.number || detail.number}), service};
}

function refreshButton() { button.disabled = busy || !current(); }

function caseLabel(when) {
  const key = "intake.case." + when;
  const text = t(key);
  return text === key ? when : text;
}

function show(part) {
  form.hidden = part !== "form";
  $("intake-missing").hidden = part !== "missing";
  $("intake-done").hidden = part !== "done";
  dlg.classList.toggle("intake-printing-missing", part === "missing");
}

function error(text) {
  $("intake-error").textContent = text || "";
  $("intake-error").hidden = !text;
}

function checkedCases() {
  return [...$("intake-cases").querySelectorAll("input:checked")].map((i) => i.value);
}

function syncConditional() {
  const cases = new Set(checkedCases());
  $("intake-reqs").querySelectorAll("li").forEach((li) => {
    const when = li.dataset.when;
    const applies = !when || cases.has(when);
    li.classList.toggle("not-applicable", !applies);
    li.querySelector("input").disabled = !applies;
  });
}

function open() {
  ctx = current();
  if (!ctx) return;
  app = null;
  form.reset();
  error("");
  const reqs = ctx.service.requirements || [];
  $("intake-title").textContent = t("intake.title", {number: ctx.ticket.number}) + " · "
    + (LANG === "en" ? ctx.service.name_en : ctx.service.name_id);
  const whens = [...new Set(reqs.map((r) => r.when).filter(Boolean))];
  $("intake-cases").replaceChildren(...whens.map((w) => h("label", {class: "intake-case"},
    h("input", {type: "checkbox", value: w, "data-testid": "intake-case-" + w}), " ", caseLabel(w))));
  $("intake-cases-box").hidden = !whens.length;
  $("intake-reqs").replaceChildren(...reqs.map((r, i) => h("li", {"data-when": r.when || null},
    h("label", {},
      h("input", {type: "checkbox", value: String(i), "data-testid": "intake-req-" + i}),
      h("span", {}, LANG === "en" ? (r.en || r.id) : r.id,
        r.when ? h("small", {class: "muted"}, " (" + t("intake.only_if", {case: caseLabel(r.when)}) + ")") : "")))));
  $("intake-cases").onchange = syncConditional;
  syncConditional();
  show("form");
  if (!dlg.open) dlg.showModal();
  $("intake-nik").focus();
}

function close() {
  if (dlg.open) dlg.close();
  ctx = null;
}

async function submit(e) {
  e.preventDefault();
  if (busy || !ctx) return;
  const nik = $("intake-nik").value.replace(/[\s.\-]/g, "");
  if (!/^[0-9]{16}$/.test(nik)) { error(t("intake.nik_invalid")); $("intake-nik").focus(); return; }
  const body = {
    nik, name: $("intake-name").value.trim(), phone: $("intake-phone").value.trim() || null,
    email: $("intake-email").value.trim() || null, case: checkedCases(),
    confirmed: [...$("intake-reqs").querySelectorAll("input:checked:not(:disabled)")].map((i) => parseInt(i.value, 10)),
  };
  busy = true; refreshButton();
  $("intake-submit").disabled = true;
  error("");
  try {
    const answer = await api("POST", `/api/v1/counters/${ctx.counter.id}/application`, body);
    app = answer.application;
    $("intake-resi").textContent = answer.resi.number;
    $("intake-due").textContent = new Date(answer.resi.due_date + "T00:00:00").toLocaleDateString(
      LANG === "en" ? "en-GB" : "id-ID", {weekday: "long", day: "numeric", month: "long", year: "numeric"});
    $("intake-url").textContent = answer.resi.status_url;
    $("intake-url").href = answer.resi.status_url;
    $("intake-note").textContent = "";
    show("done");
  } catch (err) {
    if (err.code === "requirements_missing") {
      const missing = (err.data && err.data.missing) || [];
      $("intake-missing-list").replaceChildren(...missing.map((m) => h("li", {}, LANG === "en" ? m.en : m.id)));
      $("intake-missing-who").textContent = [ctx.ticket.number, body.name].filter(Boolean).join(" · ");
      show("missing");
    } else {
      error(err.message);
    }
  } finally {
    busy = false; refreshButton();
    $("intake-submit").disabled = false;
  }
}

async function printResi() {
  if (!app || busy) return;
  busy = true;
  $("intake-print").disabled = true;
  try {
    const answer = await api("POST", `/api/v1/applications/${app.id}/print-resi`, {});
    printJob = answer.job_id;
    $("intake-note").textContent = t("intake.printed", {device: answer.device || answer.device_id});
    $("intake-note").classList.remove("is-error");
  } catch (err) {
    $("intake-note").textContent = err.message;
    $("intake-note").classList.add("is-error");
  } finally {
    busy = false;
    $("intake-print").disabled = false;
  }
}

/* The printer agent's answer (staff stream `resi_print`, relayed by the console). */
function onPrintResult(event) {
  const r = event.detail || {};
  if (!app || r.application_id !== app.id || r.job_id !== printJob) return;
  $("intake-note").textContent = r.ok ? t("intake.print_done", {device: r.device})
    : t("intake.print_failed", {device: r.device, error: r.error || ""});
  $("intake-note").classList.toggle("is-error", !r.ok);
}

document.addEventListener("loket:resi_print", onPrintResult);
button.addEventListener("click", open);
form.addEventListener("submit", submit);
dlg.querySelectorAll("[data-intake-close]").forEach((b) => b.addEventListener("click", close));
$("intake-back").addEventListener("click", () => show("form"));
$("intake-print-missing").addEventListener("click", () => window.print());
$("intake-print").addEventListener("click", printResi);
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey || e.repeat) return;
  if (document.querySelector("dialog[open]")) return;
  if (isTyping(e.target)) return;  // a shown field (not a closed dialog's)
  if (e.key === "a" || e.key === "A") {
    e.preventDefault();
    if (!button.disabled) open();
  }
});
setInterval(refreshButton, 300);
refreshButton();

export {open, current};
