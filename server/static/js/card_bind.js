/* The "Kartu KTP-el" box of the kartu kendali (issue 5, binding the card when it is printed).
 *
 * worklist.js calls render(data, reload) (exported) with each GET /api/v1/applications/<id>
 * answer. A KTP-el answer carries "card" (the bound card or null) and "card_readers" (the
 * office's card reader stations). At the print step the printing operator picks the reader,
 * taps the newly printed card on it and presses "Daftarkan kartu": the server reads the
 * card lying on that reader at that moment (409 no_card when there is none). The page does
 * not follow the reader's live events (front-office users may not join activation stations).
 * Demo mode only (#card-bind-demo rendered): "Tempel kartu baru (simulasi)" POSTs a tap of a
 * random new UID to /demo/card-reader, the demo server's simulated reader (the demo's one
 * reader station), so "Daftarkan kartu" finds a card there.
 */
import {api, h, LANG, t} from "./loket.js";

const LOCALE = LANG === "en" ? "en-GB" : "id-ID";
const $ = (id) => document.getElementById(id);
let current = null;   // {id, version}
let reloadFn = null;
let busy = false;

function when(iso) {
  return iso ? new Date(iso).toLocaleString(LOCALE, {day: "2-digit", month: "short", year: "numeric",
                                                     hour: "2-digit", minute: "2-digit"}) : "–";
}

function error(text) {
  $("card-bind-error").textContent = text || "";
  $("card-bind-error").hidden = !text;
}

function mayBind(a, user) {
  return user && (user.role === "admin" || (a.step && a.step.staff_role === user.role));
}

function renderBound(card) {
  const el = $("card-bound");
  el.dataset.bound = card ? "1" : "0";
  if (!card) {
    el.replaceChildren(h("strong", {}, t("worklist.cardbind.unbound")));
    return;
  }
  el.replaceChildren(
    h("span", {}, t("worklist.cardbind.uid") + " "), h("code", {"data-testid": "card-uid"}, card.uid),
    h("span", {class: "muted"}, " · " + t("worklist.cardbind.reader_was", {reader: card.reader || "–"})
            + " · " + t("worklist.cardbind.bound_at", {time: when(card.bound_at)})),
    card.activated_at ? h("span", {class: "wl-ok"}, " · " + t("worklist.cardbind.activated",
                                                                    {time: when(card.activated_at)})) : null);
}

function renderReaders(readers) {
  const select = $("card-reader");
  const keep = select.value;
  select.replaceChildren(...readers.map((r) => h("option", {value: String(r.id)}, r.name)));
  if (keep && readers.some((r) => String(r.id) === keep)) select.value = keep;  // default: the first
  $("card-bind-none").hidden = readers.length > 0;
  $("card-bind-button").disabled = readers.length === 0;
}

function render(data, reload, user) {
  reloadFn = reload;
  const box = $("card-bind");
  if (!box) return;
  const a = data.application;
  const atPrint = !!(a.step && a.step.code === "print");
  if (!("card_readers" in data) || (!atPrint && !data.card)) {
    box.hidden = true;
    return;
  }
  current = {id: a.id, version: a.version};
  box.hidden = false;
  renderBound(data.card);
  const form = atPrint && mayBind(a, user);
  $("card-bind-form").hidden = !form;
  if (form) renderReaders(data.card_readers || []);
}

async function bind() {
  if (busy || !current) return;
  busy = true;
  error("");
  $("card-bind-done").hidden = true;
  $("card-bind-button").disabled = true;
  try {
    await api("POST", `/api/v1/applications/${current.id}/card`,
                    {device_id: Number($("card-reader").value), expected_version: current.version});
    $("card-bind-done").hidden = false;
  } catch (err) {
    error(err.message);
    $("card-bind-error").dataset.code = err.code || "";
  } finally {
    busy = false;
    $("card-bind-button").disabled = false;
    if (reloadFn) reloadFn();
  }
}

async function demoTap() {  // demo mode: a new card (7-byte UID, 04 first) on the simulated reader
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  const uid = "04" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  const out = $("card-demo-result");
  try {
    const answer = await api("POST", "/demo/card-reader", {action: "tap", uid});
    out.textContent = answer.event ? t("worklist.cardbind.demo_tapped", {uid: answer.event.uid, reader: answer.event.reader})
      : t("worklist.cardbind.demo_error", {message: answer.reader && answer.reader.detail});
  } catch (err) {
    out.textContent = t("worklist.cardbind.demo_error", {message: err.message});
  }
}

if ($("card-bind-button")) $("card-bind-button").addEventListener("click", bind);
if ($("card-demo-tap")) $("card-demo-tap").addEventListener("click", demoTap);
export {render};
