/* Loket browser client: the office stream with sequence numbers, and small helpers.
 *
 * LoketStream connects to Socket.IO over the websocket transport only (several server
 * workers share one port without sticky sessions), asks for the full state ("sync") on
 * connect and reconnect, then applies deltas in order. Every delta carries `seq` and
 * `epoch`; a delta or heartbeat showing a number other than last+1, or another epoch (the
 * numbering started over: Redis or the server restarted), means something was lost, so
 * the stream asks for the full state again. Deltas that arrive
 * while a sync is in flight are buffered and replayed after it.
 *
 *   const stream = new LoketStream({auth: {token}, onState: s => ..., onEvent: (name, data) => ...,
 *                                   onStatus: online => ...});
 *   stream.start();
 */
(function (global) {
  "use strict";

  // "application" and "resi_print" are on the staff stream only (worklist, kartu kendali;
  // the console relays them as DOM events "loket:<name>", e.g. to the intake dialog).
  const DELTAS = ["ticket", "call", "counter", "device", "application", "resi_print"];

  class LoketStream {
    constructor(opts) {
      this.opts = Object.assign({url: undefined, auth: {}, syncArgs: {}, onState() {}, onEvent() {}, onStatus() {}}, opts);
      this.lastSeq = null;      // null until the first full state
      this.epoch = null;
      this.syncing = false;
      this.buffer = [];
      this.resyncs = 0;         // exposed for tests and the status badge
      this.socket = null;
    }

    start() {
      const s = io(this.opts.url, {transports: ["websocket"], auth: this.opts.auth,
                                   reconnectionDelay: 500, reconnectionDelayMax: 5000});
      this.socket = s;
      s.on("connect", () => { this.opts.onStatus(true); this.sync("connect"); });
      s.on("disconnect", () => { this.opts.onStatus(false); this.lastSeq = null; });
      s.on("connect_error", (err) => { this.opts.onStatus(false, err && err.message); });
      DELTAS.forEach((name) => s.on(name, (data) => this.delta(name, data)));
      s.on("resync", () => this.sync("server"));
      s.on("heartbeat", (data) => {
        if (this.lastSeq !== null && !this.syncing && (data.seq !== this.lastSeq || data.epoch !== this.epoch)) {
          this.sync("heartbeat");
        }
      });
      return this;
    }

    delta(name, data) {
      if (this.syncing || this.lastSeq === null) { this.buffer.push([name, data]); return; }
      if (data.epoch !== this.epoch) { this.buffer.push([name, data]); this.sync("epoch"); return; }
      if (data.seq <= this.lastSeq) return;            // already in the state
      if (data.seq !== this.lastSeq + 1) { this.buffer.push([name, data]); this.sync("gap"); return; }
      this.lastSeq = data.seq;
      this.opts.onEvent(name, data);
    }

    sync(reason) {
      if (this.syncing || !this.socket || !this.socket.connected) return;
      this.syncing = true;
      this.resyncs += 1;
      this.socket.timeout(10000).emit("sync", this.opts.syncArgs, (err, answer) => {
        this.syncing = false;
        if (err || !answer || answer.error || answer.seq < 0) {
          setTimeout(() => this.sync("retry"), 2000);
          return;
        }
        this.lastSeq = answer.seq;
        this.epoch = answer.epoch;
        this.opts.onState(answer.state, reason);
        const pending = this.buffer.filter((e) => e[1].epoch === this.epoch).sort((a, b) => a[1].seq - b[1].seq);
        this.buffer = [];
        pending.forEach(([name, data]) => this.delta(name, data));
      });
    }
  }

  /* JSON API helper: sends the CSRF token (staff pages) or the device token (kiosk, TV). */
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = {"Accept": "application/json"};
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

  /* Text of `key` in the page's language (window.LOKET_I18N), `{name}` filled from params. */
  function t(key, params) {
    const cat = global.LOKET_I18N || {};
    let text = cat[key] || key;
    Object.entries(params || {}).forEach(([k, v]) => { text = text.split("{" + k + "}").join(String(v)); });
    return text;
  }

  /* Build an element: h("li", {class: "row", text: "A001", onclick: fn, dataset: {id: 1}},
     ...children). Attributes that are null, undefined or false are left out, and so are
     such children; strings and numbers become text. */
  function h(tag, attrs, ...children) {
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
  function minutes(seconds) {
    if (seconds === null || seconds === undefined) return "-";
    return Math.max(1, Math.ceil(seconds / 60));
  }

  /* A staff station page's socket: connects (websocket, reconnecting), joins the room of
     station `deviceId` on every (re)connect, shows the state on `dot` (class "online") and
     on body[data-joined]; `onJoined()` runs after each join (e.g. to reload the state).
     Returns the socket for the page's own event handlers. */
  function joinStation(deviceId, dot, onJoined) {
    const socket = io({transports: ["websocket"], reconnectionDelay: 500, reconnectionDelayMax: 5000});
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

  global.Loket = {LoketStream, api, t, minutes, h, joinStation};
})(window);
