"""Fixtures for the staff pages in a real browser: a live Loket server and headless Chromium.

``staff_server`` runs the real app (SQLite file, demo office, threading Socket.IO) on a free
port in a daemon thread; ``chromium`` is one headless Chromium per session; ``staff_page``
opens a fresh browser context and signs a demo officer in.
"""
from __future__ import annotations

import logging
from pathlib import Path

import pytest

from server.demo import DEMO_PASSWORD
from tests.live import LiveServer, serve_demo

VIEWPORT = {"width": 1366, "height": 768}  # the counter PC


class StaffServer(LiveServer):
    """The live server as these tests use it: :meth:`issue` answers the ticket itself."""

    def issue(self, service: str = "ktp_el", priority_kind: str | None = None) -> dict:
        """Take a ticket at the kiosk (device token); returns the ticket."""
        return super().issue(service, priority_kind)["ticket"]


@pytest.fixture
def staff_server(sqlite_url, tmp_path) -> StaffServer:
    """A fresh Loket server with the demo office, listening on 127.0.0.1."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines
    with serve_demo(sqlite_url, tmp_path, server_class=StaffServer) as server:
        yield server


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
