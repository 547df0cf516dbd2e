/* Counter console: the lists. The tickets waiting for my counter's services (with counts per
 * service, reprint and cancel on each row), the other counters of the office, and the
 * counter chooser (select and tiles) shown while I have no counter open.
 */
import {h, t} from "./loket.js";
import {state as S, counterStateText, now, officerName, serviceName, serviceOf, shortName, since} from "./console_state.js";
import {openCancel} from "./console_dialogs.js";
import {openCounter} from "./console_counter.js";
import {reprint} from "./console_actions.js";
const $ = (id) => document.getElementById(id);

/* The waiting tickets of counter `c`'s services, in calling order. */
function waitingOf(c) {
  const ids = new Set(c.service_ids);
  return [...S.waiting.values()].filter((tk) => ids.has(tk.service_id))
    .sort((a, b) => (a.sort_key - b.sort_key) || (a.id - b.id));
}

let lastWaitingKey = "";
/* Drawn again only when something shown changed (or `force`); the waited minutes every 30 s. */
function renderWaiting(c, force) {
  const list = waitingOf(c);
  const minuteBucket = Math.floor(now() / 30000);
  const key = JSON.stringify([c.id, c.current && c.current.status, S.busy, minuteBucket,
                              list.map((tk) => [tk.id, tk.skip_count, tk.priority_kind, tk.waiting_since])]);
  if (key === lastWaitingKey && !force) return;
  lastWaitingKey = key;

  $("waiting-total").textContent = String(list.length);
  const counts = $("service-counts");
  counts.textContent = "";
  c.service_ids.forEach((sid) => {
    const s = S.services.get(sid);
    if (!s) return;
    const n = list.filter((tk) => tk.service_id === sid).length;
    counts.append(h("span", {class: "svc-count" + (n ? "" : " zero"), "data-service": s.code, title: serviceName(s)},
                    h("span", {class: "letter", text: s.letter}), " ", h("span", {class: "svc-name", text: shortName(s)}),
                    " ", h("strong", {text: String(n)})));
  });

  const ol = $("waiting-list");
  ol.textContent = "";
  list.forEach((tk, i) => {
    const s = serviceOf(tk);
    const waited = since(tk.waiting_since);
    const mins = waited === null ? null : Math.floor(waited / 60000);
    const waitClass = mins >= 60 ? "wait-long" : mins >= 30 ? "wait-mid" : "";
    ol.append(h("li", {class: "wait-row", dataset: {ticketId: tk.id, number: tk.number}},
      h("span", {class: "pos", text: String(i + 1)}),
      h("span", {class: "num", text: tk.number}),
      h("span", {class: "letter", title: serviceName(s), text: s ? s.letter : "?"}),
      h("span", {class: "tags"},
        tk.priority_kind ? h("span", {class: "badge badge-priority", "data-testid": "priority-badge",
                                      title: t("console.priority." + tk.priority_kind),
                                      text: t("console.priority_short." + tk.priority_kind)}) : null,
        tk.skip_count > 0 ? h("span", {class: "badge badge-skipped", "data-testid": "skipped-mark",
                                       text: t("console.waiting.skipped", {n: tk.skip_count})}) : null),
      h("span", {class: "wait " + waitClass, text: mins === null ? "" : (mins < 1 ? t("console.waiting.just_now") : t("console.waiting.minutes", {n: mins}))}),
      h("span", {class: "row-actions"},
        h("button", {type: "button", class: "btn btn-quiet btn-small", "data-testid": "row-reprint", disabled: S.busy,
                     title: t("console.reprint_title", {number: tk.number}), text: t("console.reprint_short"),
                     onclick: () => reprint(tk)}),
        h("button", {type: "button", class: "btn btn-quiet btn-small btn-danger-text", "data-testid": "row-cancel", disabled: S.busy,
                     title: t("console.cancel.title", {number: tk.number}), text: t("console.cancel.button"),
                     onclick: () => openCancel(tk)}))));
  });
  $("waiting-empty").hidden = list.length > 0;
}

/* The next renderWaiting() draws the list whatever it showed before. */
function forgetWaiting() { lastWaitingKey = ""; }

function renderOthers(c) {
  const ul = $("others-list");
  ul.textContent = "";
  [...S.counters.values()].filter((o) => o.id !== c.id).sort((a, b) => a.number - b.number).forEach((o) => {
    const letters = o.service_ids.map((sid) => (S.services.get(sid) || {}).letter).filter(Boolean).join(" ");
    ul.append(h("li", {class: "other state-" + o.state, dataset: {counterId: o.id, state: o.state}},
      h("span", {class: "o-label", text: o.label}),
      h("span", {class: "o-letters", text: letters}),
      h("span", {class: "state-chip state-" + o.state, text: counterStateText(o)}),
      h("span", {class: "o-current", text: o.current ? o.current.number : ""}),
      h("span", {class: "o-officer", text: o.state !== "closed" ? officerName(o.officer_id) : ""})));
  });
}

function renderChoose() {
  const select = $("counter-select");
  const chosen = select.value;
  select.textContent = "";
  const tiles = $("choose-tiles");
  tiles.textContent = "";
  let firstFree = null;
  [...S.counters.values()].sort((a, b) => a.number - b.number).forEach((c) => {
    const held = c.state !== "closed" && c.officer_id !== null && c.officer_id !== S.me.id;
    const letters = c.service_ids.map((sid) => (S.services.get(sid) || {}).letter).filter(Boolean).join(", ");
    const names = c.service_ids.map((sid) => shortName(S.services.get(sid))).filter(Boolean).join(", ");
    let text = `${c.label} · ${letters}`;
    if (held) text += ` (${counterStateText(c)}: ${officerName(c.officer_id) || t("console.choose.held")})`;
    select.append(h("option", {value: c.id, disabled: held, text}));
    if (!held && firstFree === null) firstFree = String(c.id);
    tiles.append(h("button", {type: "button", class: "tile state-" + c.state + (held ? " held" : ""),
                              disabled: held, "data-counter-id": c.id, title: names,
                              onclick: () => { select.value = String(c.id); markTile(); },
                              ondblclick: () => { select.value = String(c.id); openCounter(); }},
      h("span", {class: "tile-label", text: c.label}),
      h("span", {class: "tile-services", text: names}),
      h("span", {class: "tile-state"}, h("span", {class: "state-chip state-" + c.state, text: counterStateText(c)}),
        held ? " " + officerName(c.officer_id) : "")));
  });
  const keep = [...select.options].find((o) => o.value === chosen && !o.disabled);
  select.value = keep ? chosen : (firstFree || "");
  markTile();
}

function markTile() {
  const v = $("counter-select").value;
  document.querySelectorAll("#choose-tiles .tile").forEach((b) => b.classList.toggle("selected", b.dataset.counterId === v));
}
$("counter-select").addEventListener("change", markTile);

export {waitingOf, renderWaiting, forgetWaiting, renderOthers, renderChoose};
