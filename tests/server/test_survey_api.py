"""IKM survey through HTTP: the counter tablet (device token), the phone link (public, CSRF),
the ticket page's way in, and the report API and page with their roles."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo
from server.models import AuditEntry, Office, SurveyResponse, Ticket
from server.services.survey import survey_signer
from tests.server.test_api import counter_id, kiosk_issue, post, staff_client, tokens

ANSWERS = {"u1": 4, "u2": 3, "u3": 3, "u4": 4, "u5": 3, "u6": 4, "u7": 4, "u8": 2, "u9": 3}


@pytest.fixture
def app(db_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=db_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def serve(app, fo, number: int, service="ktp_el") -> dict:
    """Issue a ticket at the kiosk and serve it to the end at counter ``number``."""
    ticket = kiosk_issue(app, service)
    assert ticket.status_code == 201, ticket.get_json()
    cid = counter_id(app, number)
    for action, body in (("call-next", {}), ("start", {}), ("finish", {})):
        r = post(fo, f"/api/v1/counters/{cid}/{action}", body)
        assert r.status_code == 200, (action, r.get_json())
    return ticket.get_json()["ticket"]


def tablet(app):
    return {"Authorization": f"Bearer {tokens(app)['survey']}"}


def test_tablet_surveys_the_ticket_finished_at_its_counter(app):
    client, fo1, fo2 = app.test_client(), staff_client(app, "fo1"), staff_client(app, "fo2")
    post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/open")
    post(fo2, f"/api/v1/counters/{counter_id(app, 2)}/open")
    assert client.get("/api/v1/survey/tablet", headers=tablet(app)).get_json()["ticket"] is None
    mine = serve(app, fo1, 1)
    other = serve(app, fo2, 2)  # the demo tablet stands at counter 1 only
    state = client.get("/api/v1/survey/tablet", headers=tablet(app)).get_json()
    assert state["counters"] == [{"number": 1, "label": "Loket 1"}]
    shown = state["ticket"]
    assert (shown["id"], shown["number"], shown["counter_number"]) == (mine["id"], mine["number"], 1)
    assert not {"name", "nik", "officer_id", "public_id", "phone"} & set(shown)

    r = client.post("/api/v1/survey/tablet", json={"ticket_id": other["id"], "answers": ANSWERS}, headers=tablet(app))
    assert r.status_code == 403 and r.get_json()["error"] == "survey_wrong_counter"
    r = client.post("/api/v1/survey/tablet", json={"ticket_id": mine["id"], "answers": {**ANSWERS, "u4": 9}},
                    headers=tablet(app))
    assert r.status_code == 422 and r.get_json()["details"]["invalid"] == ["u4"]
    r = client.post("/api/v1/survey/tablet", json={"ticket_id": mine["id"], "answers": ANSWERS, "comment": "Ramah"},
                    headers=tablet(app))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["response"]["answers"] == ANSWERS and r.get_json()["response"]["channel"] == "counter"
    r = client.post("/api/v1/survey/tablet", json={"ticket_id": mine["id"], "answers": {k: 1 for k in ANSWERS}},
                    headers=tablet(app))
    assert r.status_code == 409 and r.get_json()["error"] == "survey_already_answered"
    assert client.get("/api/v1/survey/tablet", headers=tablet(app)).get_json()["ticket"] is None  # back to idle

    # other devices and staff cannot use the tablet endpoints
    kiosk = {"Authorization": f"Bearer {tokens(app)['kiosk']}"}
    assert client.get("/api/v1/survey/tablet", headers=kiosk).status_code == 403
    assert post(fo1, "/api/v1/survey/tablet", {"ticket_id": other["id"], "answers": ANSWERS}).status_code == 403
    with app.extensions["loket"].db.session() as s:
        row = s.scalars(select(SurveyResponse)).one()
        assert (row.ticket_id, row.comment, row.u8, row.device_id is not None) == (mine["id"], "Ramah", 2, True)
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "survey.submit")).one()
        assert audit.actor_type == "device" and audit.entity_id == row.id


def test_phone_link_from_the_ticket_page(app):
    fo1 = staff_client(app, "fo1")
    post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/open")
    served = serve(app, fo1, 1)
    waiting = kiosk_issue(app, "kk").get_json()["ticket"]
    citizen = app.test_client()
    r = citizen.get(f"/t/{waiting['public_id']}/survey")  # not served yet: back to the ticket page
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/t/{waiting['public_id']}")

    r = citizen.get(f"/t/{served['public_id']}/survey?lang=en")
    assert r.status_code == 302 and "/s/LKS1." in r.headers["Location"]
    link = r.headers["Location"].split("?")[0]
    token = link.rsplit("/", 1)[1]
    assert served["public_id"] not in token
    page = citizen.get(link + "?lang=id")  # (the redirect above remembered English)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "kesesuaian persyaratan pelayanan dengan jenis pelayanannya" in html
    assert "Sangat sesuai" in html and "Dikelola dengan baik" in html
    assert "how well the service requirements fit" in citizen.get(link + "?lang=en").get_data(as_text=True)
    state = citizen.get(f"/api/v1/survey/link/{token}").get_json()
    assert state["served"] is True and state["answered"] is False and state["ticket"]["number"] == served["number"]

    assert citizen.post(f"/api/v1/survey/link/{token}", json={"answers": ANSWERS}).status_code == 400  # no CSRF
    csrf = {"X-CSRFToken": citizen.get("/api/v1/auth/csrf").get_json()["csrf_token"]}
    r = citizen.post(f"/api/v1/survey/link/{token}", json={"answers": {"u1": 4}}, headers=csrf)
    assert r.status_code == 422 and r.get_json()["details"]["missing"] == [f"u{i}" for i in range(2, 10)]
    r = citizen.post(f"/api/v1/survey/link/{token}", json={"answers": ANSWERS, "comment": "x" * 501}, headers=csrf)
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "comment"
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    r = citizen.post(f"/api/v1/survey/link/{forged}", json={"answers": ANSWERS}, headers=csrf)
    assert r.status_code == 400 and r.get_json()["error"] == "survey_link_invalid"
    assert citizen.get(f"/s/{forged}").status_code == 400
    assert citizen.post(f"/api/v1/survey/link/{token}", json={"answers": ANSWERS}, headers=csrf).status_code == 201
    r = citizen.post(f"/api/v1/survey/link/{token}", json={"answers": {k: 1 for k in ANSWERS}}, headers=csrf)
    assert r.status_code == 409 and r.get_json()["error"] == "survey_already_answered"
    assert 'data-screen="already"' in citizen.get(link).get_data(as_text=True)

    # a genuine link of a ticket not served: refused, nothing stored
    with app.extensions["loket"].db.session() as s:
        ticket = s.get(Ticket, waiting["id"])
        early = survey_signer(app.config["SECRET_KEY"]).token(ticket, s.get(Office, ticket.office_id))
    r = citizen.post(f"/api/v1/survey/link/{early}", json={"answers": ANSWERS}, headers=csrf)
    assert r.status_code == 409 and r.get_json()["error"] == "survey_not_served"
    assert 'data-screen="not_served"' in citizen.get(f"/s/{early}").get_data(as_text=True)
    with app.extensions["loket"].db.session() as s:
        rows = s.scalars(select(SurveyResponse)).all()
        assert [(r.ticket_id, r.channel, r.u1) for r in rows] == [(served["id"], "link", 4)]


def test_report_api_and_page_roles(app):
    fo1 = staff_client(app, "fo1")
    post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/open")
    served = serve(app, fo1, 1)
    client = app.test_client()
    r = client.post("/api/v1/survey/tablet", json={"ticket_id": served["id"], "answers": ANSWERS, "comment": "Bersih"},
                    headers=tablet(app))
    assert r.status_code == 201
    assert app.test_client().get("/api/v1/offices/DEMO/reports/ikm").status_code == 401
    assert fo1.get("/api/v1/offices/DEMO/reports/ikm").status_code == 403
    manager = staff_client(app, "manager")
    report = manager.get("/api/v1/offices/DEMO/reports/ikm?counter=1&service=ktp_el").get_json()
    # one response: NRR = the answers; unit = (4+3+3+4+3+4+4+2+3)/9 = 30/9 = 3.333..; IKM = 83.33 (B)
    assert report["overall"]["responses"] == 1 and report["overall"]["ikm"] == 83.33
    assert report["overall"]["grade"] == "B" and report["comments"][0]["comment"] == "Bersih"
    assert manager.get("/api/v1/offices/DEMO/reports/ikm?from=2026-13-01").status_code == 422
    assert manager.get("/api/v1/offices/DEMO/reports/ikm?service=nope").status_code == 422
    page = manager.get("/reports/ikm")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "83.33" in html and "Bersih" in html and "Baik" in html
    assert fo1.get("/reports/ikm").status_code == 403
    assert 'data-testid="report-ikm-link"' in manager.get("/").get_data(as_text=True)
    admin = staff_client(app, "admin")
    assert admin.get("/api/v1/offices/DEMO/reports/ikm").status_code == 200
    assert admin.get("/reports/ikm?office=DEMO").status_code == 200


def test_ready_notice_carries_the_survey_link_of_the_counter_visit(app):
    from types import SimpleNamespace

    from server.services.notices.texts import _survey_line
    from server.services.survey.links import notice_survey_url

    fo1 = staff_client(app, "fo1")
    post(fo1, f"/api/v1/counters/{counter_id(app, 1)}/open")
    served = serve(app, fo1, 1)
    db = app.extensions["loket"].db
    app.config["PUBLIC_URL"] = ""
    with db.session() as s:
        assert notice_survey_url(s, served["id"]) is None  # no public URL: no link
    app.config["PUBLIC_URL"] = "https://loket.example.go.id/"
    with db.session() as s:
        url = notice_survey_url(s, served["id"])
        assert url.startswith("https://loket.example.go.id/s/LKS1.DEMO.") and served["public_id"] not in url
        line = _survey_line(s, SimpleNamespace(ticket_id=served["id"]))
        assert "survei kepuasan" in line and url in line
        assert _survey_line(s, SimpleNamespace(ticket_id=None)) == ""
    token = url.rsplit("/", 1)[1]
    client = app.test_client()
    assert client.get(f"/api/v1/survey/link/{token}").get_json()["served"] is True
    csrf = {"X-CSRFToken": client.get("/api/v1/auth/csrf").get_json()["csrf_token"]}
    assert client.post(f"/api/v1/survey/link/{token}", json={"answers": ANSWERS}, headers=csrf).status_code == 201
    with db.session() as s:
        assert notice_survey_url(s, served["id"]) is None  # answered: not asked again
