/* Public resi status page (/r/<payload>) and look-up form (/r/).
 *
 * The server renders the first paint (and the refusal page for a forged or foreign QR).
 * This script keeps the status fresh from the public API, GET /api/v1/resi/<payload>
 * (every 60 s while the page is visible; a file moves a few times a day at most), and runs
 * the look-up form without a page load: GET /api/v1/resi/<number>?check=<birth date>.
 * The answer holds no personal data beyond the masked name (see server/api/applications.py).
 */
import {api, LANG, t} from "./loket.js";

const $ = (id) => document.getElementById(id);
const app = $("resi-app");
if (app && app.dataset.mode !== "refused") start();   // a refusal page has nothing to refresh

function start() {
  const REFRESH_MS = 60000;
  const NOTES = {registered: "resi.progress_hint", in_progress: "resi.progress_hint", returned: "resi.returned_hint",
                 collected: "resi.collected_hint", cancelled: "resi.cancelled_hint"};

  let source = app.dataset.payload ? {ref: app.dataset.payload, check: null} : null;
  let status = null;

  function longDate(iso) {
    const parts = String(iso || "").split("-");
    if (parts.length !== 3) return iso || "";
    const months = t("resi.months").split(",");
    return Number(parts[2]) + " " + (months[Number(parts[1]) - 1] || parts[1]) + " " + parts[0];
  }

  function pick(obj, base) {
    if (!obj) return "";
    return (LANG === "en" && obj[base + "_en"]) || obj[base + "_id"] || "";
  }

  function render() {
    if (!status) return;
    const st = status;
    app.dataset.status = st.status;
    $("status-card").hidden = false;
    $("rows").hidden = false;
    $("resi-number").textContent = st.resi_number;
    $("service-name").textContent = pick(st.service, "name");
    $("masked-name").textContent = st.name || "";
    $("status-text").textContent = t("resi.status." + st.status);
    $("ready-box").hidden = !st.ready;
    $("step-name").textContent = st.step ? pick(st.step, "name") : t("resi.done_step");
    $("due-date").textContent = longDate(st.due_date);
    if (st.office && st.office.name) $("office-name").textContent = st.office.name;
    const note = $("note");
    const key = NOTES[st.status];
    note.hidden = !key;
    note.textContent = key ? t(key) : "";
    note.dataset.kind = st.status;
    const time = new Date().toLocaleTimeString(LANG === "en" ? "en-GB" : "id-ID", {hour: "2-digit", minute: "2-digit", hour12: false});
    $("updated").textContent = t("resi.updated", {time});
    document.title = st.resi_number + " · " + t("resi.status." + st.status) + " · " + t("resi.title");
  }

  function url(src) {
    let path = "/api/v1/resi/" + encodeURIComponent(src.ref);
    if (src.check) path += "?check=" + encodeURIComponent(src.check);
    return path;
  }

  async function refresh() {
    if (!source) return;
    try {
      status = await api("GET", url(source));
      render();
    } catch (err) { /* keep the last status; the next refresh tries again */ }
  }

  /* ---------- look-up form ---------- */
  const form = $("lookup-form");
  function showError(key) {
    const box = $("lookup-error");
    box.hidden = !key;
    box.textContent = key ? t("resi.lookup." + key) : "";
  }

  function errorKey(err) {
    if (!err || !err.status) return "error";
    if (err.status === 429) return "too_many";
    if (err.status === 404) return "not_found";
    const field = err.data && err.data.details && err.data.details.field;
    if (err.status === 422 && field === "check") return "bad_check";
    if (err.status === 422 || err.status === 400) return "bad_number";
    return "error";
  }

  if (form) {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const number = $("number").value.trim();
      const check = $("check").value.trim();
      if (!number) { showError("bad_number"); return; }
      if (!check) { showError("bad_check"); return; }
      const src = {ref: number, check};
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        status = await api("GET", url(src));
        source = src;           // kept in memory only: the birth date never goes into the address bar
        showError(null);
        render();
      } catch (err) {
        showError(errorKey(err));
      } finally {
        button.disabled = false;
      }
    });
  }

  /* ---------- first paint and refresh ---------- */
  const initial = $("resi-initial");
  if (initial) {
    try { status = JSON.parse(initial.textContent); } catch (e) { status = null; }
  }
  setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
  window.LoketResi = {refresh, get status() { return status; }};
}
