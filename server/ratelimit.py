"""Rate limits on the public booking endpoints (issue 6, "per-IP and per-NIK rate limits";
issue 13: the second one counts per contact, not per NIK).

Flask-Limiter, one ``Limiter`` per app (``app.extensions["loket_limiter"]``), keyed by the
remote address, stored in Redis when ``LOKET_REDIS_URL`` is set (shared by every worker)
and in process memory otherwise. There are NO default limits: only views marked with
:func:`rate_limited` are limited, and only as configured:

- ``BOOKING_RATE_LIMIT`` (env ``LOKET_BOOKING_RATE_LIMIT``, default "10/minute;100/hour"):
  per client IP, on booking, confirming the code and cancelling (each view counted on its
  own);
- ``BOOKING_CONTACT_RATE_LIMIT`` (env ``LOKET_BOOKING_CONTACT_RATE_LIMIT``, default
  "5/hour"): per contact (the WhatsApp number, else the e-mail, normalised as
  ``services.booking.contacts`` does), on booking only: how many codes one number or
  address can be sent. Not per NIK (issue 13): a limit keyed by the NIK would let someone
  who knows a NIK use it up and keep its owner from booking. The key is an HMAC of the
  contact (the secret key), so Redis never holds a number; a body without a contact is
  not counted (it is refused as invalid anyway).

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

from .i18n.catalogs import bilingual, translate
from .services.booking.contacts import normalise

_MARK = "_loket_rate_limit"


def MESSAGE() -> str:  # noqa: N802 - Flask-Limiter's error_message (a callable is read per refusal)
    """The refusal's text in both languages (the API answers it in the caller's, :func:`_too_many`)."""
    return bilingual("api.rate_limited")


#: Per-IP limits of other public forms: kind -> config key ("" disables it).
_OWN_LIMITS = {"complaint": "COMPLAINT_RATE_LIMIT", "complaint_status": "COMPLAINT_STATUS_RATE_LIMIT"}


def _config_limit(key: str):
    return lambda: current_app.config.get(key) or ""


def rate_limited(kind: str):
    """Mark a view for limiting: ``"booking"`` (per IP and per contact) or ``"cancel"`` /
    ``"confirm"`` (per IP);
    ``"complaint"`` / ``"complaint_status"`` (per IP: the public AKAPELA form and status
    look-up, ``COMPLAINT_RATE_LIMIT`` / ``COMPLAINT_STATUS_RATE_LIMIT``, issue 7).
    The limits are attached by :func:`init_ratelimit` to the app's view functions."""
    assert kind in ("booking", "cancel", "confirm", *_OWN_LIMITS), kind

    def mark(view):
        setattr(view, _MARK, kind)
        return view
    return mark


def _ip_limit() -> str:
    return current_app.config.get("BOOKING_RATE_LIMIT") or ""


def _contact_limit() -> str:
    return current_app.config.get("BOOKING_CONTACT_RATE_LIMIT") or ""


def _body_contact() -> str:
    """The normalised contact of the JSON body: "tel:<msisdn>" of "phone", else
    "mail:<address>" of "email"; "" when there is none. Never raises."""
    data = request.get_json(silent=True) if request.is_json else None
    if not isinstance(data, dict):
        return ""
    for field, kind in (("phone", "tel"), ("email", "mail")):
        value = data.get(field)
        if isinstance(value, str) and value.strip():
            return f"{kind}:{normalise(kind, value[:200])}"
    return ""


def contact_key() -> str:
    """The per-contact limit key: "contact:" + HMAC-SHA256(secret key, contact), truncated."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), _body_contact().encode(), hashlib.sha256)
    return "contact:" + digest.hexdigest()[:32]


def _retry_after() -> int | None:
    """Seconds until the limit that was hit resets (None when unknown); never raises."""
    import time

    try:
        limit = current_app.extensions["loket_limiter"].current_limit
        return max(1, int(limit.reset_at - time.time())) if limit is not None else None
    except Exception:  # noqa: BLE001 - only a hint on the page
        return None


def _too_many(exc: RateLimitExceeded):
    """API: JSON ``{"error": "too_many_requests", "message"}``; a page (a citizen's public
    form, the sign-in): the "too many requests" page (templates/too_many.html), both 429."""
    if not request.path.startswith("/api/"):
        from flask import render_template

        return render_template("too_many.html", retry_after=_retry_after(), back=request.path), 429
    from .api_errors import api_language

    return jsonify(error="too_many_requests", message=translate("api.rate_limited", api_language())), 429


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
            wrapped = limiter.limit(_contact_limit, key_func=contact_key, scope="contact",
                                    exempt_when=lambda: not _contact_limit() or not _body_contact(),
                                    error_message=MESSAGE)(wrapped)
        app.view_functions[endpoint] = wrapped
    app.register_error_handler(429, _too_many)
    app.extensions["loket_limiter"] = limiter
    return limiter
