"""A real Loket server in the test process, and waiting on live things.

:func:`serve_demo` creates the app (``TestingConfig``, threading Socket.IO) on a database
URL, seeds the demo office and serves it on 127.0.0.1:<free port> as a :class:`LiveServer`:
Werkzeug in a daemon thread, which is what ``socketio.run`` does in threading mode. The
server can be stopped (listening ends, every Socket.IO client is dropped) and started
again on the same port, so a test can take it away from an agent and give it back.
``tests/conftest.py`` wraps it as the ``live_server`` fixture.

:func:`free_port` serves these and the subprocess servers of ``tests/procs.py`` (a port of
this pytest-xdist worker's own, tests/workers.py);
:func:`wait_http` waits until a URL answers, :func:`wait_for` until a condition holds.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from server import create_app
from server.config import TestingConfig
from server.demo import DEMO_PASSWORD, seed_demo
from tests.workers import free_ports


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, of this xdist worker's own ports
    (:func:`tests.workers.free_ports`)."""
    return free_ports(1)


def wait_for(predicate, timeout: float = 10.0, what: str = "condition", interval: float = 0.02):
    """Poll ``predicate`` every ``interval`` s until it returns a truthy value (returned);
    fail the test after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def wait_http(url: str, timeout: float = 30.0, proc=None) -> None:
    """Return once ``url`` answers below 500; TimeoutError after ``timeout`` s, or as soon
    as ``proc`` (the server's process, when given) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise TimeoutError(f"{url}: the server process exited ({proc.returncode})")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Staff:
    """An officer driving counters through the REST API (login and CSRF as the console does)."""

    def __init__(self, base: str, username: str, password: str = DEMO_PASSWORD, office: str = "DEMO") -> None:
        self.base, self.office = base, office
        self.http = requests.Session()
        csrf = self.http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        self.http.headers["X-CSRFToken"] = csrf
        r = self.http.post(f"{base}/api/v1/auth/login", json={"username": username, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        self.http.headers["X-CSRFToken"] = r.json().get("csrf_token") or csrf

    def counters(self) -> dict[int, dict]:
        r = self.http.get(f"{self.base}/api/v1/offices/{self.office}/counters", timeout=10)
        r.raise_for_status()
        return {c["number"]: c for c in r.json()["counters"]}

    def act(self, number: int, action: str, **body) -> dict:
        counter_id = self.counters()[number]["id"]
        r = self.http.post(f"{self.base}/api/v1/counters/{counter_id}/{action}", json=body, timeout=10)
        assert r.status_code == 200, f"{action} at counter {number}: {r.status_code} {r.text}"
        return r.json()

    def current(self, number: int) -> str | None:
        current = self.counters()[number]["current"]
        return current["number"] if current else None


class LiveServer:
    """A Loket app served by Werkzeug in a thread on 127.0.0.1:``port``: its base ``url``,
    the ``app``, the demo ``office`` code, the seeded device ``tokens`` and ``data_dir``."""

    def __init__(self, app, port: int | None = None, *, office: str = "DEMO", tokens: dict | None = None,
                 data_dir: Path | None = None) -> None:
        self.app = app
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.office, self.tokens, self.data_dir = office, dict(tokens or {}), data_dir
        self.sessions: list[requests.Session] = []
        self._http = None

    @property
    def db(self):
        return self.app.extensions["loket"].db

    def start(self) -> None:
        """Listen on the port (again) and wait until the office answers."""
        self._http = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                         name=f"loket-live-{self.port}").start()
        wait_http(f"{self.url}/api/v1/offices/{self.office}", timeout=15)

    def stop(self) -> None:
        """Stop listening (refuse new connections) and drop every Socket.IO client."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        sio = self.app.extensions["loket"].socketio.server
        for namespace in ("/", "/staff", "/agents"):  # screens, staff pages, agents
            for sid, _eio_sid in list(sio.manager.get_participants(namespace, None)):
                sio.disconnect(sid, namespace=namespace)

    def kiosk_url(self, **params) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"token": self.tokens["kiosk"], **params}.items())
        return f"{self.url}/kiosk/{self.office}?{query}"

    def display_url(self, **params) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"token": self.tokens["display"], **params}.items())
        return f"{self.url}/display/{self.office}?{query}"

    def issue(self, service: str = "ktp_el", priority_kind: str | None = None) -> dict:
        """Take a ticket as the kiosk device would (REST, Bearer token); the POST answer."""
        r = requests.post(f"{self.url}/api/v1/offices/{self.office}/tickets",
                          json={"service": service, "priority_kind": priority_kind},
                          headers={"Authorization": f"Bearer {self.tokens['kiosk']}"}, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def ticket(self, public_id: str) -> dict:
        """The public view of a ticket (what its status page reads)."""
        r = requests.get(f"{self.url}/api/v1/tickets/{public_id}", timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def kiosk_state(self) -> dict:
        r = requests.get(f"{self.url}/api/v1/offices/{self.office}/state", params={"audience": "kiosk"},
                         headers={"Authorization": f"Bearer {self.tokens['kiosk']}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def staff(self, username: str = "fo1", password: str = DEMO_PASSWORD) -> Staff:
        """A signed-in staff session (CSRF token fetched, login posted); closed afterwards."""
        staff = Staff(self.url, username, password, self.office)
        self.sessions.append(staff.http)
        return staff


@contextmanager
def serve_demo(database_url: str, data_dir: Path, *, start: bool = True, server_class=LiveServer):
    """A :class:`LiveServer` (or ``server_class``) of a new app on ``database_url`` with the
    demo office seeded, ``data_dir`` as its DATA_DIR; started unless ``start`` is False.
    Afterwards: stopped, staff sessions closed, database pool disposed."""
    app = create_app(TestingConfig, DATABASE_URL=database_url, DATA_DIR=data_dir, SOCKETIO_ASYNC_MODE="threading")
    seeded = seed_demo(app.extensions["loket"].db, data_dir)
    server = server_class(app, office=seeded["office"], tokens=seeded["tokens"], data_dir=data_dir)
    try:
        if start:
            server.start()
        yield server
    finally:
        server.stop()
        for session in server.sessions:
            session.close()
        app.extensions["loket"].db.dispose()
