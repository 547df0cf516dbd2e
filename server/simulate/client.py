"""HTTP and websocket clients of the simulation: the REST API (staff or device) and a TV.

Only the public interfaces are used: ``/api/v1`` with a staff session cookie plus the
``X-CSRFToken`` header, or a device ``Authorization: Bearer`` token; Socket.IO over the
websocket transport with ``auth={"token": display token}`` (server/realtime/handlers.py).
"""
from __future__ import annotations

import threading
import time

import click
import requests
import socketio


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
    """A waiting-room TV on the websocket: counts ``call`` events and sequence numbers.

    Handlers run in threads of their own (python-engineio), so arrival order may differ
    from emit order: ``gaps`` counts numbers never received (checked against a final
    ``sync``), ``out_of_order`` counts arrivals with seq != last + 1.
    """

    def __init__(self, base: str, token: str) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.lock = threading.Lock()
        self.calls = 0
        self.seqs: set[int] = set()
        self.last = self.base_seq = 0
        self.out_of_order = 0
        for name in ("ticket", "call", "counter", "resync"):
            self.sio.on(name, self._handler(name))
        self.sio.connect(base, transports=["websocket"], auth={"token": token}, wait_timeout=10)
        self.base_seq = self.last = int(self.sio.call("sync", {}, timeout=10)["seq"])

    def _handler(self, name: str):
        def handle(data):
            seq = int(data.get("seq", -1))
            with self.lock:
                self.calls += name == "call"
                self.out_of_order += seq != self.last + 1
                self.last = max(self.last, seq)
                self.seqs.add(seq)
        return handle

    def finish(self, calls_made: int, timeout_s: float = 5.0) -> dict:
        """Wait up to ``timeout_s`` seconds for ``calls_made`` call events, then disconnect;
        {"calls_received", "calls_made", "gaps", "out_of_order", ...} (gaps up to a final sync)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.calls < calls_made:
            time.sleep(0.05)
        time.sleep(0.2)
        final = int(self.sio.call("sync", {}, timeout=10)["seq"])
        self.sio.disconnect()
        with self.lock:
            missing = set(range(self.base_seq + 1, final + 1)) - self.seqs
            return {"calls_received": self.calls, "calls_made": calls_made, "gaps": len(missing), "out_of_order": self.out_of_order,
                    "messages_received": len(self.seqs), "last_seq": final}
