"""Applications through the REST API and the public resi page (issue 4), on SQLite and on
PostgreSQL (the ``app`` fixture of tests/server/test_api.py is parametrized by ``db_url``).

Demo staff (password demo1234): fo1.. front_office, kasi section_head, kabid
division_head, aktivasi activation_officer, ambil pickup_officer, manager, admin."""
from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from server.models import Application, AuditEntry, Device
from server.services.resi import ResiSigner, derive_key
from tests.server.activation_flow import CardAgent, activate, bind_and_print
from tests.server.test_api import app, counter_id, kiosk_issue, post, staff_client  # noqa: F401  (app: fixture)

NIK = "1471011205900001"  # Pekanbaru, born 12-05-1990, male
BIRTH = "1990-05-12"
PHONE, EMAIL, NAME = "081234567890", "budi@example.id", "Budi Santoso"
KK_ALL = [0, 1, 2, 3, 4]
KTP_RENEWAL = ["KTP lama", 4, "Biometric recording done"]
RESI_NUMBER = re.compile(r"DEMO-[A-Z]-\d{8}-\d{4}")


def signer(app_) -> ResiSigner:
    return ResiSigner(derive_key(app_.config["SECRET_KEY"]))


def serve(app_, officer, number: int, service: str) -> int:
    """Open counter ``number`` for ``officer``, issue a ``service`` ticket at the kiosk, call
    and start serving it; returns the counter id."""
    cid = counter_id(app_, number)
    post(officer, f"/api/v1/counters/{cid}/open")
    kiosk_issue(app_, service)
    assert post(officer, f"/api/v1/counters/{cid}/call-next", {"finish_current": True}).get_json()["ticket"]
    assert post(officer, f"/api/v1/counters/{cid}/start").status_code == 200
    return cid


def register(officer, cid: int, **kw):
    body = {"nik": NIK, "name": "Budi  Santoso", "phone": "0812-3456-7890", "email": EMAIL,
            "confirmed": KK_ALL, "case": None, **kw}
    return post(officer, f"/api/v1/counters/{cid}/application", body)


def registered(app_, service="kk", **kw) -> dict:
    fo1 = staff_client(app_, "fo1")
    cid = serve(app_, fo1, 1, service)
    if service == "ktp_el":
        kw = {"confirmed": KTP_RENEWAL, "case": "renewal", **kw}
    r = register(fo1, cid, **kw)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def act(client, app_id: int, action: str, version: int, **body):
    return post(client, f"/api/v1/applications/{app_id}/{action}", {"expected_version": version, **body})


def worklist(client, role: str | None = None) -> list[dict]:
    r = client.get("/api/v1/offices/DEMO/worklist" + (f"?role={role}" if role else ""))
    assert r.status_code == 200, r.get_json()
    return r.get_json()["applications"]


def public(app_, ref: str, **query):
    return app_.test_client().get(f"/api/v1/resi/{ref}", query_string=query)


def count_applications(app_) -> int:
    with app_.extensions["loket"].db.session() as s:
        return s.scalar(select(func.count()).select_from(Application))


