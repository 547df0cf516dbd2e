"""The dashboard API, page and thresholds form (issue 7): who may read which office, the
form's CSRF, role, audit and refusal of bad values (the figures themselves:
tests/server/test_dashboard.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import DEMO_PASSWORD, seed_demo
from server.models import AuditEntry, Office
from server.services.accounts import create_staff
from server.services.actors import SYSTEM
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from tests.server.test_api import kiosk_issue, staff_client

API = "/api/v1/offices/DEMO/dashboard"


@pytest.fixture
def app(sqlite_url, tmp_path):
    """The demo office plus a second office LAIN with its own manager (manager_b)."""
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    with app.extensions["loket"].db.session() as s:
        other = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM, overrides={"code": "LAIN", "name": "Kantor Lain"})
        create_staff(s, "manager_b", DEMO_PASSWORD, "manager", full_name="Manajer Lain", office_id=other.id, actor=SYSTEM)
    yield app
    app.extensions["loket"].db.dispose()


def settings(app, code="DEMO") -> dict:
    with app.extensions["loket"].db.session() as s:
        return dict(s.scalars(select(Office).where(Office.code == code)).one().settings)


def audits(app) -> list[AuditEntry]:
    with app.extensions["loket"].db.session() as s:
        return s.scalars(select(AuditEntry).where(AuditEntry.action == "office.dashboard_thresholds")).all()


def test_who_may_read_which_office(app):
    for username in ("manager", "kasi", "kabid", "kadis", "admin"):
        r = staff_client(app, username).get(API)
        assert r.status_code == 200, username
        assert r.get_json()["office"]["code"] == "DEMO"
    # the answer schema sends every key of the snapshot, "from" of the call buckets too
    buckets = r.get_json()["calls"]["per_5_min"]
    assert len(buckets) == 12 and all(set(b) == {"from", "calls"} for b in buckets)
    for username in ("fo1", "ambil", "aktivasi"):
        client = staff_client(app, username)
        assert client.get(API).status_code == 403, username
        assert client.get("/dashboard").status_code == 403, username
    assert app.test_client().get(API).status_code == 401
    assert app.test_client().get("/dashboard").status_code in (302, 401)  # to the sign-in page

    other = staff_client(app, "manager_b")
    assert other.get(API).status_code == 403
    assert other.get("/api/v1/offices/LAIN/dashboard").get_json()["office"]["code"] == "LAIN"
    page = other.get("/dashboard").get_data(as_text=True)
    assert "Kantor Lain" in page and '"code": "LAIN"' in page and '"code": "DEMO"' not in page
    assert staff_client(app, "manager").get("/api/v1/offices/NOPE/dashboard").status_code == 404
    assert API.replace("DEMO", "{code}") in staff_client(app, "manager").get("/api/openapi.json").get_json()["paths"]


def test_the_staff_stream_is_open_to_managers_of_their_own_office_only(app):
    from tests.sockets import staff_socket

    with app.extensions["loket"].db.session() as s:
        demo_id = s.scalars(select(Office.id).where(Office.code == "DEMO")).one()
    mine = staff_socket(app, staff_client(app, "manager"), auth={"office_id": demo_id})
    assert mine.is_connected()
    assert mine.emit("sync", {}, callback=True)["state"]["office"]["code"] == "DEMO"
    kadis = staff_socket(app, staff_client(app, "kadis"), auth={"office_id": demo_id})
    assert kadis.is_connected()
    foreign = staff_socket(app, staff_client(app, "manager_b"), auth={"office_id": demo_id})
    assert not foreign.is_connected()


def test_home_links_the_dashboard_for_managers_and_heads_only(app):
    for username, shown in (("manager", True), ("kabid", True), ("fo1", False)):
        assert ('data-testid="dashboard-link"' in staff_client(app, username).get("/").get_data(as_text=True)) is shown
    page = staff_client(app, "manager").get("/dashboard").get_data(as_text=True)
    assert "Dasbor Langsung" in page and "vendor/chartjs/chart.umd.min.js" in page and 'data-testid="thresholds-link"' in page
    assert 'data-testid="thresholds-link"' not in staff_client(app, "kasi").get("/dashboard").get_data(as_text=True)
    assert "Live dashboard" in staff_client(app, "manager").get("/dashboard?lang=en").get_data(as_text=True)
    assert app.test_client().get("/static/vendor/chartjs/chart.umd.min.js").status_code == 200


def _form_csrf(client) -> str:
    html = client.get("/dashboard/thresholds").get_data(as_text=True)
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


FORM = {"max_wait_min": "45", "max_waiting": "0", "max_no_show_pct": "", "no_show_min_ended": "10",
        "max_unhealthy_devices": "2", "max_late_steps": "10", "max_overdue": "0"}


def test_thresholds_form_saves_audits_and_turns_figures_into_alerts(app):
    manager = staff_client(app, "manager")
    r = manager.post("/dashboard/thresholds", data={**FORM, "csrf_token": _form_csrf(manager)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/dashboard/thresholds?saved=1")
    assert settings(app)["dashboard"] == {"max_wait_min": 45, "max_waiting": 0, "max_no_show_pct": None,
                                          "no_show_min_ended": 10, "max_unhealthy_devices": 2,
                                          "max_late_steps": 10, "max_overdue": 0}
    assert "queue" in settings(app)  # the office's other settings are kept
    [entry] = audits(app)
    assert entry.actor_type == "staff" and entry.data["before"]["max_wait_min"] == 30
    assert entry.data["after"]["max_waiting"] == 0
    assert 'data-testid="thresholds-saved"' in manager.get("/dashboard/thresholds?saved=1").get_data(as_text=True)

    assert manager.get(API).get_json()["alerts"] == []
    assert kiosk_issue(app).status_code == 201
    snap = manager.get(API).get_json()
    assert snap["alerts"] == [{"key": "waiting", "setting": "max_waiting", "value": 1, "limit": 0}]
    assert snap["thresholds"]["max_wait_min"] == 45


def test_thresholds_form_refuses_bad_values_without_csrf_or_role(app):
    manager = staff_client(app, "manager")
    before = settings(app)
    r = manager.post("/dashboard/thresholds", data={**FORM, "max_wait_min": "0", "max_no_show_pct": "150",
                                                    "max_waiting": "banyak", "csrf_token": _form_csrf(manager)})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'data-testid="thresholds-errors"' in html and "harus bilangan bulat 1-1440" in html
    assert 'data-field="max_no_show_pct"' in html and 'data-field="max_waiting"' in html
    assert 'value="banyak"' in html  # what was typed is shown again to be corrected
    assert settings(app) == before and audits(app) == []

    r = manager.post("/dashboard/thresholds", data=FORM)  # no CSRF token: back to sign in, nothing saved
    assert r.status_code in (302, 400) and settings(app) == before and audits(app) == []

    kasi = staff_client(app, "kasi")
    assert kasi.get("/dashboard/thresholds").status_code == 403
    assert kasi.post("/dashboard/thresholds", data={**FORM, "csrf_token": kasi.csrf}).status_code == 403
    other = staff_client(app, "manager_b")  # a manager edits their own office only
    assert other.post("/dashboard/thresholds", data={**FORM, "csrf_token": _form_csrf(other)}).status_code == 302
    assert settings(app) == before and settings(app, "LAIN")["dashboard"]["max_wait_min"] == 45
