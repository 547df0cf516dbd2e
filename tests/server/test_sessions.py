"""Staff sessions end on the server (issue 13): sign-out ends every session of the user
(a cookie copied before it, another browser's), a password change too, and an idle
session ends after the office's limit (shorter for admins); pages go to the sign-in page
with a message, the API answers 401, the staff Socket.IO stream refuses the connection."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import DEMO_PASSWORD, seed_demo
from server.models import AuditEntry, Office, StaffUser
from server.services.accounts import set_password
from server.services.actors import SYSTEM
from server.web.sessions import SEEN_KEY, VERSION_KEY, idle_limits


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=db_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def signed_in(app, username: str):
    client = app.test_client()
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    r = client.post("/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD},
                    headers={"X-CSRFToken": csrf})
    assert r.status_code == 200, r.get_json()
    client.csrf = r.get_json()["csrf_token"]
    return client


def copy_of(app, client):
    """A second client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def me(client) -> int:
    return client.get("/api/v1/auth/me").status_code


def test_a_cookie_copied_before_sign_out_fails_after_it(app):
    fo1 = signed_in(app, "fo1")
    stolen = copy_of(app, fo1)
    assert me(stolen) == 200
    assert fo1.post("/api/v1/auth/logout", headers={"X-CSRFToken": fo1.csrf}).status_code == 200
    assert me(fo1) == 401
    r = stolen.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"
    r = stolen.get("/console")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert "Sesi Anda telah diakhiri" in stolen.get(r.headers["Location"]).get_data(as_text=True)
    with app.extensions["loket"].db.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "staff.logout")).one()
        user = s.scalars(select(StaffUser).where(StaffUser.username == "fo1")).one()
    assert entry.entity_id == user.id and user.session_version == 1


