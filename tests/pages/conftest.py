"""Browser fixtures: a real Loket server (threading Socket.IO) and headless Chromium.

``live_server`` (tests/conftest.py, a :class:`tests.live.LiveServer`) starts the app on a
free port in a daemon thread, seeded with the demo office; ``browser`` is one Chromium for
the session (the Debian package, never a downloaded one). ``live_server.staff(...)`` logs
a front-office user in through the REST API, like the counter console does, to drive
counters from a test.
"""
from __future__ import annotations

import pytest


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
