"""Browser fixtures: a real Loket server (threading Socket.IO) and headless Chromium.

``live_server`` starts the app on a free port in a daemon thread, seeded with the demo
office; ``browser`` is one Chromium for the session (the Debian package, never a
downloaded one). ``staff`` logs a front-office user in through the REST API, like the
counter console does, to drive counters from a test.
"""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """A running Loket server: its base URL, the app, the demo office code and device tokens."""

    url: str
    app: object
    office: str
    tokens: dict
    data_dir: Path
    sessions: list = field(default_factory=list)

    @property
    def db(self):
        return self.app.extensions["loket"].db

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

    def kiosk_state(self) -> dict:
        r = requests.get(f"{self.url}/api/v1/offices/{self.office}/state", params={"audience": "kiosk"},
                         headers={"Authorization": f"Bearer {self.tokens['kiosk']}"}, timeout=10)
        r.raise_for_status()
        return r.json()

    def staff(self, username: str = "fo1", password: str = "demo1234") -> "Staff":
        """A signed-in staff session (CSRF token fetched, login posted)."""
        s = requests.Session()
        csrf = s.get(f"{self.url}/api/v1/auth/csrf", timeout=10).json()
        s.headers["X-CSRFToken"] = csrf["csrf_token"]
        r = s.post(f"{self.url}/api/v1/auth/login", json={"username": username, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        s.headers["X-CSRFToken"] = r.json().get("csrf_token") or csrf["csrf_token"]
        self.sessions.append(s)
        return Staff(self, s)


@dataclass
class Staff:
    """A front-office officer driving counters through the REST API."""

    server: LiveServer
    http: requests.Session

    def counters(self) -> dict[int, dict]:
        r = self.http.get(f"{self.server.url}/api/v1/offices/{self.server.office}/counters", timeout=10)
        r.raise_for_status()
        return {c["number"]: c for c in r.json()["counters"]}

    def act(self, number: int, action: str, **body) -> dict:
        counter_id = self.counters()[number]["id"]
        r = self.http.post(f"{self.server.url}/api/v1/counters/{counter_id}/{action}", json=body, timeout=10)
        assert r.status_code == 200, f"{action} at counter {number}: {r.status_code} {r.text}"
        return r.json()


@pytest.fixture
def live_server(sqlite_url, tmp_path):
    """A Loket server on 127.0.0.1:<free port> with the demo office (SQLite, threading)."""
    from server import create_app
    from server.config import TestingConfig
    from server.demo import seed_demo

    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    seeded = seed_demo(app.extensions["loket"].db, tmp_path)
    port = _free_port()
    socketio = app.extensions["loket"].socketio
    thread = threading.Thread(
        target=socketio.run, args=(app,),
        kwargs=dict(host="127.0.0.1", port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False),
        daemon=True, name=f"loket-live-{port}",
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if requests.get(f"{url}/api/v1/offices/{seeded['office']}", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.1)
    server = LiveServer(url, app, seeded["office"], seeded["tokens"], tmp_path)
    yield server
    for s in server.sessions:
        s.close()
    app.extensions["loket"].db.dispose()


@pytest.fixture
def page_factory(browser):
    """new_page(width, height, **context options) → a page in a fresh context; closed after."""
    contexts = []

    def make(width: int = 1280, height: int = 800, **opts):
        ctx = browser.new_context(viewport={"width": width, "height": height}, **opts)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(10000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
