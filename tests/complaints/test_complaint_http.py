"""AKAPELA over HTTP on a live server (demo office, SQLite): the staff API (registration,
list per role, actions, version conflicts, report, OpenAPI), the staff pages and their
CSRF, the public web form and the status page (second factor, nothing personal shown,
rate limits)."""
from __future__ import annotations

import re

import requests
from sqlalchemy import func, select

from server.models import AuditEntry, Complaint

NIK = "1471011205900001"
CONTACT = {"name": "Siti Aminah", "phone": "0812-3456-7890", "id_kind": "nik", "id_number": NIK,
           "channel": "phone", "kind": "complaint", "text": "KTP-el saya belum jadi."}


def api(live_server, user: str):
    staff = live_server.staff(user)
    return staff.http, f"{live_server.url}/api/v1"


def count(live_server, model=Complaint) -> int:
    with live_server.db.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def test_staff_api_from_registration_to_report(live_server):
    fo, base = api(live_server, "fo1")
    r = fo.post(f"{base}/offices/DEMO/complaints", json={**CONTACT, "id_number": "1471011205900000", "text": " "})
    assert r.status_code == 422 and set(r.json()["details"]["errors"]) == {"id_number", "text"}
    assert count(live_server) == 0
    r = fo.post(f"{base}/offices/DEMO/complaints", json=CONTACT)
    assert r.status_code == 201, r.text
    c = r.json()["complaint"]
    assert re.fullmatch(r"AKP-\d{8}-0001", c["number"]) and c["id_number_masked"] == "147101******0001"
    assert [x["number"] for x in fo.get(f"{base}/offices/DEMO/complaints").json()["complaints"]] == [c["number"]]
    kasi, _ = api(live_server, "kasi")
    assert kasi.get(f"{base}/offices/DEMO/complaints").json()["complaints"] == []

    act = f"{base}/complaints/{c['id']}"
    r = fo.post(f"{act}/answer", json={"expected_version": 1, "note": "Sedang kami periksa."})
    assert r.status_code == 200 and r.json()["complaint"]["status"] == "answered"
    r = fo.post(f"{act}/escalate", json={"expected_version": 1, "note": "Kebijakan?"})  # stale: it is version 2
    assert r.status_code == 409 and r.json()["error"] == "version_conflict"
    assert r.json()["details"]["current_version"] == 2
    assert fo.post(f"{act}/escalate", json={"expected_version": 2, "note": "Kebijakan?"}).status_code == 200
    assert fo.post(f"{act}/reply", json={"expected_version": 3, "note": "x"}).status_code == 403
    assert fo.post(f"{act}/close", json={"expected_version": 3, "note": "x"}).status_code == 409  # at the Kasi
    assert [x["id"] for x in kasi.get(f"{base}/offices/DEMO/complaints").json()["complaints"]] == [c["id"]]
    assert kasi.post(f"{act}/reply", json={"expected_version": 3, "note": "Boleh."}).status_code == 200
    assert fo.post(f"{act}/route", json={"expected_version": 4, "target": "pickup", "note": "x"}).status_code == 422
    assert fo.post(f"{act}/fly", json={"expected_version": 4, "note": "x"}).status_code == 404
    r = fo.post(f"{act}/close", json={"expected_version": 4, "note": "Dapat diproses, silakan datang."})
    assert r.status_code == 200
    detail = fo.get(act).json()["complaint"]
    assert [s["action"] for s in detail["steps"]] == ["register", "answer", "escalate", "reply", "close"]
    assert detail["outcome"] == "section_head" and detail["steps"][3]["actor_name"].startswith("Budi Santoso")
    with live_server.db.session() as s:  # every state change audited
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "complaint")) == 5

    assert fo.get(f"{base}/offices/DEMO/reports/complaints").status_code == 403
    manager, _ = api(live_server, "manager")
    report = manager.get(f"{base}/offices/DEMO/reports/complaints").json()
    assert report["totals"]["contacts"] == 1 and report["by_outcome"]["section_head"] == 1
    assert report["totals"]["resolution"]["count"] == 1
    assert manager.get(f"{base}/offices/DEMO/reports/complaints?from=2026-13-01").status_code == 422
    doc = requests.get(f"{live_server.url}/api/openapi.json", timeout=10).json()
    paths = doc["paths"]
    assert {"/api/v1/offices/{code}/complaints", "/api/v1/offices/{code}/reports/complaints",
            "/api/v1/offices/{code}/complaints/status"} <= set(paths)
    # one operation per action, each with its own body (issue 14)
    assert {f"/api/v1/complaints/{{complaint_id}}/{a}" for a in ("answer", "escalate", "route", "reply", "close")} \
        <= set(paths)
    route = paths["/api/v1/complaints/{complaint_id}/route"]["post"]["requestBody"]["content"]["application/json"]
    schema = doc["components"]["schemas"][route["schema"]["$ref"].rsplit("/", 1)[1]]  # through its reference
    assert {"target", "expected_version", "note"} <= set(schema["required"])
    assert schema["properties"]["target"]["enum"] == ["editor", "approval_chain", "pickup"]
    anonymous = requests.get(f"{base}/offices/DEMO/complaints", timeout=10)
    assert anonymous.status_code == 401


