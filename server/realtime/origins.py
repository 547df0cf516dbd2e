"""Which browser origins may open a Socket.IO connection (issue 13, "Browsers and transports").

python-engineio checks the ``Origin`` header of every connection (polling and websocket)
against ``cors_allowed_origins``; ``[]`` switches the check off (any web site could open
a socket with a signed-in officer's cookie and follow the staff stream), so Loket passes
:func:`origin_checker`'s callable instead:

- a connection **without** an ``Origin`` header is allowed: browsers always send one on a
  websocket handshake, so its absence means a non-browser client (whose cookies no other
  site can borrow);
- an ``Origin`` equal to the public URL's origin (``LOKET_PUBLIC_URL``) is allowed;
- an ``Origin`` whose host[:port] is the request's own ``Host`` is allowed (same-origin
  pages when ``LOKET_PUBLIC_URL`` is unset or names another address, e.g. the demo on
  127.0.0.1; the scheme is not compared, so a TLS-terminating proxy that keeps the Host
  header works too). The Python agents (websocket-client) send ``Origin:
  http(s)://<the host:port they connect to>``, which is that Host, so they pass;
- with ``LOKET_PROXY_COUNT`` = N > 0 the N-th last ``X-Forwarded-Host`` counts as the
  request's host too (what Werkzeug's ProxyFix would take);
- anything else (another site, ``null``) is refused: engineio answers 400 "Not an
  accepted origin." before any Socket.IO handler runs.

Every Loket client connects over the websocket transport only (pages: static/js/loket.js,
pickup_lane.js; agents: drivers/station.py, drivers/stream), so the server allows only
that transport (``TRANSPORTS``): no long-polling sessions, which would need sticky
sessions across workers anyway.
"""
from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

TRANSPORTS = ["websocket"]


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased ("" when it has none)."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_checker(public_url: str = "", proxy_count: int = 0) -> Callable[[str | None, dict], bool]:
    """A ``cors_allowed_origins`` callable for python-engineio: ``check(origin, environ)``
    answers True when the connection may proceed (rules in the module docstring).
    ``public_url``: LOKET_PUBLIC_URL (may be ""); ``proxy_count``: LOKET_PROXY_COUNT.
    Never raises."""
    allowed = {o for o in (_origin(public_url),) if o}

    def check(origin: str | None, environ: dict | None = None) -> bool:
        if not origin:
            return True
        origin = origin.strip().lower()
        if origin in allowed:
            return True
        netloc = urlsplit(origin).netloc
        if not netloc:
            return False
        environ = environ or {}
        hosts = [environ.get("HTTP_HOST", "")]
        if proxy_count > 0:
            forwarded = [h.strip() for h in environ.get("HTTP_X_FORWARDED_HOST", "").split(",") if h.strip()]
            if len(forwarded) >= proxy_count:
                hosts.append(forwarded[-proxy_count])
        return any(h and netloc == h.lower() for h in hosts)

    return check
