"""Security headers on every response (issue 13, "Browsers and transports").

- **Content-Security-Policy**: scripts, styles, images, media, fonts and connections from
  this origin only (``'self'`` includes the same-origin ``ws:``/``wss:`` of Socket.IO);
  no inline script except the few ``<script>`` blocks that hand a page its data
  (``window.LOKET_I18N = …``), which carry the per-response nonce
  (``nonce="{{ csp_nonce() }}"``); no ``eval``, no inline event handlers
  (``onclick=``). Inline ``<style>`` blocks carry the nonce too; ``style=`` attributes are
  allowed (``style-src-attr 'unsafe-inline'``: the reports' heat map sets a CSS variable
  per cell; a style attribute cannot run script). ``img-src`` and ``media-src`` also
  allow ``data:``/``blob:`` (the pickup photo preview, the TV's silent audio unlock,
  the kiosk's CSS icons). ``frame-ancestors 'none'``: no page is meant to be embedded.
- **X-Content-Type-Options: nosniff**, **X-Frame-Options: DENY** (for old browsers).
- **Referrer-Policy**: ``strict-origin`` everywhere (a Referer never carries a path or a
  query, so a token in a URL never leaves in one, while Flask-WTF's strict referrer check
  of CSRF over HTTPS, which needs the origin, still passes); ``no-referrer`` on a page
  opened with a device token in its URL (``?token=``: kiosk, TV, survey tablet, pickup
  lane), whose own requests authenticate with that token and need no Referer.
- **Strict-Transport-Security** only on a request that came over HTTPS (``request.is_secure``,
  or X-Forwarded-Proto: https as Talisman reads it; browsers ignore the header over plain
  HTTP anyway). Loket never redirects to HTTPS itself (``force_https`` off: the demo and
  the tests are plain HTTP on 127.0.0.1; put TLS in the reverse proxy).

Session cookie flags stay as ``server.config`` sets them.

- **Permissions-Policy: browsing-topics=()** (Flask-Talisman's default).

Until issue 12 Flask-Talisman 1.1.0 sent them; the headers are still exactly those it sends
with the options issue 13 gave it (``tests/server/test_request_overhead.py`` keeps that
configuration as the reference and compares every header, in order), now computed
once per app instead of on every response (issue 12: Talisman rebuilt the policy text and
its options in three hooks per request, ~70 us): the fixed headers are built once, the CSP
is its text with the nonce put in its two places, and the nonce is made when the answer or
a template first needs it.
"""
from __future__ import annotations

import secrets

from flask import Flask, request

#: The Content-Security-Policy (the nonce is added to script-src and style-src).
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CSP_NONCE_IN = ("script-src", "style-src")
NONCE_LENGTH = 32  # characters of the nonce, as Talisman's
REFERRER_POLICY = "strict-origin"
TOKEN_PAGE_REFERRER_POLICY = "no-referrer"
PERMISSIONS_POLICY = "browsing-topics=()"  # Talisman's default
HSTS = "max-age=31556926"  # one year, no includeSubDomains, no preload


def csp_pieces(policy: dict[str, str], nonce_in=CSP_NONCE_IN) -> tuple[str, ...]:
    """The policy text around its nonces: ``nonce.join(pieces)`` is the header value,
    ``"<directive> <sources>"`` joined by ``"; "``, each directive of ``nonce_in`` followed
    by `` 'nonce-<nonce>'`` (Talisman's format)."""
    mark = "\x00"  # never in a policy
    text = "; ".join(f"{directive} {sources}" + (f" 'nonce-{mark}'" if directive in nonce_in else "")
                     for directive, sources in policy.items())
    return tuple(text.split(mark))


def csp_nonce() -> str:
    """This request's CSP nonce (``request.csp_nonce``), made on first use: 32 URL-safe
    random characters; templates call it as ``csp_nonce()``."""
    nonce = getattr(request, "csp_nonce", None)
    if not nonce:
        nonce = request.csp_nonce = secrets.token_urlsafe(NONCE_LENGTH)[:NONCE_LENGTH]
    return nonce


def init_headers(app: Flask) -> None:
    """Attach the security headers to every response of ``app`` (call first in the app
    factory, so its after_request hook runs after every other one) and expose
    ``csp_nonce()`` to templates; sets SESSION_COOKIE_SAMESITE (default "Lax") and
    SESSION_COOKIE_HTTPONLY (default True) as Talisman did. Returns None."""
    app.config["SESSION_COOKIE_SAMESITE"] = app.config.get("SESSION_COOKIE_SAMESITE", "Lax")
    if app.config.get("SESSION_COOKIE_HTTPONLY", True):
        app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    pieces = csp_pieces(CSP)

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Content-Security-Policy"] = csp_nonce().join(pieces)
        if request.is_secure or request.headers.get("X-Forwarded-Proto", "http") == "https":
            headers["Strict-Transport-Security"] = HSTS
        if request.args.get("token") and response.mimetype == "text/html":
            headers["Referrer-Policy"] = TOKEN_PAGE_REFERRER_POLICY
        else:
            headers["Referrer-Policy"] = REFERRER_POLICY
        return response