# ---------------------------------------------------------------------------- intake
def test_register_from_the_served_ticket(app):
    fo1, fo2 = staff_client(app, "fo1"), staff_client(app, "fo2")
    cid = counter_id(app, 1)
    post(fo1, f"/api/v1/counters/{cid}/open")
    r = register(fo1, cid)
    assert r.status_code == 409 and "tidak ada antrian" in r.get_json()["message"]  # nobody called yet (caller's language)
    serve(app, fo1, 1, "kk")
    assert register(fo2, cid).status_code == 403  # not the officer of this counter
    r = register(fo1, cid)
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    application, resi = data["application"], data["resi"]
    assert RESI_NUMBER.fullmatch(application["resi_number"]) and application["resi_number"].startswith("DEMO-B-")
    assert application["resi_number"].endswith("-0001") and resi["number"] == application["resi_number"]
    assert (application["status"], application["version"]) == ("in_progress", 1)
    assert application["step"]["code"] == "kasi_verify" and application["step"]["staff_role"] == "section_head"
    assert application["step"]["name_id"].startswith("Verifikasi")
    assert application["due_date"] == resi["due_date"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", resi["due_date"])
    assert application["applicant_name"] == NAME and application["applicant_nik_masked"] == "147101******0001"
    assert resi["status_url"] == "http://localhost/r/" + resi["payload"]
    ref = signer(app).verify(resi["payload"], "DEMO")
    assert (ref.resi_id, ref.resi_number) == (application["id"], application["resi_number"])
    assert NIK not in resi["payload"] and "Budi" not in resi["payload"]
    # The ticket is still at the counter: a second file for it is a second resi.
    again = register(fo1, cid, nik="1471015205900002", name="Siti Aminah").get_json()
    assert again["application"]["resi_number"].endswith("-0002")


def test_missing_requirements_answer_422_and_register_nothing(app):
    fo1 = staff_client(app, "fo1")
    cid = serve(app, fo1, 1, "kk")
    r = register(fo1, cid, confirmed=[0, 1, 2])
    assert r.status_code == 422
    data = r.get_json()
    assert data["error"] == "requirements_missing" and "Persyaratan belum lengkap" in data["message"]
    assert [(m["index"], m["en"]) for m in data["missing"]] == [
        (3, "Family card request F-1.15"),
        (4, "Supporting documents (birth certificate, diploma, marriage book, passport ...)")]
    assert count_applications(app) == 0
    with app.extensions["loket"].db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.entity_type == "application")) == 0
    bad = register(fo1, cid, nik="1471013205900001")  # birth day 32
    assert bad.status_code == 422 and bad.get_json()["details"]["field"] == "nik"
    assert register(fo1, cid, confirmed="all").status_code == 422
    assert count_applications(app) == 0
    r = register(fo1, cid)
    assert r.status_code == 201 and r.get_json()["application"]["resi_number"].endswith("-0001")


# ---------------------------------------------------------------------------- the chain
def test_worklists_and_the_ktp_el_chain_with_the_demo_roles(app):
    data = registered(app, "ktp_el")
    app_id = data["application"]["id"]
    kasi, kabid, fo1 = staff_client(app, "kasi"), staff_client(app, "kabid"), staff_client(app, "fo1")
    aktivasi, ambil, manager = staff_client(app, "aktivasi"), staff_client(app, "ambil"), staff_client(app, "manager")

    [line] = worklist(kasi)  # default: the caller's role
    assert line["id"] == app_id and line["step"]["code"] == "kasi_verify" and line["standard_minutes"] == 30.0
    assert line["waiting_minutes"] >= 0 and line["late"] is False and line["due_date"] == data["resi"]["due_date"]
    assert line["overdue_working_days"] == 0 and line["version"] == 1
    assert worklist(kabid) == worklist(fo1) == worklist(ambil) == []
    assert [a["id"] for a in worklist(kabid, "section_head")] == [app_id]
    assert [a["id"] for a in worklist(manager)] == [app_id]  # managers: every open file
    assert kasi.get("/api/v1/offices/DEMO/worklist?role=boss").status_code == 422
    assert app.test_client().get("/api/v1/offices/DEMO/worklist").status_code == 401

    assert act(kabid, app_id, "approve", 1).status_code == 403  # Kasi's step
    r = act(kasi, app_id, "approve", 1)
    assert r.status_code == 200 and r.get_json()["application"]["step"]["code"] == "kabid_verify"
    assert worklist(kasi) == [] and [a["id"] for a in worklist(kabid)] == [app_id]
    assert act(kabid, app_id, "approve", 2).get_json()["application"]["step"]["code"] == "print"
    assert [a["id"] for a in worklist(fo1)] == [app_id]  # printing goes to the front office
    agent = CardAgent(app)  # the printed card is bound at print, then activated in person (issue 5)
    bind_and_print(app, app_id, agent, "04A1B2C3D4E5F6")
    assert [a["id"] for a in worklist(aktivasi)] == [app_id]
    activate(app, app_id, agent, "04A1B2C3D4E5F6", data["resi"]["number"], shelf_location="RAK-A-07")
    agent.close()
    ready = aktivasi.get(f"/api/v1/applications/{app_id}").get_json()["application"]
    assert (ready["status"], ready["step"]["code"], ready["shelf_location"]) == ("ready", "hand_over", "RAK-A-07")
    [waiting] = worklist(ambil)
    assert waiting["waits_for_citizen"] is True and waiting["late"] is False

    assert act(ambil, app_id, "hand-over", ready["version"], collector={}).status_code == 422
    done = act(ambil, app_id, "hand-over", ready["version"], collector={"kind": "applicant", "name": NAME, "nik": NIK})
    assert done.status_code == 200
    closed = done.get_json()["application"]
    assert (closed["status"], closed["step"], closed["collector"]["kind"]) == ("collected", None, "applicant")
    assert worklist(manager) == []

    view = kasi.get(f"/api/v1/applications/{app_id}").get_json()
    card = view["control_card"]
    assert [st["state"] for st in card["steps"]] == ["done"] * len(card["steps"]) and card["current"] is None
    assert [st["code"] for st in card["steps"]][4:] == ["kasi_verify", "kabid_verify", "print", "activate", "hand_over",
                                                        "sign_receipt"]
    assert card["steps"][4]["visits"][0]["actor_role"] == "section_head"
    assert view["application"]["resi"]["number"] == data["resi"]["number"]
    assert kasi.get("/api/v1/applications/999999").status_code == 404


