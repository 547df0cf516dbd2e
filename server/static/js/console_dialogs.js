/* Counter console: the dialogs (native <dialog>: Esc cancels, Enter confirms). ask() shows
 * one and runs its "ok"; here too the transfer dialog (another service, front or back of its
 * queue) and the cancel dialog of a waiting ticket (a reason is required). The pause dialog
 * is with the counter (console_counter.js); skip, call-a-number and close are asked in
 * console_actions.js and console_counter.js.
 */
import {h, t} from "./loket.js";
import {state as S, mine, serviceName, upsertTicket} from "./console_state.js";
import {act, request, toast} from "./console_requests.js";
import {render} from "./console_render.js";
const $ = (id) => document.getElementById(id);

document.querySelectorAll("dialog [data-dismiss]").forEach((b) => {
  b.addEventListener("click", () => b.closest("dialog").close("cancel"));
});

/* Is the officer typing in `el`? Only in a field that is shown: a closed dialog's input
   can keep the focus (see below) and must not swallow the shortcuts. */
function isTyping(el) {
  if (!el || !el.isConnected) return false;
  const tag = el.tagName;
  if (tag !== "INPUT" && tag !== "TEXTAREA" && tag !== "SELECT") return false;
  return el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0;
}

/* When any dialog of the page closes (Esc, its buttons, or after its request; intake's
   too), the focus must not stay inside it. Chromium returns the focus to the element that
   had it when the dialog opened only if that element is still in the page; the row button
   that opened the cancel dialog has been redrawn by then, so after "cancel from a row, C,
   Esc" the hidden call-number input kept the focus and P was ignored. Then: blur it (the
   shortcuts listen on the document). `close` does not bubble: listen while capturing. */
document.addEventListener("close", (e) => {
  const dlg = e.target;
  if (!(dlg instanceof HTMLDialogElement) || dlg.open) return;
  const active = document.activeElement;
  if (active && dlg.contains(active)) active.blur();
}, true);

/* Show a dialog; on "ok" run `onOk`. `focus`: the element to focus first. */
function ask(id, onOk, focus) {
  const dlg = $(id);
  if (dlg.open) return;
  dlg.returnValue = "";
  dlg.onclose = () => {
    // The close event is queued: after Esc and a quick reopen, the previous opening's
    // close arrives while the dialog is open again. It is not ours: keep waiting.
    if (dlg.open) return;
    dlg.onclose = null;
    if (dlg.returnValue === "ok") onOk();
  };
  dlg.showModal();
  if (focus) focus.focus();
}

function openTransfer() {
  const c = mine();
  const d = S.detail;
  const select = $("transfer-service");
  select.textContent = "";
  [...S.services.values()].filter((s) => !d || s.id !== d.service_id).forEach((s) => {
    select.append(h("option", {value: s.code, text: `${s.letter} · ${serviceName(s)}`}));
  });
  $("dlg-transfer").querySelector("input[value=front]").checked = true;
  $("transfer-title").textContent = t("console.transfer.title", {number: c.current.number});
  ask("dlg-transfer", async () => {
    const service = select.value;
    const position = $("dlg-transfer").querySelector("input[name=position]:checked").value;
    const number = c.current ? c.current.number : "";
    const svc = [...S.services.values()].find((s) => s.code === service);
    if (await act("transfer", {service, position})) {
      toast("success", t("console.msg.transferred", {number, service: serviceName(svc),
                                                        position: t("console.transfer.short_" + position)}));
    }
  }, select);
}
$("dlg-transfer").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && e.target.tagName !== "BUTTON") { e.preventDefault(); $("dlg-transfer").querySelector("[data-testid=transfer-confirm]").click(); }
});

function openCancel(tk) {
  $("cancel-title").textContent = t("console.cancel.title", {number: tk.number});
  const input = $("cancel-reason");
  input.value = "";
  ask("dlg-cancel", async () => {
    const reason = input.value.trim();
    if (!reason) { toast("error", t("console.cancel.need_reason")); return; }
    const answer = await request("POST", `/api/v1/tickets/${tk.id}/cancel`, {reason});
    if (answer) {
      upsertTicket(answer);
      render();
      toast("success", t("console.msg.cancelled", {number: tk.number}));
    }
  }, input);
}

export {ask, isTyping, openTransfer, openCancel};