def test_sign_out_on_the_page_signs_out_every_browser_of_the_user(app):
    desk = signed_in(app, "fo1")
    laptop = signed_in(app, "fo1")
    other_user = signed_in(app, "fo2")
    assert "Keluar dari semua perangkat" in laptop.get("/").get_data(as_text=True)  # the button says so
    page = laptop.get("/console").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(r'csrf_token" value="([^"]+)"', page)
    r = laptop.post("/logout", data={"csrf_token": token.group(1)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert me(laptop) == 401 and me(desk) == 401
    assert me(other_user) == 200
    again = signed_in(app, "fo1")  # signing in again works, with the new version
    assert me(again) == 200 and me(desk) == 401


def test_another_process_sees_the_sign_out_within_the_cache_time(app, db_url, tmp_path):
    """Two apps on one database are two workers: the other one's user cache may hold the
    old row for up to user_cache.TTL_S; after that the old cookie is refused there too,
    while a new sign-in (a newer version than its cached row) works at once."""
    other = create_app(TestingConfig, DATABASE_URL=db_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    try:
        fo1 = signed_in(app, "fo1")
        on_other = other.test_client()
        on_other.set_cookie("session", fo1.get_cookie("session").value)
        assert me(on_other) == 200  # the other worker caches fo1 at version 0
        fo1.post("/api/v1/auth/logout", headers={"X-CSRFToken": fo1.csrf})
        fresh = signed_in(app, "fo1")  # version 1
        on_other_fresh = other.test_client()
        on_other_fresh.set_cookie("session", fresh.get_cookie("session").value)
        assert me(on_other_fresh) == 200  # newer than the cached row: re-read, accepted
        assert me(on_other) == 401  # that re-read also ended the old cookie there
    finally:
        other.extensions["loket"].db.dispose()


def test_a_password_change_ends_every_session(app):
    fo1 = signed_in(app, "fo1")
    with app.extensions["loket"].db.session() as s:
        uid = s.scalars(select(StaffUser.id).where(StaffUser.username == "fo1")).one()
        set_password(s, uid, "a-new-password-1", actor=SYSTEM)
    assert me(fo1) == 401
    with app.extensions["loket"].db.session() as s:
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "staff.password")) is not None


def _idle(client, seconds: int) -> None:
    with client.session_transaction() as sess:
        sess[SEEN_KEY] = sess[SEEN_KEY] - seconds


def test_an_idle_session_ends_after_the_office_limit(app):
    fo1 = signed_in(app, "fo1")
    _idle(fo1, 7 * 3600)  # under the default 8 h
    assert me(fo1) == 200  # ... and that request counts as activity
    _idle(fo1, 8 * 3600 + 60)
    r = fo1.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.get_json()["error"] == "unauthorized"
    # pages: to the sign-in page, which says why
    page_client = signed_in(app, "fo2")
    _idle(page_client, 9 * 3600)
    r = page_client.get("/console")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login_page = page_client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Sesi Anda berakhir karena lama tidak ada aktivitas" in login_page
    assert login_page.count('data-testid="login-error"') == 1  # one message, in Indonesian


def test_a_page_asks_nobody_to_sign_in_in_the_page_language(app):
    client = app.test_client()
    r = client.get("/console")
    assert r.status_code == 302
    assert "Silakan masuk untuk membuka halaman ini." in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.get("/console?lang=en")
    assert "Please sign in to open this page." in client.get(r.headers["Location"]).get_data(as_text=True)


def test_admins_have_a_shorter_limit_and_offices_set_both(app):
    admin = signed_in(app, "admin")
    _idle(admin, 59 * 60)
    assert me(admin) == 200
    _idle(admin, 61 * 60)
    assert me(admin) == 401
    sysadmin = signed_in(app, "sysadmin")  # no office: the installation's admin default
    _idle(sysadmin, 61 * 60)
    assert me(sysadmin) == 401
    with app.extensions["loket"].db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        office.settings = {**(office.settings or {}), "security": {"idle_timeout_min": 10, "admin_idle_timeout_min": 5}}
    fo1, admin = signed_in(app, "fo1"), signed_in(app, "admin")
    _idle(fo1, 9 * 60)
    _idle(admin, 6 * 60)
    assert me(fo1) == 200 and me(admin) == 401
    _idle(fo1, 11 * 60)
    assert me(fo1) == 401


def test_activity_is_stored_at_most_once_a_minute(app):
    fo1 = signed_in(app, "fo1")
    with fo1.session_transaction() as sess:
        seen = sess[SEEN_KEY]
    r = fo1.get("/api/v1/auth/me")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers  # within the minute: no new cookie
    _idle(fo1, 120)
    r = fo1.get("/api/v1/auth/me")
    assert "Set-Cookie" in r.headers
    with fo1.session_transaction() as sess:
        assert sess[SEEN_KEY] >= seen


def test_idle_limits_from_settings():
    config = {"IDLE_TIMEOUT_MIN": 480, "ADMIN_IDLE_TIMEOUT_MIN": 60}
    assert idle_limits(None, config) == (480 * 60, 60 * 60)
    assert idle_limits({"security": {"idle_timeout_min": 30}}, config) == (30 * 60, 60 * 60)
    assert idle_limits({"security": {"idle_timeout_min": -1, "admin_idle_timeout_min": "x"}}, config) == (480 * 60, 3600)
    assert idle_limits({"security": "nonsense"}, config) == (480 * 60, 3600)


def test_a_session_without_a_version_is_ended(app):
    fo1 = signed_in(app, "fo1")
    with fo1.session_transaction() as sess:
        del sess[VERSION_KEY]
    assert me(fo1) == 401


def test_the_staff_stream_refuses_an_ended_session(app):
    from tests.sockets import staff_socket

    fo1 = signed_in(app, "fo1")
    stolen = copy_of(app, fo1)
    live = staff_socket(app, stolen)
    assert live.is_connected()
    live.disconnect()
    fo1.post("/api/v1/auth/logout", headers={"X-CSRFToken": fo1.csrf})
    assert not staff_socket(app, stolen).is_connected()
    idle = signed_in(app, "fo2")
    _idle(idle, 9 * 3600)
    assert not staff_socket(app, idle).is_connected()


def test_the_office_setting_is_saved_checked_and_seen_at_once(app):
    from server.services.errors import ValidationError
    from server.services.session_policy import save_idle_limits

    fo1 = signed_in(app, "fo1")
    assert me(fo1) == 200  # the office's limits are now cached in this process
    db = app.extensions["loket"].db
    with db.session() as s:
        office_id = s.scalars(select(Office.id).where(Office.code == "DEMO")).one()
        assert save_idle_limits(s, office_id, idle_min=30, admin_idle_min=10, actor=SYSTEM) == \
            {"idle_timeout_min": 30, "admin_idle_timeout_min": 10}
    _idle(fo1, 31 * 60)
    assert me(fo1) == 401  # the commit emptied this process's cache of limits
    for bad in ({"idle_min": 0}, {"idle_min": 10**6}, {"idle_min": True}, {"admin_idle_min": 45}):
        with pytest.raises(ValidationError), db.session() as s:
            save_idle_limits(s, office_id, actor=SYSTEM, **bad)
    with db.session() as s:
        assert s.scalar(select(AuditEntry.data).where(AuditEntry.action == "office.security")) == \
            {"idle_timeout_min": 30, "admin_idle_timeout_min": 10}