def test_return_for_correction_and_reapproval_through_the_api(app):
    app_id = registered(app)["application"]["id"]
    kasi, kabid = staff_client(app, "kasi"), staff_client(app, "kabid")
    act(kasi, app_id, "approve", 1)
    assert act(kabid, app_id, "return", 2, reason="  ").status_code == 422
    r = act(kabid, app_id, "return", 2, reason="Nama ayah tidak sesuai akta")
    assert r.status_code == 200
    back = r.get_json()["application"]
    assert (back["status"], back["step"]["code"], back["version"]) == ("returned", "kasi_verify", 3)
    assert [a["status"] for a in worklist(kasi)] == ["returned"]
    again = act(kasi, app_id, "approve", 3).get_json()["application"]
    assert (again["status"], again["step"]["code"]) == ("in_progress", "kabid_verify")
    lines = kasi.get(f"/api/v1/applications/{app_id}").get_json()["control_card"]["steps"][5]["visits"]
    assert lines[0]["action"] == "return" and lines[0]["reason"] == "Nama ayah tidak sesuai akta"


def test_a_stale_version_is_a_409_conflict(app):
    app_id = registered(app)["application"]["id"]
    kasi = staff_client(app, "kasi")
    assert act(kasi, app_id, "approve", 1).status_code == 200
    for action, extra in (("approve", {}), ("return", {"reason": "salah"})):
        r = act(kasi, app_id, action, 1, **extra)  # the file was at version 1 when the other officer saw it
        assert r.status_code == 409
        body = r.get_json()
        assert body["error"] == "version_conflict" and "sudah diproses petugas lain" in body["message"]
        en = kasi.post(f"/api/v1/applications/{app_id}/{action}", json={"expected_version": 1, **extra},
                       headers={"X-CSRFToken": kasi.csrf, "Accept-Language": "en"}).get_json()["message"]
        assert "already processed by another officer" in en and "now version 2" in en
        assert body["details"]["current_version"] == 2 and body["details"]["expected_version"] == 1
    r = post(kasi, f"/api/v1/applications/{app_id}/approve", {})
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "expected_version"


