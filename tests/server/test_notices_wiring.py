"""Notices wired into the application lifecycle: a file turning ready queues the citizen's
notice in the same transaction as the approval; without providers nothing is queued."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo
from server.models import Notice
from tests.server.test_api import staff_client
from tests.server.test_applications_api import act, registered

GATEWAY = {"whatsapp": {"kind": "http", "url": "http://127.0.0.1:9/send", "body": {"to": "{to}", "text": "{text}"}}}


@pytest.fixture
def app_with(sqlite_url, tmp_path):
    apps = []

    def make(providers: dict):
        app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading",
                         NOTICE_PROVIDERS=providers)
        app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["loket"].db.dispose()


def _to_ready(app) -> int:
    data = registered(app, "kk")
    app_id = data["application"]["id"]
    chain = [("kasi", None), ("kabid", None), ("kadis", None), ("fo1", "RAK-B-02")]
    for version, (user, shelf) in enumerate(chain, start=1):
        extra = {"shelf_location": shelf} if shelf else {}
        r = act(staff_client(app, user), app_id, "approve", version, **extra)
        assert r.status_code == 200, r.get_json()
    return app_id


def notices(app, app_id: int) -> list[Notice]:
    with app.extensions["loket"].db.session() as s:
        return list(s.scalars(select(Notice).where(Notice.application_id == app_id)))


def test_ready_file_queues_one_whatsapp_notice(app_with):
    app = app_with(GATEWAY)
    app_id = _to_ready(app)
    [notice] = notices(app, app_id)
    assert (notice.channel, notice.kind, notice.status) == ("whatsapp", "ready", "pending")
    assert "RAK" not in notice.body  # the shelf is for staff
    with app.extensions["loket"].db.session() as s:
        from server.models import Application
        assert s.get(Application, app_id).resi_number in notice.body


def test_without_providers_nothing_is_queued(app_with):
    app = app_with({})
    assert notices(app, _to_ready(app)) == []


def test_a_bad_provider_configuration_stops_the_start(sqlite_url, tmp_path):
    from server.services.notices.providers import NoticeConfigError

    with pytest.raises(NoticeConfigError):
        create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, NOTICE_PROVIDERS={"pigeon": {"kind": "x"}})


def test_staff_see_the_delivery_state_with_the_recipient_masked(app_with):
    """The kartu kendali's API lists the application's notices: channel, masked recipient,
    status, attempts, next attempt and last error; never the full number or the text."""
    from server.services.notices import deliver_due

    app = app_with(GATEWAY)
    app_id = _to_ready(app)
    kasi = staff_client(app, "kasi")
    [queued] = kasi.get(f"/api/v1/applications/{app_id}").get_json()["notices"]
    assert (queued["kind"], queued["channel"], queued["status"], queued["attempts"]) == ("ready", "whatsapp", "pending", 0)
    assert queued["recipient_masked"] == "0812****7890" and queued["sent_at"] is None and queued["created_at"]
    assert "recipient" not in queued and "body" not in queued

    # The gateway is down (nothing listens on port 9): the attempt is counted, retried later.
    counts = deliver_due(app.extensions["loket"].db.Session, app.extensions["loket_notice_providers"])
    assert counts["retrying"] == 1
    r = kasi.get(f"/api/v1/applications/{app_id}")
    [retrying] = r.get_json()["notices"]
    assert (retrying["status"], retrying["attempts"], retrying["status_label_id"]) == ("pending", 1, "menunggu dikirim")
    assert retrying["last_error"] and retrying["next_attempt_at"] > retrying["created_at"]
    assert "34567" not in repr(r.get_json()["notices"])  # the middle of the number is never shown


def test_recipient_masks():
    from server.services.notices import mask_recipient

    assert mask_recipient("whatsapp", "6281234567890") == "0812****7890"
    assert mask_recipient("sms", "0812-3456-7890") == "0812****7890"
    assert mask_recipient("email", "budi.santoso@example.com") == "b***@example.com"
    assert mask_recipient("sms", "12345") == "*****"
    assert mask_recipient("email", "") == ""
