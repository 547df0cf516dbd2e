/* Waiting-room TV: shows and speaks the queue calls of one office.
 *
 * Calls arrive as `call` messages on the office stream (LoketStream, auth {token}): live,
 * replayed after a reconnect or a gap (in order), or inside a full state. Which of them
 * are spoken is the CallAnnouncer's decision (stream_logic.js; the Python twin in
 * drivers/stream/announcer.py runs the same cases): every call id once, and only while it
 * is fresh (made at most office.speak_window_s seconds ago, server time), so after a short
 * outage the missed calls are spoken in order and after a long one only the last ones; the
 * rest are shown in the list. A recall is a call of its own and is spoken again. The ids
 * decided are kept in localStorage for the day, so a reload speaks nothing twice.
 *
 * Spoken calls are queued and worked strictly one at a time, in arrival order: the call is
 * shown big (with a flash), then its WAV (/api/v1/offices/<code>/voice/call.wav) is played
 * in the one <audio> element and the next call waits until it has ended. If the voice
 * fails (503, offline) the call stays on screen a few seconds and the queue moves on.
 *
 * Autoplay: Chromium blocks sound without a user gesture unless started with
 * --autoplay-policy=no-user-gesture-required. When play() is refused the calls keep being
 * shown and a "Ketuk untuk mengaktifkan suara" button unlocks the sound.
 *
 * For tests: window.LoketDisplay = {spoken: [{number, counter, kind, id, start, end}],
 * queue: [calls not yet shown], stream, skipped: [...], history: [...], announcer}; no
 * module reads it.
 *
 * The page's one ES module (display/templates/display/display.html); it imports loket.js
 * and stream_logic.js from the server's static/js.
 */
import {LANG, LoketStream, t} from "../static/js/loket.js";
import {CallAnnouncer} from "../static/js/stream_logic.js";

const $ = (id) => document.getElementById(id);
const root = $("display");
const CODE = root.dataset.office;
const TOKEN = new URLSearchParams(location.search).get("token") || "";

const MIN_SHOW_MS = 4000;       // a call stays the big one at least this long
const GAP_MS = 700;             // pause between two spoken calls
const LOAD_TIMEOUT_MS = 15000;  // voice that never starts
const HISTORY = 6;
const RESPEAK_AFTER_UNLOCK_MS = 60000;

const audio = $("voice");
const LD = window.LoketDisplay = {spoken: [], queue: [], skipped: [], history: [], stream: null,
                                  audioLocked: false, current: null};
const counters = new Map();     // counter id → counter
const MEMORY_KEY = "loket.tv." + CODE;
let announcer = null;           // made with the first state (its window and the day are in it)
let clockOffset = 0;            // server time - this TV's clock (ms)
let office = null;
let day = null;
let pumping = false;
let firstState = true;
let lockedCall = null;          // the last call not spoken because sound was locked

/* ---------- time ---------- */
function tz() { return (office && office.timezone) || undefined; }
function fmt(opts, date) {
  try { return new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "id-ID", Object.assign({timeZone: tz()}, opts)).format(date); }
  catch (e) { return new Intl.DateTimeFormat(LANG === "en" ? "en-GB" : "id-ID", opts).format(date); }
}
function localDay(iso) {
  if (!iso) return null;
  try { return new Intl.DateTimeFormat("en-CA", {timeZone: tz(), year: "numeric", month: "2-digit", day: "2-digit"}).format(new Date(iso)); }
  catch (e) { return String(iso).slice(0, 10); }
}
function tick() {
  const now = new Date();
  $("clock-time").textContent = fmt({hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false}, now).replace(/\./g, ":");
  $("clock-date").textContent = fmt({weekday: "long", day: "numeric", month: "long", year: "numeric"}, now);
  if (LD.stream) $("resyncs").textContent = t("display.resyncs", {n: LD.stream.resyncs});  // syncs: connects, gaps, resyncs
}

/* ---------- rendering ---------- */
function counterText(call) { return t("display.counter", {counter: call.counter_number}); }

