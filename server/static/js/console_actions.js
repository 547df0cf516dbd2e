/* Counter console: the queue and ticket actions behind the buttons of #actions, reprint,
 * and the keyboard shortcuts.
 *
 * Keyboard: F1/N call next, F2 finish & call next, R recall, S start, F finish, X skip,
 * T transfer, C call a number, P pause/resume, Q close. A key works only when its button
 * is enabled; keys are ignored while typing in a shown field or while a dialog is open
 * (a closed dialog's input that kept the focus does not count: LoketConsole.isTyping).
 */
(function () {
  "use strict";

  const C = window.LoketConsole;
  const S = C.state;
  const t = Loket.t;
  const $ = (id) => document.getElementById(id);

  const KEYS = {F1: "call-next", n: "call-next", F2: "finish-next", r: "recall", s: "start", f: "finish",
                x: "skip", t: "transfer", c: "call-number", p: "pause", q: "close"};

  async function reprint(tk) {
    const answer = await C.request("POST", `/api/v1/tickets/${tk.id}/reprint`, {});
    if (answer) C.toast("success", t("console.msg.reprinted", {number: tk.number}));
  }
  $("current-reprint").addEventListener("click", () => { if (S.detail) reprint(S.detail); });

  const ACTIONS = {
    "call-next": () => C.act("call-next"),
    "finish-next": async () => {
      // The server finishes the current ticket and calls the next one; with nobody
      // waiting the finish stands and the answer has no ticket: say so.
      const number = C.mine().current.number;
      const answer = await C.act("call-next", {finish_current: true});
      if (answer && !answer.failed && !answer.ticket) {
        C.toast("info", t("console.msg.finished", {number}), t("console.err.queue_empty"));
      }
    },
    "recall": async () => {
      const c = C.mine();
      const number = c && c.current ? c.current.number : "";
      if (await C.act("recall")) C.toast("success", t("console.msg.recalled", {number}));
    },
    "start": () => C.act("start"),
    "finish": async () => {
      const number = C.mine().current.number;
      if (await C.act("finish")) C.toast("success", t("console.msg.finished", {number}));
    },
    "skip": () => {
      $("skip-title").textContent = t("console.skip.title", {number: C.mine().current.number});
      C.ask("dlg-skip", async () => {
        const number = C.mine() && C.mine().current ? C.mine().current.number : "";
        if (await C.act("skip")) C.toast("success", t("console.msg.skipped", {number}));
      });
    },
    "transfer": () => C.openTransfer(),
    "call-number": () => {
      const input = $("call-number-input");
      input.value = "";
      C.ask("dlg-call", () => {
        const number = input.value.trim().toUpperCase();
        if (number) C.act("call", {number});
      }, input);
    },
    "pause": () => C.togglePause(),
    "close": () => C.askClose(),
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
    if (C.isTyping(e.target) && !(tag === "SELECT" && e.key === "Enter")) return;
    if (!C.mine()) {
      if (e.key === "Enter" && tag === "SELECT") { e.preventDefault(); C.openCounter(); }
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

  Object.assign(C, {reprint, runPendingKey});
})();
