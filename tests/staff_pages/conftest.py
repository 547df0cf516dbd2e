"""Fixtures for the staff pages in a real browser: a live Loket server and headless Chromium.

``staff_server`` runs the real app (SQLite file, demo office, threading Socket.IO) on a free
port in a daemon thread; ``chromium`` is one headless Chromium per session; ``staff_page``
opens a fresh browser context and signs a demo officer in.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from server import create_app
from server.config import TestingConfig
from server.demo import DEMO_PASSWORD, seed_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}  # the counter PC


@dataclass
class LiveServer:
    """A running Loket server: its base URL, app, office code and device tokens."""

    url: str
    app: object
    office: str
    tokens: dict = field(default_factory=dict)

    def issue(self, service: str = "ktp_el", priority_kind: str | None = None) -> dict:
        """Take a ticket at the kiosk (device token); returns the ticket."""
        res = requests.post(f"{self.url}/api/v1/offices/{self.office}/tickets",
                            json={"service": service, "priority_kind": priority_kind},
                            headers={"Authorization": f"Bearer {self.tokens['kiosk']}"}, timeout=10)
        assert res.status_code == 201, res.text
        return res.json()["ticket"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def staff_server(sqlite_url, tmp_path) -> LiveServer:
    """A fresh Loket server with the demo office, listening on 127.0.0.1."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    seeded = seed_demo(app.extensions["loket"].db, tmp_path)
    port = _free_port()
    socketio = app.extensions["loket"].socketio
    thread = threading.Thread(
        target=socketio.run, args=(app,),
        kwargs={"host": "127.0.0.1", "port": port, "allow_unsafe_werkzeug": True,
                "use_reloader": False, "log_output": False},
        daemon=True,
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            if requests.get(f"{url}/login", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.1)
    yield LiveServer(url, app, seeded["office"], seeded["tokens"])
    app.extensions["loket"].db.dispose()


@pytest.fixture(scope="session")
def chromium(browser):
    """The session's headless Chromium (tests/conftest.py: one per process)."""
    return browser


def sign_in(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Fill the login form and wait for the home page."""
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url(f"{base_url}/")


@pytest.fixture
def new_page(chromium, staff_server):
    """new_page(username=None, lang=None) → a page in its own browser context (own cookies),
    signed in as ``username`` when given. Contexts are closed after the test."""
    contexts = []

    def make(username: str | None = None):
        context = chromium.new_context(viewport=VIEWPORT, locale="id-ID")
        context.set_default_timeout(8000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        if username:
            sign_in(page, staff_server.url, username)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(artifacts) -> Path:
    """Where screenshots go (the shared artifacts directory)."""
    return artifacts