function renderCurrent(flash) {
  const call = LD.current;
  const box = $("current");
  if (!call) {
    box.dataset.state = "empty";
    $("current-number").textContent = "—";
    $("current-go").textContent = t("display.no_call");
    $("current-counter").textContent = t("display.no_call_hint");
    $("current-tag").hidden = true;
    return;
  }
  box.dataset.state = "call";
  box.dataset.kind = call.kind;
  $("current-number").textContent = call.number;
  $("current-go").textContent = t("display.go_to");
  $("current-counter").textContent = counterText(call);
  $("current-tag").hidden = call.kind !== "recall";
  if (flash) {
    box.classList.remove("flash");
    void box.offsetWidth;       // restart the animation
    box.classList.add("flash");
  }
}

function renderHistory() {
  const list = $("last-calls");
  const seen = new Set();
  if (LD.current) seen.add(LD.current.ticket_id);
  const rows = [];
  for (const call of LD.history) {
    if (seen.has(call.ticket_id)) continue;
    seen.add(call.ticket_id);
    rows.push(call);
    if (rows.length >= HISTORY) break;
  }
  list.textContent = "";
  rows.forEach((call) => {
    const li = document.createElement("li");
    li.className = "d-last";
    li.dataset.callId = String(call.id);
    const num = document.createElement("span");
    num.className = "d-last-number";
    num.textContent = call.number;
    const ctr = document.createElement("span");
    ctr.className = "d-last-counter";
    ctr.textContent = counterText(call);
    li.append(num, ctr);
    list.appendChild(li);
  });
  $("last-empty").hidden = rows.length > 0;
}

function renderCounters() {
  const box = $("counters");
  const list = Array.from(counters.values()).sort((a, b) => a.number - b.number);
  box.dataset.count = String(list.length);
  box.style.setProperty("--cols", String(Math.min(Math.max(list.length, 1), 10)));
  const key = list.map((c) => c.id).join(",");
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    box.textContent = "";
    list.forEach((c) => {
      const tile = document.createElement("div");
      tile.className = "d-counter";
      tile.dataset.counterId = String(c.id);
      tile.setAttribute("data-testid", "counter-" + c.number);
      tile.innerHTML = '<span class="d-counter-name"></span><span class="d-counter-number"></span><span class="d-counter-state"></span>';
      box.appendChild(tile);
    });
  }
  list.forEach((c) => {
    const tile = box.querySelector('[data-counter-id="' + c.id + '"]');
    const cur = c.current;
    const state = c.state !== "open" ? c.state : (cur ? cur.status : "idle");
    tile.dataset.state = state;
    tile.querySelector(".d-counter-name").textContent = t("display.counter", {counter: c.number});
    tile.querySelector(".d-counter-number").textContent = cur && c.state !== "closed" ? cur.number : "—";
    let label;
    if (c.state === "closed" || c.state === "paused") label = t("display.counter_state." + c.state);
    else if (cur) label = t("display.counter_status." + cur.status);
    else label = t("display.counter_state.open");
    tile.querySelector(".d-counter-state").textContent = label;
  });
}

function renderOffice() {
  if (!office) return;
  $("office-name").textContent = office.name;
  document.title = t("display.title") + " · " + office.name;
  const text = office.running_text || "";
  const span = $("running-text");
  if (span.textContent !== text) {
    span.textContent = text;
    // constant reading speed (~130 px/s) whatever the text length
    requestAnimationFrame(() => {
      const width = span.scrollWidth || 1000;
      span.style.animationDuration = Math.max(12, width / 130) + "s";
    });
  }
  $("marquee").hidden = !text;
}

function renderStatus(online) {
  const conn = $("conn");
  conn.dataset.online = online ? "true" : "false";
  conn.querySelector(".status-dot").classList.toggle("online", online);
  $("conn-text").textContent = online ? t("display.online") : t("display.offline");
  $("resyncs").textContent = LD.stream ? t("display.resyncs", {n: LD.stream.resyncs}) : "";
}

