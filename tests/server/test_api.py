"""REST API: authentication, CSRF, device permissions, queue actions, errors, OpenAPI."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo
from server.models import AuditEntry, Counter


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=db_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def tokens(app) -> dict:
    return app.config["SEEDED"]["tokens"]


def staff_client(app, username: str):
    client = app.test_client()
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    r = client.post("/api/v1/auth/login", json={"username": username, "password": "demo1234"}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 200, r.get_json()
    client.csrf = r.get_json()["csrf_token"]
    return client


def post(client, path, body=None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": client.csrf})


def counter_id(app, number: int) -> int:
    with app.extensions["loket"].db.session() as s:
        return s.scalar(select(Counter.id).where(Counter.number == number))


def kiosk_issue(app, service="ktp_el", **extra):
    return app.test_client().post("/api/v1/offices/DEMO/tickets", json={"service": service, **extra},
                                  headers={"Authorization": f"Bearer {tokens(app)['kiosk']}"})


def test_kiosk_token_issues_and_public_status_has_no_personal_data(app):
    r = kiosk_issue(app, priority_kind="lansia")
    assert r.status_code == 201
    data = r.get_json()
    assert data["ticket"]["number"] == "A001" and data["ticket"]["priority"] is True
    assert data["print"]["job_id"].startswith("t")
    assert data["status_url"].endswith("/t/" + data["ticket"]["public_id"])
    status = app.test_client().get(f"/api/v1/tickets/{data['ticket']['public_id']}").get_json()
    assert status["people_ahead"] == 0 and status["status"] == "waiting"
    assert not {"officer_id", "nik", "full_name", "phone", "applicant"} & set(status)


def test_display_token_reads_but_never_changes_state(app):
    display = {"Authorization": f"Bearer {tokens(app)['display']}"}
    client = app.test_client()
    assert client.get("/api/v1/offices/DEMO/state?audience=display", headers=display).status_code == 200
    assert client.post("/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers=display).status_code == 403
    assert client.post(f"/api/v1/counters/{counter_id(app, 1)}/call-next", json={}, headers=display).status_code == 403


def test_bad_token_and_anonymous_are_refused(app):
    client = app.test_client()
    r = client.post("/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers={"Authorization": "Bearer forged"})
    assert r.status_code == 401 and r.get_json()["error"] == "invalid_token"
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    r = client.post("/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 401


def test_staff_post_without_csrf_is_refused(app):
    client = staff_client(app, "fo1")
    r = client.post(f"/api/v1/counters/{counter_id(app, 1)}/open", json={})
    assert r.status_code == 400
    assert post(client, f"/api/v1/counters/{counter_id(app, 1)}/open").status_code == 200


def test_wrong_password_is_refused_and_audited(app):
    client = app.test_client()
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    r = client.post("/api/v1/auth/login", json={"username": "fo1", "password": "nope"}, headers={"X-CSRFToken": csrf})
    assert r.status_code == 401
    with app.extensions["loket"].db.session() as s:
        assert s.scalar(select(AuditEntry.action).where(AuditEntry.action == "staff.login_failed")) is not None


def test_counter_flow_through_the_api(app):
    fo1 = staff_client(app, "fo1")
    cid = counter_id(app, 1)
    assert post(fo1, f"/api/v1/counters/{cid}/open").get_json()["counter"]["state"] == "open"
    empty = post(fo1, f"/api/v1/counters/{cid}/call-next")
    assert empty.status_code == 404 and empty.get_json()["error"] == "queue_empty"
    kiosk_issue(app)
    kiosk_issue(app, "kk")
    r = post(fo1, f"/api/v1/counters/{cid}/call-next").get_json()
    assert r["ticket"]["number"] == "A001" and r["ticket"]["status"] == "called"
    assert post(fo1, f"/api/v1/counters/{cid}/call-next").get_json()["error"] == "counter_busy"
    assert post(fo1, f"/api/v1/counters/{cid}/recall").status_code == 200
    assert post(fo1, f"/api/v1/counters/{cid}/start").get_json()["ticket"]["status"] == "serving"
    r = post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True}).get_json()
    assert r["ticket"]["number"] == "B001"
    r = post(fo1, f"/api/v1/counters/{cid}/transfer", {"service": "kia", "position": "back"})
    assert r.status_code == 200 and r.get_json()["ticket"] is None
    assert post(fo1, f"/api/v1/counters/{cid}/pause", {"reason": "Istirahat"}).get_json()["counter"]["state"] == "paused"
    assert post(fo1, f"/api/v1/counters/{cid}/resume").get_json()["counter"]["state"] == "open"
    assert post(fo1, f"/api/v1/counters/{cid}/close").get_json()["counter"]["state"] == "closed"
    assert post(fo1, f"/api/v1/counters/{cid}/dance").status_code == 404


def test_another_officer_cannot_drive_my_counter(app):
    fo1, fo2 = staff_client(app, "fo1"), staff_client(app, "fo2")
    cid = counter_id(app, 1)
    post(fo1, f"/api/v1/counters/{cid}/open")
    assert post(fo2, f"/api/v1/counters/{cid}/call-next").status_code == 403
    assert post(fo2, f"/api/v1/counters/{cid}/open").get_json()["error"] == "invalid_state"


def test_validation_errors_are_clear(app):
    r = kiosk_issue(app, "nope")
    assert r.status_code == 404 and "nope" in r.get_json()["message"]
    r = app.test_client().post("/api/v1/offices/DEMO/tickets", data="not json", content_type="application/json",
                               headers={"Authorization": f"Bearer {tokens(app)['kiosk']}"})
    assert r.status_code == 422
    fo1 = staff_client(app, "fo1")
    cid = counter_id(app, 1)
    post(fo1, f"/api/v1/counters/{cid}/open")
    assert post(fo1, f"/api/v1/counters/{cid}/pause", {"reason": ""}).status_code == 422
    assert post(fo1, f"/api/v1/counters/{cid}/call", {"number": ""}).status_code == 422


def test_reprint_sends_a_new_job(app):
    ticket = kiosk_issue(app).get_json()["ticket"]
    fo1 = staff_client(app, "fo1")
    first = post(fo1, f"/api/v1/tickets/{ticket['id']}/reprint").get_json()
    second = post(fo1, f"/api/v1/tickets/{ticket['id']}/reprint").get_json()
    assert first["job_id"] == f"t{ticket['id']}-2" and second["job_id"] == f"t{ticket['id']}-3"


def test_manager_day_report(app):
    kiosk_issue(app)
    manager = staff_client(app, "manager")
    report = manager.get("/api/v1/offices/DEMO/reports/day").get_json()
    assert report["total"]["issued"] == 1 and report["total"]["waiting"] == 1
    assert staff_client(app, "fo1").get("/api/v1/offices/DEMO/reports/day").status_code == 403


def test_openapi_document_lists_the_api(app):
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in ("/api/v1/offices/{code}/tickets", "/api/v1/tickets/{public_id}"):
        assert path in paths
    assert "post" in paths["/api/v1/offices/{code}/tickets"]
    # one operation per console action, each with its own body (issue 14), no RPC-style {action}
    actions = ("open", "pause", "resume", "close", "call-next", "recall", "call", "skip", "start", "finish",
               "transfer")
    assert {f"/api/v1/counters/{{counter_id}}/{a}" for a in actions} <= set(paths)
    assert not any("{action}" in p for p in paths)
    def body_of(action: str) -> dict:  # the schema, through its reference to the components
        schema = paths[f"/api/v1/counters/{{counter_id}}/{action}"]["post"]["requestBody"]["content"]
        schema = schema["application/json"]["schema"]
        return doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema

    assert body_of("call")["required"] == ["number"]
    assert body_of("transfer")["properties"]["position"]["enum"] == ["front", "back"]
    assert body_of("transfer")["required"] == ["service"]
    assert body_of("pause")["required"] == ["reason"]


def test_an_unknown_console_action_is_a_json_404(app):
    cid = counter_id(app, 1)
    r = post(staff_client(app, "fo1"), f"/api/v1/counters/{cid}/fly", {})
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


def test_a_repeated_tap_returns_the_same_ticket(app):
    first = kiosk_issue(app, request_id="tap-123")
    again = kiosk_issue(app, request_id="tap-123")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["repeated"] is True
    assert again.get_json()["ticket"]["id"] == first.get_json()["ticket"]["id"]
    assert kiosk_issue(app, request_id="tap-124").get_json()["ticket"]["number"] == "A002"


def test_streams_and_snapshots_never_carry_the_qr_secret(app):
    issued = kiosk_issue(app).get_json()["ticket"]
    state = app.test_client().get("/api/v1/offices/DEMO/state?audience=kiosk",
                                  headers={"Authorization": f"Bearer {tokens(app)['kiosk']}"}).get_json()
    assert state["waiting"][0]["id"] == issued["id"]
    assert "public_id" not in state["waiting"][0]
    assert issued["public_id"] not in str(state)


def test_page_with_a_wrong_token_still_renders_for_its_script(app):
    r = app.test_client().get("/kiosk/DEMO?token=forged")
    assert r.status_code == 200 and b"<html" in r.data.lower()


def test_finish_and_call_next_with_nobody_waiting_keeps_the_finish(app):
    fo1 = staff_client(app, "fo1")
    cid = counter_id(app, 1)
    post(fo1, f"/api/v1/counters/{cid}/open")
    ticket = kiosk_issue(app).get_json()["ticket"]
    post(fo1, f"/api/v1/counters/{cid}/call-next")
    r = post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True})
    assert r.status_code == 200 and r.get_json()["ticket"] is None
    status = app.test_client().get(f"/api/v1/tickets/{ticket['public_id']}").get_json()
    assert status["status"] == "done"


def test_page_form_with_a_stale_csrf_token_returns_to_login(app):
    client = app.test_client()
    r = client.post("/logout")
    assert r.status_code == 302 and r.headers["Location"].endswith("/login")
    assert app.test_client().post("/api/v1/auth/logout").get_json()["error"] == "csrf_failed"
