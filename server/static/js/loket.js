/* Loket browser client: the office stream, and small helpers.
 *
 * LoketStream connects to Socket.IO over the websocket transport only (several server
 * workers share one port without sticky sessions) and feeds everything it hears to a
 * StreamCursor (stream_logic.js, the same machine as the Python agents' drivers/stream):
 * on connect and reconnect it asks `sync` with its last position and gets the messages it
 * missed (or the full state the first time, or when they are gone); live messages are
 * applied strictly in position order, each once; a missing one is asked for after a short
 * grace. onState(state) replaces everything shown; onEvent(name, data) applies one message.
 *
 *   const stream = new LoketStream({auth: {token}, onState: s => ..., onEvent: (name, data) => ...,
 *                                   onStatus: online => ...});
 *   stream.start();
 *
 * Namespaces (server/realtime/handlers.py): screens (TV, kiosk, ticket page, survey tablet)
 * connect to "/" with a device token or a ticket id; staff pages connect to STAFF ("/staff")
 * with their session cookie: new LoketStream({namespace: STAFF, auth: {office_id}, ...}).
 *
 * The module pattern of the pages' JavaScript (server/static/js, kiosk/static,
 * display/static): every file is an ES module that `export`s what it provides and
 * `import`s what it uses (`import {api, t} from "./loket.js"`); a page loads one entry
 * module, <script type="module" nonce="{{ csp_nonce() }}" src="...">, and no module reads
 * another's globals. What the server hands a page is JSON in data blocks, not globals:
 * base.html's <script type="application/json" id="loket-i18n"> (catalog and language, read
 * here) and a page's <script type="application/json" id="loket-data"> (pageData()).
 * The vendor libraries are UMD files loaded as classic scripts before the module
 * (socket.io in base.html, Chart.js on the dashboard): their globals are read only when
 * used, through io() here and window.Chart in dashboard.js. A page may set one window
 * handle (window.LoketConsole, window.LOKET_PICKUP, ...) for the browser tests and
 * support; no module reads it.
 */
import {StreamCursor} from "./stream_logic.js";

// The office stream arrives as "entries": [{name, data}, ...] in position order (a commit's
// entries in one frame). Names: ticket, call, counter, device, resync; on the staff stream
// also application and resi_print (worklist, kartu kendali; the console relays every
// entry as a DOM event "loket:<name>", e.g. to the intake dialog).
const TICK_MS = 100;
const RETRY_MS = 2000;
const SYNC_TIMEOUT_MS = 10000;
export const STAFF = "/staff";   // the staff pages' Socket.IO namespace (screens use "/")

export class LoketStream {
  constructor(opts) {
    this.opts = Object.assign({url: "", namespace: "/", auth: {}, syncArgs: {}, graceMs: 300,
                               onState() {}, onEvent() {}, onStatus() {}}, opts);
    this.cursor = new StreamCursor(this.opts.graceMs);
    this.socket = null;
    this.connection = 0;      // answers of an older connection are ignored
  }

  /* for tests and the status badge */
  get position() { return this.cursor.position; }
  get resyncs() { return this.cursor.syncs; }

  start() {
    const s = io((this.opts.url || "") + this.opts.namespace, {transports: ["websocket"], auth: this.opts.auth,
                                 reconnectionDelay: 500, reconnectionDelayMax: 5000});
    this.socket = s;
    s.on("connect", () => {
      this.connection += 1;
      this.opts.onStatus(true);
      this.run(this.cursor.connect(Date.now()));
    });
    s.on("disconnect", () => { this.cursor.disconnect(); this.opts.onStatus(false); });
    s.on("connect_error", (err) => { this.opts.onStatus(false, err && err.message); });
    s.on("entries", (entries) => {
      (Array.isArray(entries) ? entries : []).forEach((e) => {
        if (e && typeof e === "object") this.run(this.cursor.event(String(e.name), e.data, Date.now()));
      });
    });
    setInterval(() => this.run(this.cursor.tick(Date.now())), TICK_MS);
    return this;
  }

  run(actions) {
    for (const action of actions) {
      if (action[0] === "sync") this.sync(action[1]);
      else if (action[0] === "state") this.opts.onState(action[1]);
      else if (action[0] === "event") this.opts.onEvent(action[1], action[2]);
      else if (action[0] === "retry") setTimeout(() => this.run(this.cursor.retry(Date.now())), RETRY_MS);
    }
  }