# ---------------------------------------------------------------------------- public status
PERSONAL = (NIK, "147101", PHONE, "3456", EMAIL, "budi@", NAME, "Santoso")


def assert_nothing_personal(answer: dict) -> None:
    text = json.dumps(answer)
    for secret in PERSONAL:
        assert secret not in text, secret
    assert not {"applicant_name", "applicant_nik", "nik", "phone", "email", "collector", "id"} & set(answer)


def test_public_status_by_payload_and_by_number_with_birth_date(app):
    data = registered(app)
    payload, number = data["resi"]["payload"], data["resi"]["number"]
    r = public(app, payload)
    assert r.status_code == 200
    answer = r.get_json()
    assert answer == {
        "resi_number": number, "office": {"code": "DEMO", "name": answer["office"]["name"]},
        "service": {"code": "kk", "name_id": answer["service"]["name_id"], "name_en": answer["service"]["name_en"]},
        "step": {"code": "kasi_verify", "name_id": "Verifikasi dan paraf Kepala Seksi",
                 "name_en": "Section head verifies and initials"},
        "step_name": "Verifikasi dan paraf Kepala Seksi", "status": "in_progress", "ready": False,
        "due_date": data["resi"]["due_date"], "name": "B*** S******"}
    assert_nothing_personal(answer)

    for check in (BIRTH, "12-05-1990", "12/05/1990", "12051990"):
        r = public(app, number, check=check)
        assert r.status_code == 200 and r.get_json() == answer, check
    parts = number.lower().split("-")
    typed = " ".join(parts[:-1] + [str(int(parts[-1]))])  # "demo b 20261123 1": forgiven and re-padded
    assert public(app, typed, check=BIRTH).get_json()["resi_number"] == number

    r = public(app, number)  # a number alone would let anyone walk through the day's files
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "check"
    wrong = public(app, number, check="1990-05-13")
    unknown = public(app, number[:-4] + "0999", check=BIRTH)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json() and wrong.get_json()["error"] == "resi_unknown"
    assert public(app, "DEMO-B-2026", check=BIRTH).status_code == 422  # not a resi number

    # Ready: the public status says so, still nothing personal.
    kasi, kabid, admin = staff_client(app, "kasi"), staff_client(app, "kabid"), staff_client(app, "admin")
    fo1 = staff_client(app, "fo1")
    act(kasi, data["application"]["id"], "approve", 1)
    act(kabid, data["application"]["id"], "approve", 2)
    act(admin, data["application"]["id"], "approve", 3)  # Kadis signs (no demo login for head_of_office)
    act(fo1, data["application"]["id"], "approve", 4, shelf_location="RAK-B-03")
    ready = public(app, payload).get_json()
    assert (ready["status"], ready["ready"], ready["step"]["code"]) == ("ready", True, "hand_over")
    assert "RAK" not in json.dumps(ready)
    assert_nothing_personal(ready)


def test_forged_altered_truncated_and_foreign_payloads_are_refused(app):
    data = registered(app)
    payload = data["resi"]["payload"]
    version, office, number, rid, sig = payload.split(".")

    def refused(ref: str, code: str, **query) -> None:
        r = public(app, ref, **query)
        assert r.status_code == 400, (ref, r.get_json())
        assert r.get_json()["error"] == code, (ref, r.get_json())
        assert "Budi" not in r.get_data(as_text=True)

    other_key = ResiSigner(derive_key("another-installation"))
    refused(other_key.make_payload(int(rid), office, number), "resi_forged")  # signed with another key
    refused(".".join([version, office, number[:-1] + "2", rid, sig]), "resi_forged")  # another resi number
    refused(".".join([version, office, number, str(int(rid) + 1), sig]), "resi_forged")  # another id
    refused(".".join([version, "DEMO2", number, rid, sig]), "resi_forged")  # another office
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    refused(".".join([version, office, number, rid, flipped]), "resi_forged")
    refused(payload[:-3], "resi_malformed")  # truncated signature
    refused(".".join([version, office, number, rid]), "resi_malformed")  # no signature
    refused(payload[:12], "resi_malformed")
    refused("LKT9." + payload[5:], "resi_malformed")  # unknown version
    refused("hello world", "resi_foreign")
    refused("WIFI:S:lobby;T:WPA;P:secret;;", "resi_foreign")
    refused(payload, "resi_wrong_office", office="KOTA")  # genuine, but another office asks
    assert public(app, payload, office="DEMO").status_code == 200
    gone = signer(app).make_payload(999999, "DEMO", "DEMO-B-20260101-0001")  # genuine shape, no such file
    assert public(app, gone).status_code == 404 and public(app, gone).get_json()["error"] == "resi_unknown"


