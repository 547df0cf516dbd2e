/* Worklist (/worklist) and kartu kendali (/applications/<id>) pages.
 *
 * Both read the REST API. They follow the office's staff stream (LoketStream, audience
 * "counter" like the console): an "application" message (a file moved on its chain) or a
 * resync reloads the data, debounced by RELOAD_DEBOUNCE_MS; polling every REFRESH_MS is
 * only a fallback. The worklist acts with the version it showed (expected_version): a 409
 * version_conflict means another officer acted first, so the list reloads.
 *
 * The entry module of both pages; the kartu kendali's card box is card_bind.js.
 * window.LoketWorklist is a handle for the browser tests; no module reads it.
 */
import {api, h, LANG, LoketStream, pageData, STAFF, t} from "./loket.js";
import {render as renderCardBind} from "./card_bind.js";

const CFG = pageData();   // the page's data block (worklist.html, application.html)
const LOCALE = LANG === "en" ? "en-GB" : "id-ID";
const REFRESH_MS = 60000;          // fallback polling; the staff stream brings changes
const RELOAD_DEBOUNCE_MS = 300;
const $ = (id) => document.getElementById(id);


const nameOf = (o) => (o ? (LANG === "en" ? (o.name_en || o.name_id) : (o.name_id || o.name_en)) : "");
const mins = (n) => (n === null || n === undefined ? "–"
  : t("worklist.minutes", {n: n > 0 && n < 1 ? "< 1" : Math.round(n)}));
const roleName = (r) => (r ? t("staff.role." + r) : "");
function when(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toLocaleString(LOCALE, {day: "2-digit", month: "short", hour: "2-digit", minute: "2-digit"});
}
function day(isoDate) {
  return isoDate ? new Date(isoDate + "T00:00:00").toLocaleDateString(LOCALE, {day: "numeric", month: "short", year: "numeric"}) : "–";
}
function statusText(s) {
  const key = "resi.status." + s;
  const text = t(key);
  return text === key ? s : text;
}

function message(text, kind, link) {
  const el = $("wl-message");
  el.textContent = text || "";
  if (text && link) el.append(" ", h("a", {href: link.href, "data-testid": "wl-message-link"}, link.text));
  el.hidden = !text;
  el.className = "wl-message" + (kind ? " is-" + kind : "");
}

function stamp() {
  $("wl-refreshed").textContent = t("worklist.refreshed", {
    time: new Date().toLocaleTimeString(LOCALE, {hour: "2-digit", minute: "2-digit", second: "2-digit"})});
}

/* ---- worklist --------------------------------------------------------------------- */
let items = [];
let busy = false;
let returning = null;

function mayAct(item) {
  if (!item.step || item.waits_for_citizen) return false;
  return CFG.user.role === "admin" || item.step.staff_role === CFG.user.role;
}

function needsShelf(item) {
  return item.step && CFG.before_handover[item.service.code] === item.step.code;
}

function row(item) {
  const late = item.late;
  const waiting = h("td", {class: "wl-wait" + (late ? " is-late" : ""), "data-testid": "wl-waiting"},
    h("strong", {}, mins(item.waiting_minutes)), " / ", mins(item.standard_minutes),
    late ? h("span", {class: "wl-badge wl-badge-late"}, t("worklist.late")) : "");
  const due = h("td", {class: item.overdue_working_days > 0 ? "is-late" : ""}, day(item.due_date),
    item.overdue_working_days > 0 ? h("div", {class: "wl-overdue"}, t("worklist.overdue", {n: item.overdue_working_days})) : "");
  const actions = h("td", {class: "wl-actions"});
  if (item.waits_for_citizen) actions.append(h("span", {class: "muted"}, t("worklist.ready")));
  if (mayAct(item)) {
    let shelf = null;
    if (needsShelf(item)) {
      shelf = h("input", {type: "text", class: "wl-shelf", maxlength: "60", placeholder: t("worklist.shelf_placeholder"),
                          "aria-label": t("worklist.shelf"), "data-testid": "wl-shelf", title: t("worklist.shelf")});
      actions.append(shelf);
    }
    const ok = h("button", {type: "button", class: "btn btn-primary btn-small", "data-testid": "wl-approve"}, t("worklist.approve"));
    ok.addEventListener("click", () => approve(item, shelf));
    const back = h("button", {type: "button", class: "btn btn-small", "data-testid": "wl-return"}, t("worklist.return"));
    back.addEventListener("click", () => openReturn(item));
    actions.append(ok, back);
  }
  actions.append(h("a", {class: "wl-link", href: `/applications/${item.id}`, "data-testid": "wl-detail"}, t("worklist.detail")));
  return h("tr", {"data-testid": "wl-row", "data-resi": item.resi_number, "data-id": String(item.id), class: late ? "is-late-row" : ""},
    h("td", {class: "wl-resi"}, item.resi_number, h("div", {class: "muted small"}, statusText(item.status))),
    h("td", {}, h("span", {class: "wl-letter"}, item.service.letter), " ", nameOf(item.service)),
    h("td", {}, item.applicant_name),
    h("td", {}, nameOf(item.step), item.step ? h("div", {class: "muted small"}, roleName(item.step.staff_role)) : ""),
    waiting, due, actions);
}

