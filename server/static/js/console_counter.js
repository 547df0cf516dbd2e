/* Counter console: my counter's own state. Opening the counter chosen in the chooser
 * (Enter, the button, or a double click on its tile), pausing it with a reason (the pause
 * dialog: keys 1-4 pick a reason, "other" needs a text) or resuming it, and closing it.
 */
import {t} from "./loket.js";
import {state as S, mine} from "./console_state.js";
import {act, applyAnswer, request, toast} from "./console_requests.js";
import {render} from "./console_render.js";
import {forgetWaiting} from "./console_lists.js";
import {ask} from "./console_dialogs.js";
const $ = (id) => document.getElementById(id);

const PAUSE_REASONS = {break: "console.pause.reason.break", prayer: "console.pause.reason.prayer",
                       system: "console.pause.reason.system"};

/* ---- open --------------------------------------------------------------------------- */
async function openCounter() {
  const id = parseInt($("counter-select").value, 10);
  if (!id || S.busy) return;
  const answer = await request("POST", `/api/v1/counters/${id}/open`);
  if (!answer) return;
  S.myId = id;
  applyAnswer(answer);
  forgetWaiting();
  render();
  toast("success", t("console.msg.opened", {counter: answer.counter.label}));
  if (document.activeElement) document.activeElement.blur();
}

$("choose-form").addEventListener("submit", (e) => { e.preventDefault(); openCounter(); });

/* ---- pause / resume ------------------------------------------------------------------ */
function togglePause() {
  const c = mine();
  if (c.state === "paused") { act("resume"); return; }
  openPause();
}

function openPause() {
  const dlg = $("dlg-pause");
  const other = $("pause-other");
  dlg.querySelector("input[value=break]").checked = true;
  other.value = "";
  other.disabled = true;
  ask("dlg-pause", () => {
    const key = dlg.querySelector("input[name=reason]:checked").value;
    const reason = key === "other" ? other.value.trim() : t(PAUSE_REASONS[key]);
    if (!reason) { toast("error", t("console.pause.need_reason")); return; }
    act("pause", {reason});
  }, dlg.querySelector("input[name=reason]:checked"));
}

(function wirePauseDialog() {
  const dlg = $("dlg-pause");
  const other = $("pause-other");
  const radios = [...dlg.querySelectorAll("input[name=reason]")];
  const sync = () => {
    const isOther = dlg.querySelector("input[value=other]").checked;
    other.disabled = !isOther;
    other.required = isOther;
    if (isOther) other.focus();
  };
  radios.forEach((r) => r.addEventListener("change", sync));
  dlg.addEventListener("keydown", (e) => {
    if (e.target === other) return;
    const n = parseInt(e.key, 10);
    if (n >= 1 && n <= radios.length) { radios[n - 1].checked = true; radios[n - 1].focus(); sync(); e.preventDefault(); }
    if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); dlg.querySelector("[data-testid=pause-confirm]").click(); }
  });
})();

/* ---- close -------------------------------------------------------------------------- */
function askClose() {
  $("close-title").textContent = t("console.close.title", {counter: mine().label});
  ask("dlg-close", async () => {
    S.closing = true;
    try {
      const label = mine() ? mine().label : "";
      const answer = await act("close");
      if (answer) { S.myId = null; S.detail = null; render(); toast("success", t("console.msg.closed", {counter: label})); }
    } finally { S.closing = false; }
  });
}

export {openCounter, togglePause, askClose};