def test_staff_pages_register_act_and_refuse_without_csrf(live_server):
    fo, _ = api(live_server, "fo1")
    page = fo.get(f"{live_server.url}/complaints")
    assert page.status_code == 200 and 'data-testid="register-form"' in page.text
    token = csrf_of(page.text)
    bad = fo.post(f"{live_server.url}/complaints", data={**CONTACT, "id_number": "123", "csrf_token": token})
    assert bad.status_code == 422 and 'data-testid="error-id_number"' in bad.text and "Siti Aminah" in bad.text
    assert count(live_server) == 0
    r = fo.post(f"{live_server.url}/complaints", data={**CONTACT}, headers={"X-CSRFToken": None})  # no CSRF: refused
    assert count(live_server) == 0 and 'data-testid="complaint"' not in r.text
    r = fo.post(f"{live_server.url}/complaints", data={**CONTACT, "csrf_token": token})
    assert r.status_code == 200 and 'data-testid="complaint-actions"' in r.text and "147101******0001" in r.text
    cid = int(re.search(r"/complaints/(\d+)", r.url)[1])
    form = {"csrf_token": token, "expected_version": "1", "action": "close", "note": "Sudah dijawab."}
    r = fo.post(f"{live_server.url}/complaints/{cid}", data=form)
    assert 'data-testid="flash-ok"' in r.text and 'data-status="closed"' in r.text
    r = fo.post(f"{live_server.url}/complaints/{cid}", data=form)  # the same form again: stale
    assert 'data-testid="flash-error"' in r.text and "petugas lain" in r.text
    kasi, _ = api(live_server, "kasi")
    assert kasi.get(f"{live_server.url}/reports/complaints").status_code == 200
    assert fo.get(f"{live_server.url}/reports/complaints").status_code == 403
    home = fo.get(f"{live_server.url}/").text
    assert 'data-testid="complaints-link"' in home


def test_public_form_and_status_page(live_server):
    web = requests.Session()
    live_server.sessions.append(web)
    url = f"{live_server.url}/pengaduan/DEMO"
    token = csrf_of(web.get(url, timeout=10).text)
    bad = web.post(url, data={**CONTACT, "resi_number": "DEMO-A-20261123-0042", "text": "", "csrf_token": token})
    assert bad.status_code == 422 and 'data-testid="error-resi_number"' in bad.text and 'data-testid="error-text"' in bad.text
    assert count(live_server) == 0
    assert web.post(url, data={**CONTACT}, timeout=10).status_code != 201 and count(live_server) == 0  # no CSRF
    r = web.post(url, data={**CONTACT, "channel": "phone", "csrf_token": token}, timeout=10)
    assert r.status_code == 201, r.text
    number = re.search(r'data-testid="complaint-number">([^<]+)<', r.text)[1]
    with live_server.db.session() as s:
        assert s.scalars(select(Complaint.channel)).one() == "web_form"

    status = f"{url}/status"
    wrong = web.post(status, data={"number": number, "check": "7891", "csrf_token": token})
    guessed = web.post(status, data={"number": number[:-1] + "9", "check": "7890", "csrf_token": token})
    assert wrong.status_code == guessed.status_code == 404
    assert 'data-testid="status-result"' not in wrong.text + guessed.text
    assert re.search(r'status-error">([^<]+)<', wrong.text)[1] == re.search(r'status-error">([^<]+)<', guessed.text)[1]
    ok = web.post(status, data={"number": number.lower(), "check": "7890", "csrf_token": token})
    assert ok.status_code == 200 and 'data-status="open"' in ok.text and 'data-testid="status-no-answer"' in ok.text
    shown = ok.text.split('id="loket-i18n"')[0]  # the page, without the text catalog's examples
    for secret in ("Siti", NIK, "0812", "3456", "belum jadi"):
        assert secret not in shown
    english = web.get(f"{url}?lang=en", timeout=10).text
    assert 'data-testid="complaint-form"' in english and ">Send<" in english
    public_api = f"{live_server.url}/api/v1/offices/DEMO/complaints/public"
    r = web.post(public_api, json={**CONTACT, "id_number": "99"}, headers={"X-CSRFToken": token})
    assert r.status_code == 422 and set(r.json()["details"]["errors"]) == {"id_number"} and count(live_server) == 1
    r = web.post(public_api, json=CONTACT, headers={"X-CSRFToken": token})
    assert r.status_code == 201 and set(r.json()) == {"number", "office"} and r.json()["number"] != number
    api_ok = web.post(f"{live_server.url}/api/v1/offices/DEMO/complaints/status",
                      json={"number": number, "check": "7890"}, headers={"X-CSRFToken": token})
    assert api_ok.status_code == 200 and set(api_ok.json()) == {
        "number", "office", "kind", "channel", "status", "in_process", "received_at", "answered_at", "closed_at", "answer"}


def test_public_form_rate_limit(live_server):
    live_server.app.config["COMPLAINT_RATE_LIMIT"] = "2/minute"
    web = requests.Session()
    live_server.sessions.append(web)
    url = f"{live_server.url}/pengaduan/DEMO"
    token = csrf_of(web.get(url, timeout=10).text)
    codes = [web.post(url, data={**CONTACT, "csrf_token": token}, timeout=10).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert count(live_server) == 2
    assert web.get(url, timeout=10).status_code == 200  # the form itself is not limited
