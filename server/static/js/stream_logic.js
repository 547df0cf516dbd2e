/* The office stream as a client hears it: StreamCursor (which messages to apply, in which
 * order, and when to ask the server) and CallAnnouncer (which calls a TV speaks).
 *
 * The Python twin is drivers/stream/ (cursor.py, announcer.py): the same machines, line
 * for line, run by the same cases (tests/realtime/stream_cases.json); their docstrings
 * explain the protocol. In short: every message of an office stream carries `position`
 * (1, 2, 3 ... in commit order) and `log` (the identity of that numbering). The cursor
 * asks `sync` on connect ({after, log} once it has a position), applies a message when it
 * is next in line, drops older ones, holds later ones and asks for the missing ones after
 * `graceMs`. Inputs return actions: ["sync", args], ["state", state], ["event", name,
 * data], ["retry"]. Time is given by the caller (ms).
 *
 * The announcer speaks each call id once: a new call is spoken when it was made at most
 * `windowS` seconds ago (server clock), else only shown.
 *
 * An ES module without imports (loket.js and display.js import it); the browser test
 * tests/pages/test_stream_logic_js.py imports it too.
 */
const RESYNC = "resync";

function positionOf(data) {
  const v = data && typeof data === "object" ? data.position : undefined;
  return Number.isInteger(v) ? v : null;
}

class StreamCursor {
  constructor(graceMs) {
    this.graceMs = graceMs === undefined ? 300 : graceMs;
    this.position = null;
    this.log = null;
    this.syncing = false;
    this.syncs = 0;
    this.held = new Map();
    this.gapSince = null;
  }

  /* ---- inputs ---- */
  connect(now) {
    this.syncing = false;
    return this._sync(this._args());
  }

  disconnect() {
    this.syncing = false;
    this.held.clear();
    this.gapSince = null;
    return [];
  }

  retry(now) {
    return this._sync(this._args());
  }

  answer(answer, now) {
    this.syncing = false;
    if (!answer || typeof answer !== "object" || answer.error || positionOf(answer) === null) return [["retry"]];
    const out = [];
    if (answer.state !== undefined && answer.state !== null) {
      this.position = answer.position;
      this.log = answer.log;
      out.push(["state", answer.state]);
    } else if (answer.log !== this.log) {
      this.position = null;
      return this._sync({});
    } else {
      for (const entry of answer.entries || []) {
        if (entry && typeof entry === "object" && entry.data && typeof entry.data === "object") {
          this._take(String(entry.name), entry.data, now, out);
          if (this.syncing) return out;
        }
      }
    }
    this._drain(now, out);
    return out;
  }

  event(name, data, now) {
    if (positionOf(data) === null) return [];
    if (this.position === null || this.syncing) {
      this.held.set(data.position, [name, data]);
      return [];
    }
    if (data.log !== this.log) {
      this.held.set(data.position, [name, data]);
      return this._sync(this._args());
    }
    const out = [];
    this._take(name, data, now, out);
    if (!this.syncing) this._drain(now, out);
    return out;
  }

  tick(now) {
    if (!this.syncing && this.gapSince !== null && now - this.gapSince >= this.graceMs) return this._sync(this._args());
    return [];
  }

  /* ---- internals ---- */
  _args() {
    return this.position === null ? {} : {after: this.position, log: this.log};
  }

  _sync(args) {
    if (this.syncing) return [];
    this.syncing = true;
    this.syncs += 1;
    this.gapSince = null;
    return [["sync", args]];
  }

  _take(name, data, now, out) {
    const position = positionOf(data);
    if (position === null || data.log !== this.log || position <= this.position) return;
    if (position !== this.position + 1) {
      this.held.set(position, [name, data]);
      return;
    }
    this.position = position;
    out.push(["event", name, data]);
    if (name === RESYNC) out.push(...this._sync({}));
  }

  _drain(now, out) {
    const positions = Array.from(this.held.keys()).sort((a, b) => a - b);
    for (const position of positions) {
      const [name, data] = this.held.get(position);
      if (data.log !== this.log || position <= this.position) {
        this.held.delete(position);
      } else if (position === this.position + 1) {
        this.held.delete(position);
        this._take(name, data, now, out);
        if (this.syncing) return;
      } else {
        break;
      }
    }
    if (this.held.size) {
      if (this.gapSince === null) this.gapSince = now;
    } else {
      this.gapSince = null;
    }
  }
}

const DEFAULT_WINDOW_S = 120;

function callTimeMs(call) {
  const t = call && call.at ? Date.parse(call.at) : NaN;
  return Number.isFinite(t) ? t : null;
}

class CallAnnouncer {
  constructor(windowS, known, memory) {
    this.windowS = windowS === undefined || windowS === null ? DEFAULT_WINDOW_S : windowS;
    this.memory = memory || 500;
    this._known = new Set((known || []).map(Number));
  }

  live(call, nowMs) {
    if (!call || typeof call !== "object" || call.id === undefined || call.id === null || this._known.has(call.id)) return false;
    this._remember(call.id);
    return this._fresh(call, nowMs);
  }

  state(calls, nowMs) {
    const ordered = (calls || []).filter((c) => c && typeof c === "object" && c.id !== undefined && c.id !== null)
      .sort((a, b) => ((callTimeMs(a) || 0) - (callTimeMs(b) || 0)) || (a.id - b.id));
    return ordered.filter((c) => this.live(c, nowMs));
  }

  known() {
    return Array.from(this._known);
  }

  _fresh(call, nowMs) {
    const at = callTimeMs(call);
    return at !== null && nowMs - at <= this.windowS * 1000;
  }

  _remember(id) {
    this._known.delete(id);
    this._known.add(id);
    while (this._known.size > this.memory) this._known.delete(this._known.values().next().value);
  }
}

export {StreamCursor, CallAnnouncer, callTimeMs, DEFAULT_WINDOW_S};
