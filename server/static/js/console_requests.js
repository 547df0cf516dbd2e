/* Counter console: talking to the server, and the toast that reports the outcome.
 *
 * Every action goes through `act()`, which refuses to start while another request is in
 * flight, so a double key press or double click sends one request. An answer
 * ({counter, ticket}) is applied to the console state, then the page is drawn again.
 */
import {api, t} from "./loket.js";
import {state as S, AT_COUNTER, mine, upsertCounter} from "./console_state.js";
import {render, renderButtons} from "./console_render.js";
import {runPendingKey} from "./console_actions.js";
const $ = (id) => document.getElementById(id);

/* ---- toast -------------------------------------------------------------------------- */
let toastTimer = null;
function toast(kind, title, detail) {
  const el = $("toast");
  el.className = "toast toast-" + kind;
  $("toast-title").textContent = title;
  $("toast-detail").textContent = detail || "";
  $("toast-detail").hidden = !detail;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 8000 : 4000);
}
$("toast").addEventListener("click", () => { $("toast").hidden = true; });

const KNOWN_ERRORS = ["queue_empty", "counter_busy", "counter_not_open", "invalid_state", "not_found",
                      "validation_error", "forbidden", "unauthorized", "bad_request", "office_closed",
                      "service_unavailable"];

function toastError(err) {
  if (!err || err.status === undefined) {
    toast("error", t("console.err.network"), err && err.message);
    return;
  }
  const code = KNOWN_ERRORS.includes(err.code) ? err.code : "generic";
  toast("error", t("console.err." + code), err.message);
}

/* ---- talking to the server ---------------------------------------------------------- */
function setBusy(on) {
  S.busy = on;
  document.body.classList.toggle("is-busy", on);
  renderButtons();
  $("open-counter").disabled = on;
  if (!on && S.pendingKey) setTimeout(runPendingKey, 0);  // after the answer is applied
}

/* Run one request at a time; returns the answer, or null after showing the error.
   `quiet`: error codes the caller handles itself; returned as {failed: code}, not toasted. */
async function request(method, path, body, quiet) {
  if (S.busy) return null;
  setBusy(true);
  try {
    return await api(method, path, body);
  } catch (err) {
    if (err && quiet && quiet.includes(err.code)) return {failed: err.code};
    toastError(err);
    if (err && err.status === 401) setTimeout(() => { window.location.href = "/login?next=/console"; }, 2500);
    if (err && err.status && S.myId) refreshMine();
    return null;
  } finally {
    setBusy(false);
  }
}

/* POST /api/v1/counters/<my counter>/<action>; the answer is applied (see request()). */
async function act(action, body, quiet) {
  if (!S.myId) return null;
  const answer = await request("POST", `/api/v1/counters/${S.myId}/${action}`, body, quiet);
  if (answer && !answer.failed) {
    if ($("toast").classList.contains("toast-error")) $("toast").hidden = true;  // that error is history
    applyAnswer(answer);
  }
  return answer;
}

function applyAnswer(answer) {
  if (answer.counter) upsertCounter(answer.counter);
  const c = mine();
  if (answer.ticket && c && answer.ticket.counter_id === c.id && AT_COUNTER.has(answer.ticket.status)) {
    S.detail = answer.ticket;
    S.waiting.delete(answer.ticket.id);
  } else if (!answer.ticket) {
    S.detail = null;
  }
  render();
}

/* Fetch my counter and its current ticket (after an error, or when the detail is missing). */
let refreshing = false;
async function refreshMine() {
  if (!S.myId || refreshing) return;
  refreshing = true;
  try {
    const answer = await api("GET", `/api/v1/counters/${S.myId}`);
    applyAnswer(answer);
  } catch (err) { /* the stream will bring it */ } finally { refreshing = false; }
}

export {toast, request, act, applyAnswer, refreshMine};
