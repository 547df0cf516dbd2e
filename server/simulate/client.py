"""HTTP and websocket clients of the simulation: the REST API (staff or device) and a TV.

Only the public interfaces are used: ``/api/v1`` with a staff session cookie plus the
``X-CSRFToken`` header, or a device ``Authorization: Bearer`` token; Socket.IO over the
websocket transport with ``auth={"token": display token}`` (server/realtime/handlers.py).
"""
from __future__ import annotations

import time

import click
import requests


class Api:
    """A requests session on the server's ``/api/v1`` (staff cookie + CSRF, or device token).

    Every non-2xx answer, other than those listed in ``allow``, raises click.ClickException
    with a one-line message naming the request, the status and the server's error.
    """

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def login(self, username: str, password: str) -> None:
        """Sign in as staff (session cookie) and keep the CSRF token for unsafe requests."""
        self.http.headers["X-CSRFToken"] = self.call("GET", "/auth/csrf")["csrf_token"]
        self.http.headers["X-CSRFToken"] = self.call(
            "POST", "/auth/login", {"username": username, "password": password})["csrf_token"]

    def call(self, method: str, path: str, data: dict | None = None, allow: tuple[int, ...] = ()) -> dict | None:
        """The JSON answer; None for a status in ``allow``. Raises click.ClickException."""
        resp = self.http.request(method, self.base + path, json=data, timeout=30)
        if resp.status_code in allow:
            return None
        if resp.status_code >= 400:
            try:
                err = resp.json()
                detail = f"{err.get('error')}: {err.get('message')}"
            except ValueError:
                detail = resp.text.strip().splitlines()[0][:120] if resp.text.strip() else resp.reason
            raise click.ClickException(f"{method} {path} answered {resp.status_code} ({detail})")
        return resp.json()


class Display:
    """A waiting-room TV on the websocket that follows the TV page's logic
    (:class:`server.simulate.tv.TvScreen`): counts the calls it shows and speaks."""

    def __init__(self, base: str, token: str) -> None:
        from .tv import TvScreen

        self.screen = TvScreen(base, token).start()
        self.sio = self.screen.sio

    def finish(self, calls_made: int, timeout_s: float = 5.0) -> dict:
        """Wait up to ``timeout_s`` seconds for ``calls_made`` calls, then disconnect;
        {"calls_received", "calls_made", "calls_spoken", "spoken_twice", "gaps" (calls
        never shown), "syncs" (sync requests: connect, gaps, resyncs)}."""
        screen = self.screen
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(screen.received) < calls_made:
            time.sleep(0.05)
        time.sleep(0.2)
        screen.stop()
        with screen.lock:
            received, spoken = len(screen.received), screen.spoken
            twice = len(spoken) - len(set(spoken))
        return {"calls_received": received, "calls_made": calls_made, "calls_spoken": len(set(spoken)),
                "spoken_twice": twice, "gaps": max(0, calls_made - received), "syncs": screen.stream.cursor.syncs}
