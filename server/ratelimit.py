"""Rate limits on the public booking endpoints (issue 6, "per-IP and per-NIK rate limits").

Flask-Limiter, one ``Limiter`` per app (``app.extensions["loket_limiter"]``), keyed by the
remote address, stored in Redis when ``LOKET_REDIS_URL`` is set (shared by every worker)
and in process memory otherwise. There are NO default limits: only views marked with
:func:`rate_limited` are limited, and only as configured:

- ``BOOKING_RATE_LIMIT`` (env ``LOKET_BOOKING_RATE_LIMIT``, default "10/minute;100/hour"):
  per client IP, on booking and on cancelling (each view counted on its own);
- ``BOOKING_NIK_RATE_LIMIT`` (env ``LOKET_BOOKING_NIK_RATE_LIMIT``, default "5/hour"): per
  NIK, on booking only. The key is an HMAC of the NIK's digits (the secret key), so Redis
  never holds a NIK; a body without a NIK is not counted (it is refused as invalid anyway).

An empty value disables that limit (the burst test and the booking benchmark run with
both empty: their 200+ requests come from one address). Over the limit the answer is 429
``{"error": "too_many_requests", "message": …}`` with ``Retry-After`` (seconds).

The remote address is the TCP peer: behind a reverse proxy it is the proxy, unless the
deployment sets ``LOKET_PROXY_COUNT`` (Werkzeug's ``ProxyFix``, see ``server.config``).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import Flask, current_app, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

_MARK = "_loket_rate_limit"
MESSAGE = ("Terlalu banyak permintaan; coba lagi nanti / Too many requests; please try again later")


#: Per-IP limits of other public forms: kind -> config key ("" disables it).
_OWN_LIMITS = {"complaint": "COMPLAINT_RATE_LIMIT", "complaint_status": "COMPLAINT_STATUS_RATE_LIMIT"}


def _config_limit(key: str):
    return lambda: current_app.config.get(key) or ""


def rate_limited(kind: str):
    """Mark a view for limiting: ``"booking"`` (per IP and per NIK) or ``"cancel"`` (per IP);
    ``"complaint"`` / ``"complaint_status"`` (per IP: the public AKAPELA form and status
    look-up, ``COMPLAINT_RATE_LIMIT`` / ``COMPLAINT_STATUS_RATE_LIMIT``, issue 7).
    The limits are attached by :func:`init_ratelimit` to the app's view functions."""
    assert kind in ("booking", "cancel", *_OWN_LIMITS), kind

    def mark(view):
        setattr(view, _MARK, kind)
        return view
    return mark


def _ip_limit() -> str:
    return current_app.config.get("BOOKING_RATE_LIMIT") or ""


def _nik_limit() -> str:
    return current_app.config.get("BOOKING_NIK_RATE_LIMIT") or ""


def _body_nik() -> str:
    """The digits of the "nik" of the JSON body ("" when there is none); never raises."""
    data = request.get_json(silent=True) if request.is_json else None
    nik = data.get("nik") if isinstance(data, dict) else None
    if not isinstance(nik, str):
        return ""
    return "".join(ch for ch in nik[:64] if ch.isascii() and ch.isdigit())


def nik_key() -> str:
    """The per-NIK limit key: "nik:" + HMAC-SHA256(secret key, NIK digits), truncated."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), _body_nik().encode(), hashlib.sha256)
    return "nik:" + digest.hexdigest()[:32]


def _too_many(exc: RateLimitExceeded):
    if not request.path.startswith("/api/"):  # a public page's form (AKAPELA): plain text
        return MESSAGE, 429, {"Content-Type": "text/plain; charset=utf-8"}
    return jsonify(error="too_many_requests", message=MESSAGE), 429


def init_ratelimit(app: Flask) -> Limiter:
    """Create the app's limiter and attach the limits to the views marked with
    :func:`rate_limited` (call after the blueprints are registered)."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "loket")
    limiter = Limiter(get_remote_address, app=app, default_limits=[], headers_enabled=True,
                      strategy="fixed-window", swallow_errors=True, in_memory_fallback_enabled=True,
                      key_prefix=app.config["RATELIMIT_KEY_PREFIX"])
    for endpoint, view in list(app.view_functions.items()):
        kind = getattr(view, _MARK, None)
        if kind is None:
            continue
        if kind in _OWN_LIMITS:
            limit = _config_limit(_OWN_LIMITS[kind])
            app.view_functions[endpoint] = limiter.limit(limit, exempt_when=lambda limit=limit: not limit(),
                                                         error_message=MESSAGE)(view)
            continue
        wrapped = limiter.limit(_ip_limit, exempt_when=lambda: not _ip_limit(), error_message=MESSAGE)(view)
        if kind == "booking":
            wrapped = limiter.limit(_nik_limit, key_func=nik_key, scope="nik",
                                    exempt_when=lambda: not _nik_limit() or not _body_nik(),
                                    error_message=MESSAGE)(wrapped)
        app.view_functions[endpoint] = wrapped
    app.register_error_handler(429, _too_many)
    app.extensions["loket_limiter"] = limiter
    return limiter
