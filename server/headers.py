"""Security headers on every response (issue 13, "Browsers and transports"), with Flask-Talisman.

- **Content-Security-Policy**: scripts, styles, images, media, fonts and connections from
  this origin only (``'self'`` includes the same-origin ``ws:``/``wss:`` of Socket.IO);
  no inline script: each page loads one ES module (``<script type="module"
  nonce="{{ csp_nonce() }}" src=…>``) and gets its data from ``<script
  type="application/json">`` blocks (``loket-i18n``, ``loket-data``), which are data,
  not script; no ``eval``, no inline event handlers
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

Session cookie flags stay as ``server.config`` sets them (Talisman is told not to touch them).
"""
from __future__ import annotations

from flask import Flask, request
from flask_talisman import Talisman

#: The Content-Security-Policy (Talisman adds the nonce to script-src and style-src).
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
REFERRER_POLICY = "strict-origin"
TOKEN_PAGE_REFERRER_POLICY = "no-referrer"


def init_headers(app: Flask) -> Talisman:
    """Attach the security headers to every response of ``app`` (call early in the app
    factory, before other before_request hooks, so even their early answers get a nonce).
    Returns the Talisman instance (``app.extensions["loket_talisman"]``); raises nothing."""
    @app.after_request  # registered before Talisman's, so it runs after it (reverse order)
    def _token_page_referrer(response):
        if request.args.get("token") and response.mimetype == "text/html":
            response.headers["Referrer-Policy"] = TOKEN_PAGE_REFERRER_POLICY
        return response

    talisman = Talisman(
        app,
        force_https=False,
        strict_transport_security=True,
        strict_transport_security_include_subdomains=False,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src", "style-src"],
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        session_cookie_secure=False,  # server.config decides (LOKET_INSECURE_COOKIES)
        session_cookie_http_only=bool(app.config.get("SESSION_COOKIE_HTTPONLY", True)),
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
    )

    app.extensions["loket_talisman"] = talisman
    return talisman
