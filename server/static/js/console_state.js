/* Counter console (konsol loket): the page's copy of the office state, lookups on it, and
 * the upserts that keep it current. The console's modules (the entry console.js imports
 * them; each imports from the others what it uses):
 *   console_state.js     state, lookups, upserts (this file)
 *   console_requests.js  talking to the server: one request at a time; toasts
 *   console_render.js    the bar, the current ticket, the action buttons, the clock
 *   console_lists.js     the waiting list, the other counters, the counter chooser
 *   console_dialogs.js   ask(): a dialog's "ok"; the transfer and cancel dialogs
 *   console_counter.js   my counter: open, pause / resume, close
 *   console_actions.js   the action buttons and the keyboard shortcuts
 *   console_stream.js    the staff stream (full state, deltas, connection); start()
 * intake.js reads `state`; tests wait on window.LoketConsole.state.synced / .online (console.js).
 *
 * The server is authoritative: the page keeps a copy of the office state from the staff
 * stream (LoketStream: full `sync` state, then `ticket` / `call` / `counter` deltas, which
 * are idempotent upserts) and from the answers of its own actions ({counter, ticket}).
 */
import {LANG, pageData, t} from "./loket.js";
import {refreshMine, toast} from "./console_requests.js";

const CFG = pageData();   // the console's data block (server/templates/console.html)

const AT_COUNTER = new Set(["called", "serving"]);

/* ---- state ------------------------------------------------------------------------ */
const S = {
  me: CFG.user,
  staff: CFG.staff || {},
  services: new Map(),   // id -> service (public shape; name_id / name_en)
  counters: new Map(),   // id -> counter (public shape)
  waiting: new Map(),    // id -> ticket (waiting, today)
  myId: null,            // the counter this officer works at
  detail: null,          // full ticket of my counter's current number (service, times)
  busy: false,
  inflight: null,        // the action of the last button pressed
  pendingKey: null,      // a different key pressed while a request was in flight
  online: false,
  clockOffset: 0,        // server time - browser time (ms)
  synced: false,
  closing: false,        // I am closing my counter: losing it is no news
};

// First paint from the page data, before the stream's full state arrives.
const codeToId = {};
CFG.services.forEach((s) => {
  codeToId[s.code] = s.id;
  S.services.set(s.id, {id: s.id, code: s.code, letter: s.letter, name_id: s.name, name_en: s.name});
});
CFG.counters.forEach((c) => {
  S.counters.set(c.id, {id: c.id, number: c.number, label: c.label, state: c.state, pause_reason: null,
                        officer_id: c.officer_id, service_ids: c.services.map((code) => codeToId[code]).filter(Boolean),
                        current: null});
});
S.myId = findMyCounter();

/* ---- small helpers ---------------------------------------------------------------- */
function now() { return Date.now() + S.clockOffset; }

function serviceName(s) {
  if (!s) return "";
  return (LANG === "en" ? s.name_en : s.name_id) || s.name_id || s.code;
}

/* "KTP-el (Kartu Tanda Penduduk Elektronik)" -> "KTP-el": for chips and tiles. */
function shortName(s) {
  return serviceName(s).split(" (")[0];
}

function serviceOf(ticket) {
  return ticket ? S.services.get(ticket.service_id) : null;
}

function mmss(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours ? `${hours}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

function since(iso) { return iso ? now() - Date.parse(iso) : null; }

function findMyCounter() {
  for (const c of S.counters.values()) {
    if (c.officer_id === S.me.id && c.state !== "closed") return c.id;
  }
  return null;
}

function mine() { return S.myId ? S.counters.get(S.myId) : null; }

function counterStateText(c) {
  if (c.state === "paused") return t("console.state.paused") + (c.pause_reason ? ": " + c.pause_reason : "");
  return t("console.state." + c.state);
}

function officerName(id) {
  if (id === null || id === undefined) return "";
  if (id === S.me.id) return S.me.name;
  return S.staff[String(id)] || "";
}

/* ---- state updates (stream and answers) -------------------------------------------- */
function upsertCounter(c) {
  const before = S.counters.get(c.id);
  S.counters.set(c.id, c);
  if (c.id === S.myId) {
    const lost = c.state === "closed" || (c.officer_id !== null && c.officer_id !== S.me.id);
    if (lost) {
      S.myId = null;
      S.detail = null;
      if (before && before.state !== "closed" && !S.closing) {
        toast("info", t("console.msg.counter_lost", {counter: c.label}));
      }
    } else if (!c.current) {
      S.detail = null;
    } else if (!S.detail || S.detail.id !== c.current.id) {
      refreshMine();
    }
  }
}

function upsertTicket(tk) {
  if (tk.status === "waiting") S.waiting.set(tk.id, tk);
  else S.waiting.delete(tk.id);
  if (S.detail && S.detail.id === tk.id) {
    S.detail = AT_COUNTER.has(tk.status) ? Object.assign({}, S.detail, tk) : null;
  } else if (S.myId && tk.counter_id === S.myId && AT_COUNTER.has(tk.status)) {
    S.detail = tk;
  }
}

export {S as state, AT_COUNTER, now, serviceName, shortName, serviceOf, mmss, since, findMyCounter, mine, counterStateText, officerName, upsertCounter, upsertTicket};
