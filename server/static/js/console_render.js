/* Counter console: drawing the page from the console state (console_state.js). render() shows the counter
 * chooser or the working view; here the bar, the current ticket card (number, service,
 * flags, timers, the hint what to do next), the action buttons and the clock. The lists
 * (waiting tickets, other counters, the chooser) are drawn by console_lists.js.
 */
import {h, t} from "./loket.js";
import {state as S, counterStateText, mine, mmss, now, serviceName, serviceOf, since} from "./console_state.js";
import {renderChoose, renderOthers, renderWaiting, waitingOf} from "./console_lists.js";
const $ = (id) => document.getElementById(id);

function render() {
  const c = mine();
  $("choose-view").hidden = !!c;
  $("work-view").hidden = !c;
  // The toast lives in the open view, over empty space: never over a button or the list.
  const toastEl = $("toast");
  if (c && toastEl.parentNode !== $("current-card")) $("current-card").append(toastEl);
  if (!c && toastEl.previousElementSibling !== $("choose-form")) $("choose-form").after(toastEl);
  renderBar(c);
  if (c) {
    renderCurrent(c);
    renderButtons();
    renderWaiting(c);
    renderOthers(c);
  } else {
    renderChoose();
  }
}

function renderBar(c) {
  const el = $("bar-counter");
  el.hidden = !c;
  if (!c) return;
  el.textContent = "";
  el.append(h("strong", {text: c.label}), " ",
            h("span", {class: "state-chip state-" + c.state, text: counterStateText(c)}));
  document.title = `${c.label} · ${t("console.title")}`;
}

function renderCurrent(c) {
  const cur = c.current;
  const status = cur ? cur.status : "none";
  const card = $("current-card");
  card.dataset.state = status;
  $("current-number").textContent = cur ? cur.number : "—";
  $("current-status").textContent = t("console.current.status." + status);
  $("current-status").className = "status-badge status-" + status;
  const d = S.detail && cur && S.detail.id === cur.id ? S.detail : null;
  const svc = d ? serviceOf(d) : null;
  $("current-service").textContent = cur ? (svc ? `${svc.letter} · ${serviceName(svc)}` : "") : t("console.current.none");
  const flags = $("current-flags");
  flags.textContent = "";
  if (d && d.priority_kind) flags.append(h("span", {class: "badge badge-priority", text: t("console.priority." + d.priority_kind)}));
  if (d && d.skip_count > 0) flags.append(h("span", {class: "badge badge-skipped", text: t("console.waiting.skipped", {n: d.skip_count})}));
  $("current-reprint").hidden = !d;
  renderHint(c);
  renderTimes();
  const banner = $("paused-banner");
  banner.hidden = c.state !== "paused";
  if (c.state === "paused") banner.textContent = t("console.paused_banner", {reason: c.pause_reason || "-"});
}

/* What to do next, when the counter is idle: a calm line with the key to press. */
function renderHint(c) {
  const el = $("current-hint");
  el.textContent = "";
  if (c.current) return;
  const waiting = waitingOf(c).length;
  let key, text;
  if (c.state === "paused") { key = ["P"]; text = t("console.hint.paused"); }
  else if (waiting) { key = ["F1", "N"]; text = t("console.hint.call", {n: waiting}); }
  else { text = t("console.hint.empty"); }
  (key || []).forEach((k) => el.append(h("kbd", {text: k}), " "));
  el.append(text);
}

function renderTimes() {
  const c = mine();
  const el = $("current-times");
  const d = S.detail;
  if (!c || !c.current || !d || d.id !== c.current.id) { el.textContent = ""; return; }
  el.textContent = "";
  if (d.called_at) el.append(h("div", {text: t("console.current.called_ago", {time: mmss(since(d.called_at))})}));
  if (c.current.status === "serving" && d.started_at) {
    el.append(h("div", {text: t("console.current.serving_for", {time: mmss(since(d.started_at))})}));
  }
}

/* Which actions are possible now (the server checks again). */
function allowed(c) {
  if (!S.synced) return {};
  const cur = c && c.current ? c.current.status : null;
  const open = c && c.state === "open", paused = c && c.state === "paused";
  return {
    "call-next": open && !cur,
    "finish-next": open && cur === "serving",
    "call-number": open && !cur,
    "recall": open && cur === "called",
    "start": cur === "called",
    "skip": cur === "called",
    "finish": cur === "called" || cur === "serving",
    "transfer": cur === "called" || cur === "serving",
    "pause": (open && !cur) || paused,
    "close": !cur,
  };
}

function renderButtons() {
  const c = mine();
  const ok = allowed(c);
  document.querySelectorAll("#actions [data-action]").forEach((b) => {
    b.disabled = S.busy || !ok[b.dataset.action];
  });
  const paused = c && c.state === "paused";
  $("pause-label").textContent = t(paused ? "console.act.resume" : "console.act.pause");
  document.querySelector("[data-action=pause]").classList.toggle("act-primary", !!paused);
  $("current-reprint").disabled = S.busy;
}

function renderClock() {
  const d = new Date(now());
  $("bar-clock").textContent = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

export {render, renderTimes, renderButtons, renderClock};
