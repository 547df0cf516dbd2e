/* Counter console (konsol loket).
 *
 * The server is authoritative: the page keeps a copy of the office state from the staff
 * stream (LoketStream: full `sync` state, then `ticket` / `call` / `counter` deltas, which
 * are idempotent upserts) and from the answers of its own actions ({counter, ticket}).
 * Every action goes through `act()`, which refuses to start while another request is in
 * flight, so a double key press or double click sends one request.
 *
 * Keyboard: F1/N call next, F2 finish & call next, R recall, S start, F finish, X skip,
 * T transfer, C call a number, P pause/resume, Q close. A key works only when its button
 * is enabled; keys are ignored while typing in a field or while a dialog is open.
 */
(function () {
  "use strict";

  const CFG = window.LOKET_CONSOLE;
  const t = Loket.t;
  const LANG = window.LOKET_LANG || "id";
  const $ = (id) => document.getElementById(id);

  const AT_COUNTER = new Set(["called", "serving"]);
  const PAUSE_REASONS = {break: "console.pause.reason.break", prayer: "console.pause.reason.prayer",
                         system: "console.pause.reason.system"};
  const KEYS = {F1: "call-next", n: "call-next", F2: "finish-next", r: "recall", s: "start", f: "finish",
                x: "skip", t: "transfer", c: "call-number", p: "pause", q: "close"};

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
  const h = Loket.h;

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

  /* ---- toast -------------------------------------------------------------------------- */
  let toastTimer = null;
  function toast(kind, title, detail) {
    const el = $("toast");
    el.className = "toast toast-" + kind;
    $("toast-title").textContent = title;
    $("toast-detail").textContent = detail || "";
    $("toast-detail").hidden = !detail;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, kind === "error" ? 8000 : 4000);
  }
  $("toast").addEventListener("click", () => { $("toast").hidden = true; });

  const KNOWN_ERRORS = ["queue_empty", "counter_busy", "counter_not_open", "invalid_state", "not_found",
                        "validation_error", "forbidden", "unauthorized", "bad_request", "office_closed",
                        "service_unavailable"];

  function toastError(err) {
    if (!err || err.status === undefined) {
      toast("error", t("console.err.network"), err && err.message);
      return;
    }
    const code = KNOWN_ERRORS.includes(err.code) ? err.code : "generic";
    toast("error", t("console.err." + code), err.message);
  }

  /* ---- talking to the server ---------------------------------------------------------- */
  function setBusy(on) {
    S.busy = on;
    document.body.classList.toggle("is-busy", on);
    renderButtons();
    $("open-counter").disabled = on;
    if (!on && S.pendingKey) setTimeout(runPendingKey, 0);  // after the answer is applied
  }

  /* Run one request at a time; returns the answer, or null after showing the error.
     `quiet`: error codes the caller handles itself; returned as {failed: code}, not toasted. */
  async function request(method, path, body, quiet) {
    if (S.busy) return null;
    setBusy(true);
    try {
      return await Loket.api(method, path, body);
    } catch (err) {
      if (err && quiet && quiet.includes(err.code)) return {failed: err.code};
      toastError(err);
      if (err && err.status === 401) setTimeout(() => { window.location.href = "/login?next=/console"; }, 2500);
      if (err && err.status && S.myId) refreshMine();
      return null;
    } finally {
      setBusy(false);
    }
  }

  async function act(action, body, quiet) {
    if (!S.myId) return null;
    const answer = await request("POST", `/api/v1/counters/${S.myId}/${action}`, body, quiet);
    if (answer && !answer.failed) {
      if ($("toast").classList.contains("toast-error")) $("toast").hidden = true;  // that error is history
      applyAnswer(answer);
    }
    return answer;
  }

  function applyAnswer(answer) {
    if (answer.counter) upsertCounter(answer.counter);
    const c = mine();
    if (answer.ticket && c && answer.ticket.counter_id === c.id && AT_COUNTER.has(answer.ticket.status)) {
      S.detail = answer.ticket;
      S.waiting.delete(answer.ticket.id);
    } else if (!answer.ticket) {
      S.detail = null;
    }
    render();
  }

  /* Fetch my counter and its current ticket (after an error, or when the detail is missing). */
  let refreshing = false;
  async function refreshMine() {
    if (!S.myId || refreshing) return;
    refreshing = true;
    try {
      const answer = await Loket.api("GET", `/api/v1/counters/${S.myId}`);
      applyAnswer(answer);
    } catch (err) { /* the stream will bring it */ } finally { refreshing = false; }
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
        if (before && before.state !== "closed" && !closing) {
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

  function onState(state) {
    if (state.server_time) S.clockOffset = Date.parse(state.server_time) - Date.now();
    S.services = new Map(state.services.map((s) => [s.id, s]));
    const hadMine = S.myId;
    S.counters = new Map();
    state.counters.forEach((c) => S.counters.set(c.id, c));
    S.waiting = new Map((state.waiting || []).map((tk) => [tk.id, tk]));
    const my = hadMine ? S.counters.get(hadMine) : null;
    if (my && my.state !== "closed" && my.officer_id === S.me.id) S.myId = my.id;
    else {
      if (hadMine && !closing) toast("info", t("console.msg.counter_lost", {counter: my ? my.label : ""}));
      S.myId = findMyCounter();
    }
    const c = mine();
    if (!c || !c.current) S.detail = null;
    else if (!S.detail || S.detail.id !== c.current.id) refreshMine();
    S.synced = true;
    if (window.LoketDeviceAlerts) LoketDeviceAlerts.set(state.devices || []);
    render();
  }

  function onEvent(name, data) {
    document.dispatchEvent(new CustomEvent("loket:" + name, {detail: data}));  // e.g. intake's resi_print
    if (name === "device" && data.device && window.LoketDeviceAlerts) LoketDeviceAlerts.upsert(data.device);
    if (name === "counter" && data.counter) upsertCounter(data.counter);
    if ((name === "ticket" || name === "call") && data.ticket) upsertTicket(data.ticket);
    if (name === "call" && data.call && data.call.counter_id === S.myId && S.detail && S.detail.id === data.call.ticket_id) {
      S.detail = Object.assign({}, S.detail, {called_at: data.call.at});
    }
    render();
  }

  function onStatus(online) {
    S.online = online;
    $("conn-dot").classList.toggle("online", online);
    $("conn-text").textContent = t(online ? "console.conn.online" : "console.conn.offline");
    document.body.classList.toggle("is-offline", !online);
  }

  /* ---- rendering ---------------------------------------------------------------------- */
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

  function waitingOf(c) {
    const ids = new Set(c.service_ids);
    return [...S.waiting.values()].filter((tk) => ids.has(tk.service_id))
      .sort((a, b) => (a.sort_key - b.sort_key) || (a.id - b.id));
  }

  let lastWaitingKey = "";
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

  /* ---- actions ------------------------------------------------------------------------ */
  let closing = false;

  async function openCounter() {
    const id = parseInt($("counter-select").value, 10);
    if (!id || S.busy) return;
    const answer = await request("POST", `/api/v1/counters/${id}/open`);
    if (!answer) return;
    S.myId = id;
    applyAnswer(answer);
    lastWaitingKey = "";
    render();
    toast("success", t("console.msg.opened", {counter: answer.counter.label}));
    if (document.activeElement) document.activeElement.blur();
  }

  $("choose-form").addEventListener("submit", (e) => { e.preventDefault(); openCounter(); });

  async function reprint(tk) {
    const answer = await request("POST", `/api/v1/tickets/${tk.id}/reprint`, {});
    if (answer) toast("success", t("console.msg.reprinted", {number: tk.number}));
  }
  $("current-reprint").addEventListener("click", () => { if (S.detail) reprint(S.detail); });

  const ACTIONS = {
    "call-next": () => act("call-next"),
    "finish-next": async () => {
      // The server finishes the current ticket and calls the next one; with nobody
      // waiting the finish stands and the answer has no ticket: say so.
      const number = mine().current.number;
      const answer = await act("call-next", {finish_current: true});
      if (answer && !answer.failed && !answer.ticket) {
        toast("info", t("console.msg.finished", {number}), t("console.err.queue_empty"));
      }
    },
    "recall": async () => {
      const c = mine();
      const number = c && c.current ? c.current.number : "";
      if (await act("recall")) toast("success", t("console.msg.recalled", {number}));
    },
    "start": () => act("start"),
    "finish": async () => {
      const number = mine().current.number;
      if (await act("finish")) toast("success", t("console.msg.finished", {number}));
    },
    "skip": () => {
      $("skip-title").textContent = t("console.skip.title", {number: mine().current.number});
      ask("dlg-skip", async () => {
        const number = mine() && mine().current ? mine().current.number : "";
        if (await act("skip")) toast("success", t("console.msg.skipped", {number}));
      });
    },
    "transfer": () => openTransfer(),
    "call-number": () => {
      const input = $("call-number-input");
      input.value = "";
      ask("dlg-call", () => {
        const number = input.value.trim().toUpperCase();
        if (number) act("call", {number});
      }, input);
    },
    "pause": () => {
      const c = mine();
      if (c.state === "paused") { act("resume"); return; }
      openPause();
    },
    "close": () => {
      $("close-title").textContent = t("console.close.title", {counter: mine().label});
      ask("dlg-close", async () => {
        closing = true;
        try {
          const label = mine() ? mine().label : "";
          const answer = await act("close");
          if (answer) { S.myId = null; S.detail = null; render(); toast("success", t("console.msg.closed", {counter: label})); }
        } finally { closing = false; }
      });
    },
  };

  document.querySelectorAll("#actions [data-action]").forEach((b) => {
    b.addEventListener("click", () => {
      if (b.disabled || S.busy) return;
      b.blur();
      S.inflight = b.dataset.action;
      ACTIONS[b.dataset.action]();
    });
  });

  document.querySelectorAll("dialog [data-dismiss]").forEach((b) => {
    b.addEventListener("click", () => b.closest("dialog").close("cancel"));
  });

  /* Show a dialog; on "ok" run `onOk`. `focus`: the element to focus first. */
  function ask(id, onOk, focus) {
    const dlg = $(id);
    if (dlg.open) return;
    dlg.returnValue = "";
    dlg.onclose = () => {
      // The close event is queued: after Esc and a quick reopen, the previous opening's
      // close arrives while the dialog is open again. It is not ours: keep waiting.
      if (dlg.open) return;
      dlg.onclose = null;
      if (dlg.returnValue === "ok") onOk();
    };
    dlg.showModal();
    if (focus) focus.focus();
  }

  function openPause() {
    const dlg = $("dlg-pause");
    const other = $("pause-other");
    dlg.querySelector("input[value=break]").checked = true;
    other.value = "";
    other.disabled = true;
    ask("dlg-pause", () => {
      const key = dlg.querySelector("input[name=reason]:checked").value;
      const reason = key === "other" ? other.value.trim() : t(PAUSE_REASONS[key]);
      if (!reason) { toast("error", t("console.pause.need_reason")); return; }
      act("pause", {reason});
    }, dlg.querySelector("input[name=reason]:checked"));
  }

  (function wirePauseDialog() {
    const dlg = $("dlg-pause");
    const other = $("pause-other");
    const radios = [...dlg.querySelectorAll("input[name=reason]")];
    const sync = () => {
      const isOther = dlg.querySelector("input[value=other]").checked;
      other.disabled = !isOther;
      other.required = isOther;
      if (isOther) other.focus();
    };
    radios.forEach((r) => r.addEventListener("change", sync));
    dlg.addEventListener("keydown", (e) => {
      if (e.target === other) return;
      const n = parseInt(e.key, 10);
      if (n >= 1 && n <= radios.length) { radios[n - 1].checked = true; radios[n - 1].focus(); sync(); e.preventDefault(); }
      if (e.key === "Enter" && e.target.tagName === "INPUT") { e.preventDefault(); dlg.querySelector("[data-testid=pause-confirm]").click(); }
    });
  })();

  function openTransfer() {
    const c = mine();
    const d = S.detail;
    const select = $("transfer-service");
    select.textContent = "";
    [...S.services.values()].filter((s) => !d || s.id !== d.service_id).forEach((s) => {
      select.append(h("option", {value: s.code, text: `${s.letter} · ${serviceName(s)}`}));
    });
    $("dlg-transfer").querySelector("input[value=front]").checked = true;
    $("transfer-title").textContent = t("console.transfer.title", {number: c.current.number});
    ask("dlg-transfer", async () => {
      const service = select.value;
      const position = $("dlg-transfer").querySelector("input[name=position]:checked").value;
      const number = c.current ? c.current.number : "";
      const svc = [...S.services.values()].find((s) => s.code === service);
      if (await act("transfer", {service, position})) {
        toast("success", t("console.msg.transferred", {number, service: serviceName(svc),
                                                        position: t("console.transfer.short_" + position)}));
      }
    }, select);
  }
  $("dlg-transfer").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.tagName !== "BUTTON") { e.preventDefault(); $("dlg-transfer").querySelector("[data-testid=transfer-confirm]").click(); }
  });

  function openCancel(tk) {
    $("cancel-title").textContent = t("console.cancel.title", {number: tk.number});
    const input = $("cancel-reason");
    input.value = "";
    ask("dlg-cancel", async () => {
      const reason = input.value.trim();
      if (!reason) { toast("error", t("console.cancel.need_reason")); return; }
      const answer = await request("POST", `/api/v1/tickets/${tk.id}/cancel`, {reason});
      if (answer) {
        upsertTicket(answer);
        render();
        toast("success", t("console.msg.cancelled", {number: tk.number}));
      }
    }, input);
  }

  /* ---- keyboard --------------------------------------------------------------------- */
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    if (document.querySelector("dialog[open]")) return;
    const tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || (tag === "SELECT" && e.key !== "Enter")) return;
    if (!mine()) {
      if (e.key === "Enter" && tag === "SELECT") { e.preventDefault(); openCounter(); }
      return;
    }
    const action = KEYS[e.key] || KEYS[e.key.toLowerCase()];
    if (!action) return;
    e.preventDefault();                 // F1 would open the browser's help
    if (e.repeat) return;               // a held key
    if (S.busy) {
      // The same key again while its request is in flight is a double press: dropped.
      // Another key (S right after N) waits for the answer, then runs if still possible.
      if (action !== S.inflight) S.pendingKey = action;
      return;
    }
    pressKey(action);
  });

  function pressKey(action) {
    const button = document.querySelector(`#actions [data-action="${action}"]`);
    if (button && !button.disabled) button.click();
  }

  function runPendingKey() {
    const action = S.pendingKey;
    S.pendingKey = null;
    if (action && !S.busy && !document.querySelector("dialog[open]")) pressKey(action);
  }

  /* ---- clocks ------------------------------------------------------------------------- */
  function renderClock() {
    const d = new Date(now());
    $("bar-clock").textContent = `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
  }

  setInterval(() => {
    renderTimes();
    renderClock();
    const c = mine();
    if (c) renderWaiting(c);
  }, 1000);

  /* ---- start -------------------------------------------------------------------------- */
  render();
  renderClock();
  const stream = new Loket.LoketStream({auth: {office_id: CFG.office.id}, onState, onEvent, onStatus});
  window.LoketConsole = {state: S, stream};   // for tests and support
  stream.start();
})();
