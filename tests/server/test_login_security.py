"""Sign-in hardening (issue 13): throttling and lockout per account name and per address,
the same answer for an unknown name as for a wrong password, CSRF token and session
renewed at sign-in, and ``next=`` only ever to a path of this site."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import DEMO_PASSWORD, seed_demo
from server.models import AuditEntry
from server.web.next_url import is_local_path


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading",
                     LOGIN_USER_LIMIT="3/15 minutes", LOGIN_ADDRESS_LIMIT="6/15 minutes", LOGIN_LOCKOUT_S=900)
    seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def api_login(client, username: str, password: str, address: str = "10.0.0.1"):
    csrf = client.get("/api/v1/auth/csrf", environ_base={"REMOTE_ADDR": address}).get_json()["csrf_token"]
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       headers={"X-CSRFToken": csrf}, environ_base={"REMOTE_ADDR": address})


def page_login(client, username: str, password: str, address: str = "10.0.0.1", next_: str | None = None):
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    url = "/login" if next_ is None else "/login?" + next_
    return client.post(url, data={"csrf_token": token, "username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def _without_token(html: str) -> str:
    return re.sub(r'(value|content|nonce)="[^"]*"', r'\1=""', html)


def test_unknown_name_and_wrong_password_get_identical_answers(app):
    wrong = api_login(app.test_client(), "fo1", "not-the-password")
    unknown = api_login(app.test_client(), "nobody-here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json() == {"error": "invalid_credentials",
                                                       "message": "Nama pengguna atau kata sandi salah"}
    wrong_page = page_login(app.test_client(), "fo1", "not-the-password", address="10.0.0.2")
    unknown_page = page_login(app.test_client(), "nobody-here", "not-the-password", address="10.0.0.2")
    assert wrong_page.status_code == unknown_page.status_code == 200
    assert "Nama pengguna atau kata sandi salah." in wrong_page.get_data(as_text=True)
    assert _without_token(wrong_page.get_data(as_text=True)).replace("fo1", "X") == \
        _without_token(unknown_page.get_data(as_text=True)).replace("nobody-here", "X")
    with app.extensions["loket"].db.session() as s:
        failed = s.scalars(select(AuditEntry).where(AuditEntry.action == "staff.login_failed")).all()
    assert sorted(e.data["username"] for e in failed) == ["fo1", "fo1", "nobody-here", "nobody-here"]


def test_an_account_name_is_locked_after_its_limit_even_for_the_right_password(app):
    for i in range(3):  # failures from different addresses: the name's limit, not the address's
        assert api_login(app.test_client(), "fo1", "wrong", address=f"10.1.0.{i}").status_code == 401
    locked = api_login(app.test_client(), "fo1", DEMO_PASSWORD, address="10.1.0.99")
    assert locked.status_code == 401
    assert locked.get_json() == {"error": "invalid_credentials",
                                 "message": "Nama pengguna atau kata sandi salah; terlalu banyak "
                                            "percobaan: coba lagi nanti"}
    # an unknown name locks the same way and answers the same (nothing tells it does not exist)
    for i in range(3):
        api_login(app.test_client(), "ghost", "wrong", address=f"10.2.0.{i}")
    assert api_login(app.test_client(), "ghost", DEMO_PASSWORD, address="10.2.0.99").get_json() == locked.get_json()
    # the page says the same, in Indonesian
    page = page_login(app.test_client(), "fo1", DEMO_PASSWORD, address="10.3.0.1").get_data(as_text=True)
    assert "Nama pengguna atau kata sandi salah." in page and "Terlalu banyak percobaan masuk" in page
    # other names are not affected
    assert api_login(app.test_client(), "fo2", DEMO_PASSWORD, address="10.1.0.98").status_code == 200


def test_the_lock_ends_after_the_lockout_time(app):
    app.config["LOGIN_LOCKOUT_S"] = 1
    app.config["LOGIN_USER_LIMIT"] = "3/1 second"
    for _ in range(3):
        api_login(app.test_client(), "fo3", "wrong", address="10.4.0.1")
    assert api_login(app.test_client(), "fo3", DEMO_PASSWORD, address="10.4.0.2").status_code == 401
    import time

    time.sleep(2.1)
    assert api_login(app.test_client(), "fo3", DEMO_PASSWORD, address="10.4.0.2").status_code == 200


def test_an_address_is_locked_after_its_limit_for_every_name(app):
    for i in range(6):
        assert api_login(app.test_client(), f"guess{i}", "wrong", address="10.9.9.9").status_code == 401
    assert api_login(app.test_client(), "fo4", DEMO_PASSWORD, address="10.9.9.9").status_code == 401
    assert api_login(app.test_client(), "fo4", DEMO_PASSWORD, address="10.9.9.8").status_code == 200


def test_correct_sign_ins_are_never_counted_and_a_success_forgets_the_names_failures(app):
    for _ in range(10):
        assert api_login(app.test_client(), "fo5", DEMO_PASSWORD).status_code == 200
    for _ in range(2):
        api_login(app.test_client(), "fo5", "wrong", address="10.5.0.1")
    assert api_login(app.test_client(), "fo5", DEMO_PASSWORD, address="10.5.0.1").status_code == 200
    for _ in range(2):  # 2 more: would be 4 > 3 without the reset
        api_login(app.test_client(), "fo5", "wrong", address="10.5.0.1")
    assert api_login(app.test_client(), "fo5", DEMO_PASSWORD, address="10.5.0.2").status_code == 200


def test_the_csrf_token_and_the_session_are_renewed_at_sign_in(app):
    client = app.test_client()
    before = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker before sign-in"
        raw_before = sess["csrf_token"]
    r = client.post("/api/v1/auth/login", json={"username": "fo1", "password": DEMO_PASSWORD},
                    headers={"X-CSRFToken": before})
    after = r.get_json()["csrf_token"]
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["csrf_token"] != raw_before
    assert after != before
    # the old token no longer passes; the new one does
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": before}).status_code == 400
    assert client.post("/api/v1/auth/logout", headers={"X-CSRFToken": after}).status_code == 200


def test_the_page_sign_in_renews_the_csrf_token(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    with client.session_transaction() as sess:
        raw_before = sess["csrf_token"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    r = client.post("/login", data={"csrf_token": token, "username": "fo1", "password": DEMO_PASSWORD})
    assert r.status_code == 302
    client.get("/")  # a page after sign-in makes the new token
    with client.session_transaction() as sess:
        assert sess.get("csrf_token") not in (None, raw_before)


REFUSED = [
    "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "evil.example", "",
    "/%2F%2Fevil.example", "/%2f/evil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%5cevil.example",
    "/%252F%252Fevil.example", "/%09/evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/x",
    "/%0d%0aSet-Cookie:x=1", "/%00", "/\x00", "/\u2028/evil.example", " //evil.example", "\t//evil.example",
    "/" + "a" * 2100,
]
ALLOWED = ["/", "/console", "/reports?from=2026-11-01&to=2026-11-30", "/applications/12#card",
           "/complaints?status=open&q=a%20b", "/reports/waiting?group=service"]


@pytest.mark.parametrize("target", REFUSED)
def test_next_refuses_anything_but_a_path_of_this_site(target):
    assert not is_local_path(target)


@pytest.mark.parametrize("target", ALLOWED)
def test_next_allows_paths_of_this_site(target):
    assert is_local_path(target)


def test_the_login_page_follows_next_only_to_a_local_path(app):
    from urllib.parse import quote

    r = page_login(app.test_client(), "fo1", DEMO_PASSWORD, next_="next=" + quote("/console"))
    assert r.status_code == 302 and r.headers["Location"] == "/console"
    for bad in ("//evil.example", "/%2F%2Fevil.example", "/\\evil.example", "https://evil.example"):
        r = page_login(app.test_client(), "fo1", DEMO_PASSWORD, next_="next=" + quote(bad, safe=""))
        assert r.status_code == 302 and r.headers["Location"] == "/", bad


def test_with_redis_every_worker_shares_the_counts(sqlite_url, tmp_path):
    """Two apps on one Redis (two workers of one deployment): failures on one lock the name
    on the other. A Redis of this test's own: the shared test Redis is reset by other tests."""
    from tests.procs import private_redis

    with private_redis() as (redis_url, _stop, _start):
        shared = {"REDIS_URL": redis_url, "LOGIN_USER_LIMIT": "3/15 minutes", "LOGIN_ADDRESS_LIMIT": "20/15 minutes"}
        apps = [create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path,
                           SOCKETIO_ASYNC_MODE="threading", **shared) for _ in range(2)]
        try:
            seed_demo(apps[0].extensions["loket"].db, tmp_path)
            assert type(apps[0].extensions["loket_limiter"].storage).__name__ == "RedisStorage"
            for i in range(3):
                assert api_login(apps[0].test_client(), "kasi", "wrong", address=f"10.7.0.{i}").status_code == 401
            assert api_login(apps[1].test_client(), "kasi", DEMO_PASSWORD, address="10.7.0.9").status_code == 401
            assert api_login(apps[1].test_client(), "kabid", DEMO_PASSWORD, address="10.7.0.9").status_code == 200
        finally:
            for app in apps:
                app.extensions["loket"].db.dispose()
