/* Counter console: the queue and ticket actions behind the buttons of #actions, reprint,
 * and the keyboard shortcuts.
 *
 * Keyboard: F1/N call next, F2 finish & call next, R recall, S start, F finish, X skip,
 * T transfer, C call a number, P pause/resume, Q close. A key works only when its button
 * is enabled; keys are ignored while typing in a shown field or while a dialog is open
 * (a closed dialog's input that kept the focus does not count: isTyping, console_dialogs.js).
 */
import {t} from "./loket.js";
import {state as S, mine} from "./console_state.js";
import {act, request, toast} from "./console_requests.js";
import {ask, isTyping, openTransfer} from "./console_dialogs.js";
import {askClose, openCounter, togglePause} from "./console_counter.js";
const $ = (id) => document.getElementById(id);

const KEYS = {F1: "call-next", n: "call-next", F2: "finish-next", r: "recall", s: "start", f: "finish",
              x: "skip", t: "transfer", c: "call-number", p: "pause", q: "close"};

async function reprint(tk) {
  const answer = await request("POST", `/api/v1/tickets/${tk.id}/reprint`, {});
  if (answer) toast("success", t("console.msg.reprinted", {number: tk.number}));
}
$("current-reprint").addEventListener("click", () => { if (S.detail) reprint(S.detail); });

const ACTIONS = {
  "call-next": () => act("call-next"),
  "finish-next": async () => {
    // The server finishes the current ticket and calls the next one; with nobody
    // waiting the finish stands and the answer has no ticket: say so.
    const number = mine().current.number;
    const answer = await act("call-next", {finish_current: true});
    if (answer && !answer.failed && !answer.ticket) {
      toast("info", t("console.msg.finished", {number}), t("console.err.queue_empty"));
    }
  },
  "recall": async () => {
    const c = mine();
    const number = c && c.current ? c.current.number : "";
    if (await act("recall")) toast("success", t("console.msg.recalled", {number}));
  },
  "start": () => act("start"),
  "finish": async () => {
    const number = mine().current.number;
    if (await act("finish")) toast("success", t("console.msg.finished", {number}));
  },
  "skip": () => {
    $("skip-title").textContent = t("console.skip.title", {number: mine().current.number});
    ask("dlg-skip", async () => {
      const number = mine() && mine().current ? mine().current.number : "";
      if (await act("skip")) toast("success", t("console.msg.skipped", {number}));
    });
  },
  "transfer": () => openTransfer(),
  "call-number": () => {
    const input = $("call-number-input");
    input.value = "";
    ask("dlg-call", () => {
      const number = input.value.trim().toUpperCase();
      if (number) act("call", {number});
    }, input);
  },
  "pause": () => togglePause(),
  "close": () => askClose(),
};

document.querySelectorAll("#actions [data-action]").forEach((b) => {
  b.addEventListener("click", () => {
    if (b.disabled || S.busy) return;
    b.blur();
    S.inflight = b.dataset.action;
    ACTIONS[b.dataset.action]();
  });
});

/* ---- keyboard --------------------------------------------------------------------- */
document.addEventListener("keydown", (e) => {
  if (e.ctrlKey || e.altKey || e.metaKey) return;
  if (document.querySelector("dialog[open]")) return;
  const tag = e.target && e.target.tagName;
  if (isTyping(e.target) && !(tag === "SELECT" && e.key === "Enter")) return;
  if (!mine()) {
    if (e.key === "Enter" && tag === "SELECT") { e.preventDefault(); openCounter(); }
    return;
  }
  const action = KEYS[e.key] || KEYS[e.key.toLowerCase()];
  if (!action) return;
  e.preventDefault();                 // F1 would open the browser's help
  if (e.repeat) return;               // a held key
  if (S.busy) {
    // The same key again while its request is in flight is a double press: dropped.
    // Another key (S right after N) waits for the answer, then runs if still possible.
    if (action !== S.inflight) S.pendingKey = action;
    return;
  }
  pressKey(action);
});

function pressKey(action) {
  const button = document.querySelector(`#actions [data-action="${action}"]`);
  if (button && !button.disabled) button.click();
}

/* The key pressed while a request was in flight, once its answer is applied. */
function runPendingKey() {
  const action = S.pendingKey;
  S.pendingKey = null;
  if (action && !S.busy && !document.querySelector("dialog[open]")) pressKey(action);
}

export {reprint, runPendingKey};