/* ---------- history ---------- */
function remember(call) {
  LD.history = [call].concat(LD.history.filter((c) => c.id !== call.id))
    .sort((a, b) => b.id - a.id).slice(0, 40);
}

function present(call) {
  remember(call);
  LD.current = call;
  renderCurrent(true);
  renderHistory();
}

/* ---------- voice queue ---------- */
function voiceUrl(call) {
  const q = new URLSearchParams({number: call.number, counter: String(call.counter_number), token: TOKEN});
  return "/api/v1/offices/" + encodeURIComponent(CODE) + "/voice/call.wav?" + q.toString();
}

function speak(call) {
  return new Promise((resolve) => {
    const item = {id: call.id, number: call.number, counter: call.counter_number, kind: call.kind,
                  start: null, end: null, result: null};
    let started = false;
    let done = false;
    let watchdog = null;
    const cleanup = () => {
      audio.removeEventListener("playing", onPlaying);
      audio.removeEventListener("ended", onEnded);
      audio.removeEventListener("error", onError);
    };
    const finish = (result) => {
      if (done) return;
      done = true;
      clearTimeout(watchdog);
      cleanup();
      if (result !== "ended") { try { audio.pause(); } catch (e) { /* ignore */ } }
      item.result = result;
      if (started) item.end = Date.now(); else LD.skipped.push(item);
      resolve(result);
    };
    const onPlaying = () => {
      if (started) return;
      started = true;
      item.start = Date.now();
      LD.spoken.push(item);
      const seconds = isFinite(audio.duration) && audio.duration > 0 ? audio.duration : 20;
      clearTimeout(watchdog);
      watchdog = setTimeout(() => finish("timeout"), (seconds + 5) * 1000);
    };
    const onEnded = () => finish("ended");
    const onError = () => finish("error");
    audio.addEventListener("playing", onPlaying);
    audio.addEventListener("ended", onEnded);
    audio.addEventListener("error", onError);
    watchdog = setTimeout(() => finish("timeout"), LOAD_TIMEOUT_MS);
    audio.src = voiceUrl(call);
    let promise;
    try { promise = audio.play(); } catch (e) { finish("error"); return; }
    if (promise && promise.catch) {
      promise.catch((err) => {
        if (err && err.name === "NotAllowedError") {
          lockAudio(call);
          finish("locked");
        } else {
          finish("error");
        }
      });
    }
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pump() {
  if (pumping) return;
  pumping = true;
  try {
    while (LD.queue.length) {
      const call = LD.queue.shift();
      present(call);
      const shownAt = Date.now();
      await speak(call);
      if (LD.queue.length) await sleep(Math.max(GAP_MS, MIN_SHOW_MS - (Date.now() - shownAt)));
    }
  } finally {
    pumping = false;
  }
}

function enqueue(call) {
  LD.queue.push(call);
  pump();
}

/* ---------- autoplay unlock ---------- */
function silentWav() {
  // 0.1 s of 8 kHz 8-bit silence
  const n = 800;
  const bytes = new Uint8Array(44 + n);
  const view = new DataView(bytes.buffer);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) bytes[o + i] = s.charCodeAt(i); };
  str(0, "RIFF"); view.setUint32(4, 36 + n, true); str(8, "WAVE"); str(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, 8000, true); view.setUint32(28, 8000, true); view.setUint16(32, 1, true);
  view.setUint16(34, 8, true); str(36, "data"); view.setUint32(40, n, true);
  bytes.fill(128, 44);
  let bin = "";
  bytes.forEach((b) => { bin += String.fromCharCode(b); });
  return "data:audio/wav;base64," + btoa(bin);
}

function lockAudio(call) {
  LD.audioLocked = true;
  lockedCall = {call, at: Date.now()};
  $("unlock-audio").hidden = false;
  root.classList.add("needs-gesture");
}

function unlockAudio() {
  const probe = new Audio(silentWav());
  const done = () => {
    LD.audioLocked = false;
    $("unlock-audio").hidden = true;
    root.classList.remove("needs-gesture");
    // say the last call the room missed, if it is still fresh and nothing else is queued
    if (lockedCall && Date.now() - lockedCall.at < RESPEAK_AFTER_UNLOCK_MS && !LD.queue.length && !pumping) {
      const again = lockedCall.call;
      lockedCall = null;
      LD.queue.push(again);
      pump();
    }
    lockedCall = null;
  };
  let p;
  try { p = probe.play(); } catch (e) { p = null; }
  if (p && p.then) p.then(done, done); else done();
}
$("unlock-audio").addEventListener("click", unlockAudio);

/* ---------- which calls are spoken ---------- */
function serverNow() { return Date.now() + clockOffset; }

function restoreMemory(today) {
  try {
    const saved = JSON.parse(localStorage.getItem(MEMORY_KEY) || "null");
    return saved && saved.day === today && Array.isArray(saved.known) ? saved.known : [];
  } catch (e) { return []; }
}

function saveMemory() {
  try { localStorage.setItem(MEMORY_KEY, JSON.stringify({day, known: announcer.known()})); } catch (e) { /* full or off */ }
}

function ensureAnnouncer(windowS) {
  if (!announcer) announcer = new CallAnnouncer(windowS, restoreMemory(day));
  else if (windowS !== undefined && windowS !== null) announcer.windowS = windowS;
  LD.announcer = announcer;
}

/* A call not spoken: it joins the list, and becomes the big one unless calls are being spoken. */
function showOnly(call) {
  remember(call);
  if (!pumping && (!LD.current || LD.history[0].id !== LD.current.id)) {
    LD.current = LD.history[0];
    renderCurrent(!firstState);
  }
  renderHistory();
}

/* ---------- stream ---------- */
function onState(state) {
  office = state.office || office;
  if (state.server_time) clockOffset = Date.parse(state.server_time) - Date.now();
  if (state.day && day && state.day !== day) announcer = null;  // a new day: yesterday's ids are no use
  day = state.day || day;
  ensureAnnouncer(office && office.speak_window_s);
  counters.clear();
  (state.counters || []).forEach((c) => counters.set(c.id, c));
  const calls = (state.calls || []).filter((c) => !day || localDay(c.at) === day);  // only today's (office-local)
  LD.history = LD.history.filter((c) => !day || localDay(c.at) === day);
  const speak = announcer.state(calls, serverNow());
  const spoken = new Set(speak.map((c) => c.id));
  calls.forEach((c) => { if (!spoken.has(c.id)) remember(c); });
  if (!pumping && !speak.length) {
    const newest = LD.history[0] || null;
    const changed = newest && (!LD.current || newest.id !== LD.current.id);
    LD.current = newest;
    renderCurrent(changed && !firstState);
  }
  speak.forEach(enqueue);
  saveMemory();
  firstState = false;
  renderOffice();
  tick();
  renderHistory();
  renderCounters();
  renderStatus(true);
}

function onEvent(name, data) {
  if (name === "call" && data.call) {
    const call = data.call;
    const callDay = localDay(call.at);
    if (day && callDay && callDay < day) return;                    // yesterday's, late
    if (day && callDay && callDay > day) { day = callDay; LD.history = []; announcer = null; ensureAnnouncer(office && office.speak_window_s); }
    if (announcer.live(call, serverNow())) enqueue(call);
    else if (!LD.history.some((c) => c.id === call.id)) showOnly(call);
    saveMemory();
  } else if (name === "counter" && data.counter) {
    counters.set(data.counter.id, data.counter);
    renderCounters();
  }
}

function onStatus(online, message) {
  renderStatus(online);
  // refused: a revoked or mistyped display token; say so instead of "reconnecting"
  if (!online && message && /token|authentication/i.test(message)) $("conn-text").textContent = t("display.bad_token");
}

tick();
setInterval(tick, 1000);
if (!TOKEN) onStatus(false, "no device token");
const stream = new LoketStream({auth: {token: TOKEN}, onState, onEvent, onStatus});
LD.stream = stream;
stream.start();
