/* Online queue booking (issue 6), on the public API (server/api/bookings.py).
 *
 * /booking/<office> (#booking-app): one page, step by step: 1 service (cards with what to
 * bring), 2 date (only the days the API offers), 3 session (disabled when closed or full,
 * "sisa N"), 4 the form. Errors go next to the field the API names (details.field); a
 * full session reloads the places left. Sending the form sends a 6-digit code to the
 * WhatsApp number / e-mail (issue 13): 5 the code; then "the result was sent to
 * 0812****7890". The page never learns the outcome: the booking (its code, QR and page
 * /booking/<office>/<code>), or why there is none, reaches the citizen through that
 * contact only, so the page tells nobody whether a NIK has booked.
 * /booking/<office>/<code> (#cancel-form): cancel with the booking's NIK, then reload.
 */
import {api, h, LANG, scriptReady, t} from "./loket.js";

(function () {
  "use strict";
  const lang = LANG;
  const $ = (id) => document.getElementById(id);
  const FIELDS = ["nik", "name", "phone", "email"];
  const STEPS = ["service", "day", "session"];

  /* "Senin, 23 Nov" of "2026-11-23". */
  function dayLabel(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    const date = new Date(Date.UTC(y, m - 1, d));
    return t("booking.weekdays").split(",")[date.getUTCDay()] + ", " + d + " " + t("booking.months").split(",")[m - 1];
  }

  /* The API's messages are "Indonesian / English": the part of the page's language. */
  function localMessage(message) {
    const parts = String(message || "").split(" / ");
    return (lang === "en" && parts.length > 1 ? parts.slice(1).join(" / ") : parts[0]).trim();
  }

  function serviceName(s) { return lang === "en" && s.name_en ? s.name_en : s.name_id; }

  function requirementText(r) {
    const text = lang === "en" && r.en ? r.en : r.id;
    if (!r.when) return text;
    const key = "booking.when." + r.when;
    const when = t(key) === key ? r.when : t(key);
    return text.toLowerCase().includes(when.toLowerCase()) ? text : text + " (" + when + ")";
  }

  function bookingPage(root) {
    const office = root.dataset.office;
    const base = "/api/v1/offices/" + encodeURIComponent(office);
    const state = {avail: null, service: null, day: null, session: null};
    const form = $("booking-form");

    const service = () => state.avail.services.find((s) => s.code === state.service);
    const day = () => state.avail.days.find((d) => d.date === state.day);
    const sesi = () => state.avail.sessions.find((s) => s.code === state.session);
    const placesLeft = (d, code) => {
      const info = d.sessions[code];
      return info && info.open ? (info.left[state.service] || 0) : -1;   // -1: closed
    };
    const dayHasRoom = (d) => state.avail.sessions.some((s) => placesLeft(d, s.code) > 0);

    async function load() {
      $("loading").hidden = false;
      $("load-error").hidden = true;
      try {
        state.avail = await api("GET", base + "/booking");
      } catch (err) {
        $("loading").hidden = true;
        $("load-error").hidden = false;
        return;
      }
      $("loading").hidden = true;
      // Keep the choices that still hold.
      if (state.service && !service()) state.service = null;
      if (!state.service || (state.day && (!day() || !dayHasRoom(day())))) state.day = null;
      if (!state.day || (state.session && placesLeft(day(), state.session) <= 0)) state.session = null;
      render();
    }

    function current() {
      if (!state.service) return 0;
      if (!state.day) return 1;
      if (!state.session) return 2;
      return 3;
    }

    function pick(step, value) {
      state[step] = value;
      sessionMessage("");
      STEPS.slice(STEPS.indexOf(step) + 1).forEach((s) => { state[s] = null; });
      render();
      const next = current() < 3 ? $("step-" + STEPS[current()]) : $("step-form");
      if (next.scrollIntoView) next.scrollIntoView({behavior: "smooth", block: "start"});
    }

    function serviceCards() {
      if (!state.avail.services.length) return [h("p", {class: "bk-empty", text: t("booking.service.none")})];
      return state.avail.services.map((s) => h("div", {class: "bk-card bk-service", role: "listitem",
                                                         dataset: {testid: "service-" + s.code}},
        h("button", {type: "button", class: "bk-service-pick", "data-testid": "pick-service-" + s.code,
                     onclick: () => pick("service", s.code)},
          h("span", {class: "bk-letter", text: s.letter}), h("strong", {text: serviceName(s)})),
        s.description_id && lang !== "en" ? h("p", {class: "bk-desc", text: s.description_id}) : null,
        s.requirements.length ? h("p", {class: "bk-bring-title", text: t("booking.service.bring")}) : null,
        h("ul", {class: "bk-reqs"}, s.requirements.map((r) => h("li", {text: requirementText(r)})))));
    }

    function dayButtons() {
      if (!state.avail.days.length) return [h("p", {class: "bk-empty", text: t("booking.day.none", {time: state.avail.opens_at})})];
      return state.avail.days.map((d) => {
        const room = dayHasRoom(d);
        return h("button", {type: "button", class: "bk-choice", role: "listitem", disabled: !room,
                            "data-testid": "day-" + d.date, onclick: () => pick("day", d.date)},
          h("strong", {text: dayLabel(d.date)}), room ? null : h("span", {class: "bk-left", text: t("booking.day.full")}));
      }).concat([h("p", {class: "bk-hint bk-wide",
                         text: t("booking.day.hint", {n: state.avail.horizon_days, time: state.avail.opens_at})})]);
    }

    function sessionButtons() {
      const d = day();
      return state.avail.sessions.map((s) => {
        const left = placesLeft(d, s.code);
        const note = left < 0 ? t("booking.session.closed") : left === 0 ? t("booking.session.full")
          : t("booking.session.left", {n: left});
        return h("button", {type: "button", class: "bk-choice", role: "listitem", disabled: left <= 0,
                            "data-testid": "session-" + s.code, "data-left": left, onclick: () => pick("session", s.code)},
          h("strong", {text: s.label}), h("span", {class: "bk-left", text: note}));
      });
    }

    const BUILD = {service: serviceCards, day: dayButtons, session: sessionButtons};
    const PICKED = {service: () => serviceName(service()), day: () => dayLabel(state.day), session: () => sesi().label};

    function render() {
      const cur = current();
      STEPS.forEach((step, i) => {
        const sec = $("step-" + step);
        sec.hidden = i > cur;
        sec.dataset.state = i < cur ? "done" : i === cur ? "current" : "todo";
        const list = $(step + "-list");
        list.replaceChildren(...(i === cur ? BUILD[step]() : []));
        list.hidden = i !== cur;
        const picked = sec.querySelector(".bk-picked");
        picked.hidden = i >= cur;
        picked.textContent = i < cur ? PICKED[step]() : "";
        sec.querySelector(".bk-change").hidden = i >= cur;
      });
      $("step-form").hidden = cur !== 3;
      if (cur === 3) {
        $("summary").textContent = t("booking.form.summary", {service: serviceName(service()), day: dayLabel(state.day),
                                                               session: sesi().label});
      }
    }

    function showError(field, text) {
      const el = $("error-" + field);
      el.textContent = text;
      el.hidden = !text;
      const input = $(field);
      if (input && input.setAttribute) input.setAttribute("aria-invalid", text ? "true" : "false");
    }

    function sessionMessage(text) {
      $("session-message").textContent = text || "";
      $("session-message").hidden = !text;
    }

    function formMessage(text) {
      $("form-message").textContent = text || "";
      $("form-message").hidden = !text;
    }

    function checkForm(values) {
      const errors = {};
      if (!/^\d{16}$/.test(values.nik)) errors.nik = t("booking.form.nik_bad");
      if (!values.name) errors.name = t("booking.form.name_required");
      if (!values.phone && !values.email) errors.phone = t("booking.form.phone_required");
      if (!$("confirm").checked) errors.confirm = t("booking.form.confirm_required");
      return errors;
    }

    async function submit(ev) {
      ev.preventDefault();
      const values = {};
      FIELDS.forEach((f) => { values[f] = $(f).value.trim(); });
      values.nik = values.nik.replace(/\D/g, "");
      FIELDS.concat(["confirm"]).forEach((f) => showError(f, ""));
      formMessage("");
      const errors = checkForm(values);
      if (Object.keys(errors).length) {
        Object.entries(errors).forEach(([f, text]) => showError(f, text));
        const first = $(Object.keys(errors)[0]);
        if (first) first.focus();
        return;
      }
      const button = $("submit");
      button.disabled = true;
      button.textContent = t("booking.form.sending");
      try {
        const check = await botCheck(values.nik, button);
        const asked = await api("POST", base + "/bookings", Object.assign({service: state.service, day: state.day,
          session: state.session, nik: values.nik, name: values.name, phone: values.phone || null,
          email: values.email || null}, check));
        showCode(asked);
        return;
      } catch (err) {
        handleError(err);
      }
      button.disabled = false;
      button.textContent = t("booking.form.submit");
    }

    /* The office's optional anti-bot check (server/services/booking/challenge.py): find a
       counter n so that SHA-256("<challenge>:<nik>:<n>") starts with `bits` zero bits. */
    async function botCheck(nik, button) {
      const {challenge, bits} = await api("GET", base + "/booking/challenge");
      if (!bits) return {};
      if (!(window.crypto && crypto.subtle)) throw Object.assign(new Error(t("booking.error.insecure")), {status: 0});
      button.textContent = t("booking.form.checking");
      const enc = new TextEncoder();
      for (let n = 0; ; n += 1) {
        const d = new Uint8Array(await crypto.subtle.digest("SHA-256", enc.encode(challenge + ":" + nik + ":" + n)));
        let zeros = 0;
        for (const byte of d) { if (byte === 0) { zeros += 8; continue; } zeros += Math.clz32(byte) - 24; break; }
        if (zeros >= bits) return {challenge, solution: String(n)};
      }
    }

    function handleError(err) {
      const field = err.data && err.data.details && err.data.details.field;
      if (!err.status) formMessage(t("booking.error.network"));
      else if (err.code === "validation_error" && FIELDS.includes(field)) {
        showError(field, localMessage(err.message));
        $(field).focus();
      } else if (err.code === "session_full" || (err.code === "validation_error" && STEPS.includes(field))) {
        const text = err.code === "session_full" ? t("booking.error.session_full") : localMessage(err.message);
        load().then(() => { sessionMessage(text); formMessage(state.session ? text : ""); });
      } else if (err.status === 429) formMessage(t("booking.error.too_many"));
      else formMessage(t("booking.error.other", {message: localMessage(err.message)}));
      const msg = $("form-message");
      if (!msg.hidden && msg.scrollIntoView) msg.scrollIntoView({block: "center"});
    }

    /* Step 5: the code sent to the contact. */
    let request = null;

    function showCode(asked) {
      request = asked.request;
      const minutes = Math.max(1, Math.round((Date.parse(asked.expires_at) - Date.now()) / 60000));
      $("code-intro").textContent = t("booking.code.intro", {contact: asked.contact, min: minutes});
      $("otp").value = "";
      showError("otp", "");
      $("otp-submit").disabled = false;
      STEPS.forEach((step) => { $("step-" + step).hidden = true; });
      $("step-form").hidden = true;
      $("step-code").hidden = false;
      $("otp").focus();
    }

    function restart() {
      request = null;
      $("step-code").hidden = true;
      const button = $("submit");
      button.disabled = false;
      button.textContent = t("booking.form.submit");
      render();
    }

    async function confirmCode(ev) {
      ev.preventDefault();
      const code = $("otp").value.replace(/\D/g, "");
      showError("otp", "");
      if (code.length !== 6) { showError("otp", t("booking.code.bad")); $("otp").focus(); return; }
      const button = $("otp-submit");
      button.disabled = true;
      try {
        const done = await api("POST", base + "/bookings/confirm", {request, code});
        $("step-code").hidden = true;
        $("sent-text").textContent = t("booking.sent.text", {contact: done.contact});
        $("step-sent").hidden = false;
        if ($("step-sent").scrollIntoView) $("step-sent").scrollIntoView({block: "start"});
        return;
      } catch (err) {
        const details = (err.data && err.data.details) || {};
        if (!err.status) showError("otp", t("booking.error.network"));
        else if (err.status === 429) showError("otp", t("booking.error.too_many"));
        else if (details.reason === "wrong") showError("otp", t("booking.code.wrong", {n: details.attempts_left}));
        else if (details.reason === "expired") showError("otp", t("booking.code.expired"));
        else showError("otp", t("booking.code.locked"));
        if (details.reason === "wrong" || !err.status || err.status === 429) button.disabled = false;
        $("otp").focus();
      }
    }

    $("otp").addEventListener("input", () => {
      const digits = $("otp").value.replace(/\D/g, "").slice(0, 6);
      if (digits !== $("otp").value) $("otp").value = digits;
    });
    $("code-form").addEventListener("submit", confirmCode);
    $("otp-restart").addEventListener("click", restart);

    root.querySelectorAll(".bk-change").forEach((b) => b.addEventListener("click", () => pick(b.dataset.step, null)));
    $("retry").addEventListener("click", load);
    $("nik").addEventListener("input", () => {
      const digits = $("nik").value.replace(/\D/g, "").slice(0, 16);
      if (digits !== $("nik").value) $("nik").value = digits;
      $("nik-hint").textContent = digits ? t("booking.form.nik_count", {n: digits.length}) + " · " + t("booking.form.nik_hint")
        : t("booking.form.nik_hint");
      if (digits.length === 16) showError("nik", "");
    });
    form.addEventListener("submit", submit);
    load();
  }

  function cancelForm(root, form) {
    const office = root.dataset.office;
    const code = root.dataset.code;
    const error = $("cancel-error");
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const nik = $("cancel-nik").value.replace(/\D/g, "");
      error.hidden = true;
      if (nik.length !== 16) { error.textContent = t("booking.form.nik_bad"); error.hidden = false; return; }
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        await api("POST", "/api/v1/offices/" + encodeURIComponent(office) + "/bookings/" + encodeURIComponent(code)
                  + "/cancel", {nik});
        window.location.reload();
        return;
      } catch (err) {
        error.textContent = !err.status ? t("booking.error.network")
          : err.status === 404 ? t("booking.done.cancel_not_found")
          : err.status === 409 ? t("booking.done.cancel_failed")
          : err.status === 429 ? t("booking.error.too_many") : localMessage(err.message);
        error.hidden = false;
      }
      button.disabled = false;
    });
  }

  const app = $("booking-app");
  if (app) bookingPage(app);
  const done = $("booking-done");
  const cancel = $("cancel-form");
  if (done && cancel) cancelForm(done, cancel);
  scriptReady();  // the forms' handlers are attached
})();
