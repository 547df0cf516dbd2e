"""The framework cost of every request (issue 12): what was made cheaper keeps its behaviour.

- security headers (Flask-Talisman): the CSP nonce is new per answer and the templates' one;
- limited views are still limited, with their X-RateLimit headers;
- the session cookie and the CSRF token (Flask's and Flask-WTF's own checks on every
  request) still end, expire and mismatch: a forged cookie, an old one, another
  session's token, a token after logout;
- the pool's pre-ping skips its round trip only on a quiet connection: a connection the
  server ended is replaced and the request succeeds;
- a lost database is a 503 ``database_unavailable`` on the API, never a 500.
"""
from __future__ import annotations

import time
from datetime import timedelta

import psycopg
import pytest
from flask import Flask, render_template_string
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from server import create_app, db as db_module
from server.config import TestingConfig
from server.headers import init_headers
from tests.server.test_api import app, counter_id, post, staff_client  # noqa: F401  (app: both databases)

# -- security headers (Flask-Talisman) ------------------------------------------------------


def test_nonce_is_new_per_answer_and_the_templates_one():
    ours = Flask("nonce")
    init_headers(ours)
    ours.add_url_rule("/", "page", lambda: render_template_string('<script nonce="{{ csp_nonce() }}"></script>'))
    client = ours.test_client()
    nonces = []
    for _ in range(2):
        r = client.get("/")
        nonce = r.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert len(nonce) == 32 and f'nonce="{nonce}"' in r.get_data(as_text=True)
        assert r.headers["Content-Security-Policy"].count(f"'nonce-{nonce}'") == 2  # script-src, style-src
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# -- rate limiter -------------------------------------------------------------------------------

def test_limited_views_are_still_limited(sqlite_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading",
                     COMPLAINT_STATUS_RATE_LIMIT="2/minute")
    client = app.test_client()
    r = client.get("/api/v1/offices/NOPE")
    assert r.status_code == 404 and "X-RateLimit-Limit" not in r.headers
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    answers = [client.post("/api/v1/offices/NOPE/complaints/status", json={"number": "X", "check": "1234"},
                           headers={"X-CSRFToken": csrf}) for _ in range(3)]
    assert [r.status_code for r in answers] == [404, 404, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    app.extensions["loket"].db.dispose()


# -- session cookie and CSRF token ----------------------------------------------------------

def test_a_remembered_session_cookie_still_expires_and_forgeries_still_fail(app):  # noqa: F811
    client = staff_client(app, "fo1")
    assert client.get("/api/v1/auth/me").status_code == 200
    assert client.get("/api/v1/auth/me").status_code == 200  # from memory
    cookie = client.get_cookie("session").value
    forged = app.test_client()
    forged.set_cookie("session", cookie[:-3] + ("AAA" if not cookie.endswith("AAA") else "BBB"))
    assert forged.get("/api/v1/auth/me").status_code == 401
    time.sleep(1.1)
    app.permanent_session_lifetime = timedelta(seconds=0)  # the cookie is now too old
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_remembered_csrf_token_is_only_good_with_its_own_session(app):  # noqa: F811
    a, b = staff_client(app, "fo1"), staff_client(app, "manager")
    cid = counter_id(app, 1)
    for _ in range(2):  # verified, then remembered
        assert post(a, f"/api/v1/counters/{cid}/open").status_code == 200
    r = b.post(f"/api/v1/counters/{cid}/open", json={}, headers={"X-CSRFToken": a.csrf})
    assert r.status_code == 400 and r.get_json()["error"] == "csrf_failed"
    assert "do not match" in r.get_json()["details"]["reason"]  # Flask-WTF's reason, under the translated message
    r = a.post(f"/api/v1/counters/{cid}/open", json={}, headers={"X-CSRFToken": a.csrf[:-2] + "xx"})
    assert r.status_code == 400 and r.get_json()["error"] == "csrf_failed"
    old = a.csrf
    assert post(a, "/api/v1/auth/logout").status_code in (200, 204)
    r = a.post(f"/api/v1/counters/{cid}/open", json={}, headers={"X-CSRFToken": old})
    assert r.status_code == 400 and r.get_json()["error"] == "csrf_failed"


# -- the pool's pre-ping -------------------------------------------------------------------------

def _count_pings(monkeypatch) -> list:
    """Count the pre-ping round trips of engines made from now on."""
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    pings, loud = [], PGDialect_psycopg.do_ping
    monkeypatch.setattr(PGDialect_psycopg, "do_ping", lambda self, conn: (pings.append(1), loud(self, conn))[1])
    return pings


def _terminate_others(url: str) -> int:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as admin:
        # with a timeout, pg_terminate_backend returns once the backend has exited (PostgreSQL 14+)
        ended = admin.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    assert all(ok for (ok,) in ended), "a backend outlived its termination"
    return len(ended)


def test_pre_ping_round_trip_only_when_the_connection_may_be_gone(pg_url, monkeypatch):
    pings = _count_pings(monkeypatch)
    engine = db_module.make_engine(pg_url, pool_size=1)
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        assert pings == []  # a fresh connection, then a quiet one: no round trip
        assert _terminate_others(pg_url) == 1
        with engine.connect() as conn:  # the server ended it: pinged, replaced
            assert conn.execute(text("SELECT 1")).scalar() == 1
        assert len(pings) == 1
        monkeypatch.setattr(db_module, "PING_IDLE_S", 0.0)  # idle "too long": pinged again
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        assert len(pings) == 2
    finally:
        engine.dispose()


def test_requests_after_the_database_ended_every_connection(pg_url, tmp_path):
    from server.demo import seed_demo

    app = create_app(TestingConfig, DATABASE_URL=pg_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    try:
        tokens = seed_demo(app.extensions["loket"].db, tmp_path)["tokens"]
        officer = staff_client(app, "fo1")
        cid = counter_id(app, 1)
        kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
        assert post(officer, f"/api/v1/counters/{cid}/open").status_code == 200
        for _ in range(3):
            r = app.test_client().post("/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers=kiosk)
            assert r.status_code == 201, r.get_json()
        assert _terminate_others(pg_url) >= 1  # as a restart does to every pooled connection
        r = post(officer, f"/api/v1/counters/{cid}/call-next", {"finish_current": True})
        assert r.status_code == 200, r.get_json()
        r = app.test_client().post("/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers=kiosk)
        assert r.status_code == 201, r.get_json()
    finally:
        app.extensions["loket"].db.dispose()


# -- a lost database ----------------------------------------------------------------------------

def test_a_lost_database_is_a_503_never_a_500(sqlite_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")

    def lost():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    def duplicate():
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    app.add_url_rule("/api/v1/_lost", "lost", lost)
    app.add_url_rule("/api/v1/_duplicate", "duplicate", duplicate)
    app.add_url_rule("/_lost_page", "lost_page", lost)
    client = app.test_client()
    r = client.get("/api/v1/_lost")
    assert r.status_code == 503 and r.get_json()["error"] == "database_unavailable"
    assert "server closed" not in r.get_data(as_text=True)
    with pytest.raises(IntegrityError):  # any other database error: as before (raised in tests)
        client.get("/api/v1/_duplicate")
    with pytest.raises(OperationalError):  # pages: as before
        client.get("/_lost_page")
    app.extensions["loket"].db.dispose()