def test_failed_birth_date_checks_are_throttled_per_number(app):
    number = registered(app)["resi"]["number"]
    for _ in range(10):
        assert public(app, number, check="2000-01-01").status_code == 404
    r = public(app, number, check=BIRTH)  # even the right date now waits
    assert r.status_code == 429 and r.get_json()["error"] == "too_many_attempts"
    other = number[:-4] + "0002"
    assert public(app, other, check="2000-01-01").status_code == 404  # another number is not blocked
    assert public(app, registered_payload(app, number)).status_code == 200  # the QR never is


def registered_payload(app_, number: str) -> str:
    with app_.extensions["loket"].db.session() as s:
        app_id = s.scalar(select(Application.id).where(Application.resi_number == number))
    return signer(app_).make_payload(app_id, "DEMO", number)


# ---------------------------------------------------------------------------- print
def test_print_resi_queues_a_resi_job_for_a_printer(app):
    data = registered(app)
    app_id = data["application"]["id"]
    fo1 = staff_client(app, "fo1")
    first = post(fo1, f"/api/v1/applications/{app_id}/print-resi")
    assert first.status_code == 200, first.get_json()
    job = first.get_json()["job"]
    assert first.get_json()["job_id"] == job["job_id"] == f"r{app_id}-1"
    assert (job["kind"], job["ticket_id"], job["application_id"]) == ("resi", None, app_id)
    assert job["resi_number"] == data["resi"]["number"] and job["name"] == "B*** S******"
    assert job["qr_payload"] == data["resi"]["payload"] and job["status_url"] == data["resi"]["status_url"]
    assert job["due_date"] == data["resi"]["due_date"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", job["date"])
    assert job["office"]["code"] == "DEMO" and job["service"]["code"] == "kk" and job["pickup_instructions"]
    assert NIK not in json.dumps(job) and PHONE not in json.dumps(job) and NAME not in json.dumps(job)
    assert post(fo1, f"/api/v1/applications/{app_id}/print-resi").get_json()["job_id"] == f"r{app_id}-2"
    ktp = registered(app, "ktp_el")
    lines = post(fo1, f"/api/v1/applications/{ktp['application']['id']}/print-resi").get_json()["job"]
    assert any("aktivasi" in line for line in lines["pickup_instructions"])
    r = post(fo1, f"/api/v1/applications/{app_id}/print-resi", {"device_id": 999999})
    assert r.status_code == 404
    with app.extensions["loket"].db.session() as s:
        assert s.scalar(select(func.count()).where(AuditEntry.action == "application.print_resi")) == 3


def device_ids(app_) -> dict[str, int]:
    with app_.extensions["loket"].db.session() as s:
        return {d.name: d.id for d in s.scalars(select(Device).where(Device.active.is_(True)))}


def test_the_resi_goes_to_the_serving_counters_printer_else_the_kiosk(app):
    ids = device_ids(app)
    counter_printer, kiosk = ids["Printer Resi Loket 1-5"], ids["Kiosk Lobi"]
    fo1 = staff_client(app, "fo1")
    at_1 = registered(app)["application"]["id"]  # served at counter 1: the counter printer serves 1-5
    answer = post(fo1, f"/api/v1/applications/{at_1}/print-resi").get_json()
    assert (answer["device_id"], answer["device"]) == (counter_printer, "Printer Resi Loket 1-5")

    def set_counters(settings: dict) -> None:
        with app.extensions["loket"].db.session() as s:
            s.get(Device, counter_printer).settings = settings

    set_counters({"counters": [2, 3]})  # no printer for counter 1 any more: the kiosk's printer
    assert post(fo1, f"/api/v1/applications/{at_1}/print-resi").get_json()["device_id"] == kiosk
    set_counters({})  # an office-wide printer (no counters setting) wins over the kiosk
    assert post(fo1, f"/api/v1/applications/{at_1}/print-resi").get_json()["device_id"] == counter_printer

    # The officer may name a printer or kiosk of the office, never a screen or station.
    assert post(fo1, f"/api/v1/applications/{at_1}/print-resi", {"device_id": kiosk}).get_json()["device_id"] == kiosk
    r = post(fo1, f"/api/v1/applications/{at_1}/print-resi", {"device_id": ids["TV Ruang Tunggu"]})
    assert r.status_code == 404 and "printer" in r.get_json()["message"]


# ---------------------------------------------------------------------------- the page
def test_the_resi_page_renders_the_status_and_refuses_bad_payloads(app):
    data = registered(app)
    payload, number = data["resi"]["payload"], data["resi"]["number"]
    client = app.test_client()
    r = client.get(f"/r/{payload}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="id">' in html and number in html and "B*** S******" in html
    assert "Sedang diproses" in html and "Verifikasi dan paraf Kepala Seksi" in html and "js/resi.js" in html
    for secret in (NIK, PHONE, EMAIL, NAME):
        assert secret not in html
    en = client.get(f"/r/{payload}?lang=en").get_data(as_text=True)
    assert "In progress" in en and "Section head verifies and initials" in en

    other_key = ResiSigner(derive_key("another-installation"))
    forged = client.get("/r/" + other_key.make_payload(data["application"]["id"], "DEMO", number) + "?lang=id")
    assert forged.status_code == 400
    text = forged.get_data(as_text=True)
    assert 'data-code="resi_forged"' in text and "resi palsu atau telah diubah" in text
    assert 'data-testid="resi-number"' not in text and "B*** S******" not in text
    foreign = client.get("/r/hello")
    assert foreign.status_code == 400 and 'data-code="resi_foreign"' in foreign.get_data(as_text=True)
    assert client.get("/r/" + payload[:-4]).status_code == 400
    gone = client.get("/r/" + signer(app).make_payload(999999, "DEMO", "DEMO-B-20260101-0001"))
    assert gone.status_code == 404 and 'data-code="resi_unknown"' in gone.get_data(as_text=True)

    form = client.get("/r/")
    assert form.status_code == 200 and 'data-testid="lookup-form"' in form.get_data(as_text=True)
    found = client.get("/r/", query_string={"number": number, "check": "12-05-1990"})
    assert found.status_code == 200 and "B*** S******" in found.get_data(as_text=True)
    missed = client.get("/r/", query_string={"number": number, "check": "1991-01-01"})
    assert missed.status_code == 404 and "tanggal lahir tidak cocok" in missed.get_data(as_text=True)


def test_openapi_lists_the_application_routes(app):
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/counters/{counter_id}/application", "/api/v1/offices/{code}/worklist",
                 "/api/v1/applications/{application_id}", "/api/v1/applications/{application_id}/approve",
                 "/api/v1/applications/{application_id}/return", "/api/v1/applications/{application_id}/hand-over",
                 "/api/v1/applications/{application_id}/print-resi", "/api/v1/resi/{ref}"):
        assert path in paths, path
    assert "409" in paths["/api/v1/applications/{application_id}/approve"]["post"]["responses"]