function renderWorklist() {
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#wl-body");
  if (focused) return;  // do not pull a shelf field from under the officer's fingers
  $("wl-body").replaceChildren(...items.map(row));
  $("wl-empty").hidden = items.length > 0;
}

async function loadWorklist() {
  if (busy) return;
  const role = $("wl-role").value;
  const q = role ? `?role=${encodeURIComponent(role)}` : "";
  try {
    const data = await api("GET", `/api/v1/offices/${encodeURIComponent(CFG.office.code)}/worklist${q}`);
    items = data.applications;
    renderWorklist();
    stamp();
  } catch (err) {
    message(err.message, "error");
  }
}

async function act(item, action, body, done) {
  if (busy) return false;
  busy = true;
  try {
    await api("POST", `/api/v1/applications/${item.id}/${action}`, Object.assign({expected_version: item.version}, body));
    message(done, "ok");
    return true;
  } catch (err) {
    // No card bound at a KTP-el's print step: the kartu kendali is where it is bound.
    const link = err.code === "card_not_bound" ? {href: `/applications/${item.id}`, text: t("worklist.cardbind.go")} : null;
    message(err.code === "version_conflict" ? t("worklist.conflict") : err.message, "error", link);
    return err.code === "version_conflict";
  } finally {
    busy = false;
    if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
    loadWorklist();
  }
}

function approve(item, shelf) {
  const body = {};
  if (shelf && shelf.value.trim()) body.shelf_location = shelf.value.trim();
  act(item, "approve", body, t("worklist.approved", {resi: item.resi_number}));
}

function openReturn(item) {
  returning = item;
  $("return-title").textContent = t("worklist.return_title", {resi: item.resi_number});
  $("return-reason").value = "";
  $("return-error").hidden = true;
  $("dlg-return").showModal();
  $("return-reason").focus();
}

async function submitReturn(e) {
  e.preventDefault();
  const reason = $("return-reason").value.trim();
  if (!reason) {
    $("return-error").textContent = t("worklist.reason_required");
    $("return-error").hidden = false;
    return;
  }
  const item = returning;
  $("dlg-return").close();
  if (item) await act(item, "return", {reason}, t("worklist.returned", {resi: item.resi_number}));
}

/* ---- kartu kendali ---------------------------------------------------------------- */
function remark(step) {
  const parts = [];
  if (step.state === "current") parts.push(h("span", {class: "wl-badge wl-badge-now"}, t("worklist.card.state.current")));
  else if (step.state === "pending") parts.push(h("span", {class: "muted"}, t("worklist.card.state.pending")));
  if (step.minutes !== null && step.minutes !== undefined) {
    parts.push(step.late ? h("span", {class: "wl-badge wl-badge-late"}, t("worklist.card.late"))
                         : h("span", {class: "wl-ok"}, t("worklist.card.ok")));
  }
  const stays = (step.visits || []).length + (step.state === "current" && step.visits && step.visits.length ? 1 : 0);
  if (stays > 1) parts.push(h("span", {class: "wl-visits"}, t("worklist.card.visits", {n: stays})));
  (step.visits || []).filter((v) => v.reason).forEach((v) =>
    parts.push(h("div", {class: "wl-reason"}, t("worklist.card.returned", {reason: v.reason}))));
  return parts;
}

