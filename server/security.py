"""Who is calling: staff (Flask-Login session) or a device (bearer token); access checks.

Device tokens come in ``Authorization: Bearer <token>`` (agents, scripts) or ``?token=``
(pages opened on a kiosk or TV with their token in the URL). Requests authenticated by a
device token skip CSRF (no cookie is involved); every other unsafe request needs the CSRF
token (``X-CSRFToken`` header or form field), including staff API calls, except a JSON
request to a view marked :func:`public_json` (see there: anonymous public views that no
cookie authenticates, e.g. the citizen's booking POST).
"""
from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect

from .models import DeviceKind, Role
from .services.accounts import authenticate_device, hash_token
from .services.actors import PUBLIC, Actor

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
_PUBLIC_JSON = "_loket_public_json"
#: What each device kind may change; a display may read but never change state.
DEVICE_WRITES = {DeviceKind.KIOSK.value: {"issue_ticket", "print_report"}}


def request_token() -> str | None:
    """The device token of this request, if any."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    if request.path.startswith("/api/"):
        return request.args.get("token") or None
    return None  # a page's ?token= is for its script, which checks it and explains failures


def public_json(view):
    """Mark an anonymous public view whose JSON requests need no CSRF token.

    Why that is safe, and for which views only: CSRF is a browser sending a request that
    the user's cookies authenticate. A view may be marked only when no cookie authenticates
    anything it does: it reads neither the staff login nor the session (the actor is
    ``PUBLIC``; what it may do follows from the body alone, e.g. a booking for the NIK in
    the body, limited per IP and per NIK). A forged cross-site request could then only do
    what the attacker can do directly, except borrow the victim's address for the per-IP
    limit, and even that is closed: the exemption covers only requests with
    ``Content-Type: application/json`` whose ``Origin``, when the browser sends one, is
    this host. A cross-site page cannot send such a request: a JSON body needs a CORS
    preflight, which Loket never grants (it sends no Access-Control-* headers); forms and
    ``text/plain`` bodies are no JSON. Every other request to the view (a form, another
    origin, a mismatch after an unconfigured proxy) needs the CSRF token as before, so the
    booking page, which still sends it, works either way.

    What it saves: the public booking page no longer needs a session and a token, so a
    citizen's browser (or script) books with one request, not a token fetch and a POST.
    """
    setattr(view, _PUBLIC_JSON, True)
    return view


_CITIZEN_FORM = "_loket_citizen_form"


def citizen_form(view):
    """Mark a citizen's public HTML form view (no staff login behind it, e.g. the AKAPELA
    web form): a POST to it without a valid CSRF token (the browser lost its session
    cookie) gets a page that keeps what was typed and sends it again with a fresh token,
    instead of the staff sign-in page every other page form falls back to."""
    setattr(view, _CITIZEN_FORM, True)
    return view


def _public_json_request() -> bool:
    """True for a JSON request to a :func:`public_json` view from no or the same origin."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, _PUBLIC_JSON, False) or not request.is_json:
        return False
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def init_security(app: Flask, csrf: CSRFProtect) -> None:
    """Before each request: resolve the device of token requests and apply CSRF otherwise,
    then load the signed-in staff user (before any view's transaction, see there)."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.register_error_handler(CSRFError, _csrf_failed)

    @app.before_request
    def _authenticate():
        g.device = None
        token = request_token()
        if token:
            device = _device_for(token)
            if device is None:
                return jsonify(error="invalid_token", message="invalid or revoked device token"), 401
            g.device = device
        elif request.method in UNSAFE and not _public_json_request():
            csrf.protect()

    @app.before_request
    def _load_user_first():
        # The signed-in staff user, resolved now, before any view opens its transaction
        # (issue 13): Flask-Login loads it lazily, on the first use of ``current_user`` (a
        # view's ``current_actor()`` or ``office_allowed()``, and every ``render_template``:
        # its context processor), and its loader reads caches that open a session of their
        # own on a miss (``web.user_cache``, ``web.sessions``). Inside a view's SQLite
        # transaction (BEGIN IMMEDIATE) that session would wait on the view's own lock for
        # the busy timeout: 30 s in which a gevent process (``loket demo``) answers nobody
        # (``db.guard_nested_transactions`` now refuses it at once). Static files need no user.
        if request.endpoint != "static":
            current_user._get_current_object()


DEVICE_CACHE_S = 15.0  # a revoked token stops working within this many seconds


def _device_for(token: str):
    """The device of ``token`` (detached, read-only), from a per-process cache that saves a
    database transaction on every kiosk and display request; None for a bad token.
    Revoking a device takes effect within DEVICE_CACHE_S seconds."""
    cache = current_app.extensions.setdefault("loket_device_cache", {})
    key = hash_token(token)
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and hit[1] > now:
        return hit[0]
    with current_app.extensions["loket"].db.session() as s:
        device = authenticate_device(s, token)
        if device is not None:
            s.expunge(device)
    if device is not None:
        if len(cache) > 1000:
            cache.clear()
        cache[key] = (device, now + DEVICE_CACHE_S)
    return device


def _csrf_failed(exc: CSRFError):
    """API callers get JSON ``{"error": "csrf_failed", "message"`` (the caller's language),
    ``"details": {"reason"}`` (Flask-WTF's English reason)``}``. A staff page form (expired session, restarted browser) goes
    back to the sign-in page with a message instead of a bare 400 page. A citizen's public
    form (a :func:`citizen_form` view, e.g. the complaint form) gets a page that
    keeps what was typed and sends it again with a fresh token at one tap (status 400), so
    a lost session cookie loses nothing and never leads a citizen to the staff sign-in."""
    from flask import render_template

    if request.path.startswith("/api/"):
        from .api_errors import api_language
        from .i18n.catalogs import translate

        return jsonify(error="csrf_failed", message=translate("api.csrf_failed", api_language()),
                       details={"reason": exc.description}), 400

    from .i18n import current_language, translate

    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, _CITIZEN_FORM, False) and request.method == "POST" and not request.files:
        fields = [(k, v) for k, v in request.form.items(multi=True)
                  if k != "csrf_token" and "password" not in k]
        return render_template("csrf_retry.html", action=request.full_path.rstrip("?"), fields=fields), 400
    flash(translate("login.session_expired", current_language()), "error")
    return redirect(url_for("web.login"))


def current_actor() -> Actor:
    """The Actor of this request: the device, the logged-in staff user, or the public."""
    device = g.get("device")
    if device is not None:
        return Actor("device", device.id, office_id=device.office_id, device_kind=device.kind)
    if current_user.is_authenticated:
        return Actor("staff", current_user.id, office_id=current_user.office_id, role=current_user.role)
    return PUBLIC


def require(*, roles=(), devices=(), action: str | None = None):
    """Decorator: allow staff holding one of ``roles`` (any staff when empty and no devices
    given) and devices of the kinds in ``devices`` allowed to perform ``action``.
    Answers 401 when nobody is authenticated and 403 when the caller lacks the right."""
    role_names = {r.value if isinstance(r, Role) else r for r in roles}

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            device = g.get("device")
            if device is not None:
                if device.kind not in devices:
                    abort(403)
                if action and request.method in UNSAFE and action not in DEVICE_WRITES.get(device.kind, ()):
                    abort(403)
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                abort(401)
            if role_names and not current_user.has_role(*role_names):
                abort(403)
            return view(*args, **kwargs)

        return inner

    return wrap


def office_allowed(office_id: int | None) -> bool:
    """True when this request's caller may read or act on ``office_id``: the office scope
    rule ``Actor.may_access`` (issue 13) applied to ``current_actor()``."""
    return current_actor().may_access(office_id)


def require_office(office_id: int | None) -> None:
    """Abort 403 unless this request's caller may act on ``office_id`` (``office_allowed``)."""
    if not office_allowed(office_id):
        abort(403)


def scoped(stmt, office_column):
    """``stmt`` (a SELECT) limited to the offices this request's caller may see, by the same
    rule as ``office_allowed``: every office for a system-wide actor, the caller's own for
    everyone else, none for an actor without an office (e.g. the public)."""
    from sqlalchemy import false

    actor = current_actor()
    if actor.system_wide:
        return stmt
    if actor.office_id is None:
        return stmt.where(false())
    return stmt.where(office_column == actor.office_id)
