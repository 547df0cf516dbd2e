"""The framework cost of every request (issue 12): what was made cheaper keeps its behaviour.

- security headers: byte for byte those Flask-Talisman 1.1.0 sent with Loket's options;
- the limiter's hooks run only on limited views; limited views are still limited;
- the session cookie and the CSRF token verified once are not verified again, and still
  end, expire and mismatch as before;
- the pool's pre-ping skips its round trip only on a quiet connection: a connection the
  server ended is replaced and the request succeeds;
- a lost database is a 503 ``database_unavailable`` on the API, never a 500.
"""
from __future__ import annotations

import time
from datetime import timedelta

import psycopg
import pytest
from flask import Flask, jsonify, render_template_string, request
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from server import create_app, db as db_module
from server.config import TestingConfig
from server.headers import CSP, REFERRER_POLICY, TOKEN_PAGE_REFERRER_POLICY, init_headers
from tests.server.test_api import app, counter_id, post, staff_client  # noqa: F401  (app: both databases)

NONCE = "n" * 32


# -- security headers ----------------------------------------------------------------------

def _talisman_app() -> Flask:
    """The headers as issue 13 set them: Flask-Talisman with Loket's options (the former
    server/headers.py), the nonce fixed for the comparison."""
    from flask_talisman import Talisman

    ref = Flask("talisman_reference")

    @ref.before_request
    def _fixed_nonce():
        request.csp_nonce = NONCE

    @ref.after_request
    def _token_page_referrer(response):
        if request.args.get("token") and response.mimetype == "text/html":
            response.headers["Referrer-Policy"] = TOKEN_PAGE_REFERRER_POLICY
        return response

    Talisman(ref, force_https=False, strict_transport_security=True, strict_transport_security_include_subdomains=False,
             content_security_policy=CSP, content_security_policy_nonce_in=["script-src", "style-src"],
             frame_options="DENY", referrer_policy=REFERRER_POLICY, session_cookie_secure=False,
             session_cookie_http_only=bool(ref.config.get("SESSION_COOKIE_HTTPONLY", True)),
             session_cookie_samesite=ref.config.get("SESSION_COOKIE_SAMESITE", "Lax"))
    return ref


def _loket_app() -> Flask:
    ours = Flask("loket_headers")
    init_headers(ours)

    @ours.before_request
    def _fixed_nonce():
        request.csp_nonce = NONCE

    return ours


def _routes(app: Flask) -> Flask:
    app.add_url_rule("/page", "page", lambda: "<p>page</p>")
    app.add_url_rule("/api/x", "api", lambda: jsonify(ok=True))
    app.add_url_rule("/boom", "boom", lambda: (_ for _ in ()).throw(ValueError("boom")))
    return app


@pytest.mark.parametrize("path, kwargs", [
    ("/page", {}), ("/api/x", {}), ("/missing", {}), ("/page?token=abc", {}), ("/api/x?token=abc", {}),
    ("/page", {"base_url": "https://loket.example"}), ("/api/x", {"headers": {"X-Forwarded-Proto": "https"}}),
    ("/page?token=abc", {"base_url": "https://loket.example"}), ("/boom", {}),
])
def test_security_headers_are_exactly_talismans(path, kwargs):
    ref, ours = _routes(_talisman_app()), _routes(_loket_app())
    expected = ref.test_client().get(path, **kwargs)
    got = ours.test_client().get(path, **kwargs)
    assert got.status_code == expected.status_code
    assert list(got.headers.items()) == list(expected.headers.items())
    for key in ("SESSION_COOKIE_SAMESITE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SECURE"):
        assert ours.config[key] == ref.config[key], key


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

def test_only_limited_views_reach_the_limiter(sqlite_url, tmp_path, monkeypatch):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading",
                     COMPLAINT_STATUS_RATE_LIMIT="2/minute")
    limiter = app.extensions["loket_limiter"]
    checks = []
    real = limiter._check_request_limit
    monkeypatch.setattr(limiter, "_check_request_limit", lambda *a, **k: (checks.append(1), real(*a, **k))[1])
    client = app.test_client()
    r = client.get("/api/v1/offices/NOPE")
    assert r.status_code == 404 and checks == [] and "X-RateLimit-Limit" not in r.headers
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    answers = [client.post("/api/v1/offices/NOPE/complaints/status", json={"number": "X", "check": "1234"},
                           headers={"X-CSRFToken": csrf}) for _ in range(3)]
    assert checks and [r.status_code for r in answers] == [404, 404, 429]
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
    assert "do not match" in r.get_json()["message"]
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
        return admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]


def test_pre_ping_round_trip_only_when_the_connection_may_be_gone(pg_url, monkeypatch):
    pings = _count_pings(monkeypatch)
    engine = db_module.make_engine(pg_url, pool_size=1)
    try:
        for _ in range(5):
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        assert pings == []  # a fresh connection, then a quiet one: no round trip
        assert _terminate_others(pg_url) == 1
        time.sleep(0.2)
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
        time.sleep(0.2)
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