function renderCard(data) {
  const a = data.application, card = data.control_card, app = card.application;
  document.title = `${t("worklist.card.title")} · ${app.resi_number}`;
  $("card-resi").textContent = `${app.resi_number} · ${LANG === "en" ? app.service_name_en : app.service_name_id}`;
  const overdue = card.overdue_working_days > 0;
  const facts = [
    [t("worklist.col.applicant"), a.applicant_name], [t("worklist.card.status"), statusText(app.status)],
    [t("worklist.card.submitted"), when(app.submitted_at)], [t("worklist.card.due"), day(card.due_date)],
  ];
  if (overdue) facts.push([t("worklist.card.overdue"), t("worklist.card.days", {n: card.overdue_working_days})]);
  if (app.shelf_location) facts.push([t("worklist.card.shelf"), app.shelf_location]);
  $("card-facts").replaceChildren(...facts.flatMap(([k, v], i) =>
    [h("dt", {}, k), h("dd", {class: overdue && i === facts.length - 1 && k === t("worklist.card.overdue") ? "is-late" : ""}, v)]));
  const byCode = Object.fromEntries(card.steps.map((s) => [s.code, s]));
  $("card-delays").replaceChildren(h("strong", {}, t("worklist.card.delays") + ": "),
    card.delays.length ? card.delays.map((d, i) => h("span", {class: "wl-delay"}, (i ? ", " : ""),
      nameOf(byCode[d.code]) + " +" + mins(d.minutes_over))) : h("span", {class: "wl-ok"}, t("worklist.card.no_delay")));
  $("card-delays").classList.toggle("has-delays", card.delays.length > 0);
  $("card-body").replaceChildren(...card.steps.map((s) => h("tr", {
    "data-testid": "card-row", "data-step": s.code,
    class: ["is-" + s.state, s.late ? "is-late-row" : ""].join(" ").trim()},
    h("td", {class: "num"}, String(s.index + 1)), h("td", {}, nameOf(s)),
    h("td", {}, s.role === "citizen" ? t("worklist.card.citizen") : roleName(s.staff_role)),
    h("td", {class: "num"}, mins(s.standard_minutes)), h("td", {class: "nowrap"}, when(s.entered_at)), h("td", {class: "nowrap"}, s.state === "current" ? "–" : when(s.left_at)),
    h("td", {class: "num" + (s.late ? " is-late" : ""), "data-testid": "card-minutes"}, mins(s.minutes)),
    h("td", {}, remark(s)))));
}

async function loadCard() {
  try {
    const data = await api("GET", `/api/v1/applications/${CFG.application_id}`);
    renderCard(data);
    renderNotices(data.notices || []);
    renderCardBind(data, loadCard, CFG.user);
    message("");
    stamp();
  } catch (err) {
    message(err.message, "error");
  }
}

/* ---- notices to the applicant (kartu kendali) --------------------------------------- */
function noticeText(prefix, value) {
  const key = prefix + value;
  const text = t(key);
  return text === key ? value : text;
}

function renderNotices(notices) {
  $("notice-table").hidden = notices.length === 0;
  $("notice-none").hidden = notices.length > 0;
  $("notice-body").replaceChildren(...notices.map((n) => h("tr", {"data-testid": "notice-row", "data-status": n.status},
    h("td", {}, noticeText("worklist.card.notice.kind.", n.kind)), h("td", {}, n.channel_label),
    h("td", {class: "nowrap", "data-testid": "notice-to"}, n.recipient_masked),
    h("td", {}, h("span", {class: "notice-status is-" + n.status, "data-testid": "notice-status"},
      noticeText("worklist.card.notice.status.", n.status))),
    h("td", {class: "num"}, String(n.attempts)), h("td", {class: "nowrap"}, when(n.next_attempt_at)),
    h("td", {class: "notice-error"}, n.last_error || "–"), h("td", {class: "nowrap"}, when(n.created_at)),
    h("td", {class: "nowrap"}, when(n.sent_at)))));
}

/* ---- live updates: the office's staff stream ------------------------------------------ */
let reloadTimer = null;
function follow(officeId, reload) {
  const later = () => { clearTimeout(reloadTimer); reloadTimer = setTimeout(reload, RELOAD_DEBOUNCE_MS); };
  if (!officeId || !window.io) return null;   // socket.io's global (base.html)
  let first = true;  // the page loads its data itself; later full states (reconnect, gap) reload
  return new LoketStream({
    namespace: STAFF,
    auth: {office_id: officeId},
    onState: () => { if (!first) later(); first = false; },
    onEvent: (name) => { if (name === "application") later(); },
  }).start();
}

/* ---- start ------------------------------------------------------------------------ */
if (CFG.page === "worklist") {
  if (CFG.role) $("wl-role").value = CFG.role;
  $("wl-role").addEventListener("change", loadWorklist);
  $("return-form").addEventListener("submit", submitReturn);
  $("return-cancel").addEventListener("click", () => $("dlg-return").close());
  loadWorklist();
  setInterval(loadWorklist, REFRESH_MS);
  const stream = follow(CFG.office.id, loadWorklist);
  window.LoketWorklist = {reload: loadWorklist, items: () => items, stream};
} else {
  loadCard();
  setInterval(loadCard, REFRESH_MS);
  const stream = follow(CFG.office_id, loadCard);
  window.LoketWorklist = {reload: loadCard, stream};
}
