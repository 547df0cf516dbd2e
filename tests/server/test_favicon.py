"""The site icon: /favicon.ico answers with the SVG (no 404 in every page's log), and the
pages (staff pages, kiosk, display: all on base.html) link it."""
from __future__ import annotations

import pytest

from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def test_favicon_ico_is_the_svg_with_a_long_cache(app):
    r = app.test_client().get("/favicon.ico")
    assert r.status_code == 200
    assert r.mimetype == "image/svg+xml"
    assert r.data.lstrip().startswith(b"<svg") and b"#073a73" in r.data
    assert r.cache_control.max_age >= 7 * 24 * 3600


@pytest.mark.parametrize("path", ["/login", "/kiosk/DEMO?token=forged", "/display/DEMO?token=forged"])
def test_pages_link_the_icon_and_it_is_served(app, path):
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    assert b'<link rel="icon" type="image/svg+xml" href="/static/img/favicon.svg">' in page.data
    icon = client.get("/static/img/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