  sync(args) {
    const connection = this.connection;
    if (!this.socket || !this.socket.connected) { this.cursor.disconnect(); return; }
    this.socket.timeout(SYNC_TIMEOUT_MS).emit("sync", Object.assign({}, this.opts.syncArgs, args), (err, answer) => {
      if (connection !== this.connection) return;  // asked on a connection that has dropped since
      this.run(this.cursor.answer(err ? {error: String(err)} : answer, Date.now()));
    });
  }
}

/* A form that only the page's module can send has its submit button rendered disabled with
   data-needs-script: a tap before the module has attached its handler would send the form
   natively (a reload with the typed fields, a NIK among them, in the URL). The page's
   entry module calls scriptReady() once its handlers are attached. */
export function scriptReady() {
  document.querySelectorAll("[data-needs-script]").forEach((el) => {
    el.removeAttribute("data-needs-script");
    el.disabled = false;
  });
}

/* JSON API helper: sends the CSRF token (staff pages) or the device token (kiosk, TV), and
   the page's language, so that the API's messages come in the language the page shows
   (server/api_errors.api_language: ?lang=, the loket_lang cookie, then Accept-Language). */
export async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = {"Accept": "application/json", "Accept-Language": LANG};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.token) headers["Authorization"] = "Bearer " + opts.token;
  const csrf = document.querySelector('meta[name="csrf-token"]');
  if (csrf && !opts.token) headers["X-CSRFToken"] = csrf.content;
  const res = await fetch(path, {method, headers, credentials: "same-origin",
                                 body: body === undefined ? undefined : JSON.stringify(body)});
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    const err = new Error((data && data.message) || res.statusText);
    err.status = res.status; err.code = data && data.error; err.data = data;
    throw err;
  }
  return data;
}

/* The JSON of the page's data block <script type="application/json" id="`id`">, or
   `fallback` when the page has none. */
export function pageData(id = "loket-data", fallback = null) {
  const el = document.getElementById(id);
  return el ? JSON.parse(el.textContent) : fallback;
}

const I18N = pageData("loket-i18n", {catalog: {}, lang: "id"});
/* The page's language ("id" or "en"). */
export const LANG = I18N.lang || "id";

/* Text of `key` in the page's language (the catalog of base.html's loket-i18n block),
   `{name}` filled from params. */
export function t(key, params) {
  const cat = I18N.catalog || {};
  let text = cat[key] || key;
  Object.entries(params || {}).forEach(([k, v]) => { text = text.split("{" + k + "}").join(String(v)); });
  return text;
}

/* Does the page's catalog have a text for `key`? */
export function hasText(key) {
  return Object.prototype.hasOwnProperty.call(I18N.catalog || {}, key);
}

/* Build an element: h("li", {class: "row", text: "A001", onclick: fn, dataset: {id: 1}},
   ...children). Attributes that are null, undefined or false are left out, and so are
   such children; strings and numbers become text. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => {
    if (v === null || v === undefined || v === false) return;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  });
  children.flat().forEach((c) => { if (c !== null && c !== undefined && c !== false) el.append(c); });
  return el;
}

/* "± N menit" from seconds (null → "-"), rounded up to whole minutes. */
export function minutes(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  return Math.max(1, Math.ceil(seconds / 60));
}

/* socket.io-client's io() (server/static/vendor/socket.io-*.min.js, a UMD file that base.html
   loads as a classic script before the page's module, so its global is there when a
   module runs). */
export function io(...args) {
  return window.io(...args);
}

/* A staff station page's socket: connects to "/staff" (websocket, reconnecting), joins the room of
   station `deviceId` on every (re)connect, shows the state on `dot` (class "online") and
   on body[data-joined]; `onJoined()` runs after each join (e.g. to reload the state).
   Returns the socket for the page's own event handlers. */
export function joinStation(deviceId, dot, onJoined) {
  const socket = io(STAFF, {transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 5000});
  socket.on("connect", () => {
    socket.emit("join_station", {device_id: deviceId}, (answer) => {
      const ok = !!(answer && answer.ok);
      dot.classList.toggle("online", ok);
      document.body.dataset.joined = ok ? "1" : "0";
      if (onJoined) onJoined(ok);
    });
  });
  socket.on("disconnect", () => { dot.classList.remove("online"); document.body.dataset.joined = "0"; });
  return socket;
}

/* A button marked data-print prints the page (the reports' "Cetak"): pages carry no
   inline event handlers, which the Content-Security-Policy refuses (server/headers.py). */
document.addEventListener("click", (event) => {
  const target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
  if (target) window.print();
});
