"""The KTP-el card bound at print and the activation counter over the REST API (issue 5),
on SQLite and PostgreSQL; card taps come from the activation station's agent socket.
(The real PC/SC stack is in tests/activation/test_pcsc.py.)"""
from __future__ import annotations

from sqlalchemy import func, select

from server.models import Activation, AuditEntry, CardBinding, Service, Ticket
from tests.server.activation_flow import CardAgent, act, activate, bind_and_print, to_print, version
from tests.server.test_api import app, counter_id, kiosk_issue, post, staff_client  # noqa: F401  (app: fixture)
from tests.server.test_applications_api import registered
from tests.server.test_pickup_api import pickup_device

UID, OTHER, STRANGER = "04A1B2C3D4E5F6", "04112233445566", "04DEADBEEF0001"


def refusals(app_) -> list[str]:
    with app_.extensions["loket"].db.session() as s:
        return [e.data["reason"] for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "activation.refused")
                                                     .order_by(AuditEntry.id))]


def ktp(app_, nik: str = "1471011205900001", name: str = "Budi Santoso") -> tuple[int, str]:
    data = registered(app_, "ktp_el", nik=nik, name=name)
    return data["application"]["id"], data["resi"]["number"]


def test_printing_needs_the_card_bound_and_a_card_binds_once(app):
    agent = CardAgent(app)
    fo1 = staff_client(app, "fo1")
    app_id, _ = ktp(app)
    r = post(fo1, f"/api/v1/applications/{app_id}/card", {"device_id": agent.device_id, "expected_version": 1})
    assert r.status_code == 409 and r.get_json()["error"] == "not_at_print"
    to_print(app, app_id)
    r = act(fo1, app_id, "approve", version(app, app_id))
    assert r.status_code == 409 and r.get_json()["error"] == "card_not_bound"
    r = post(fo1, f"/api/v1/applications/{app_id}/card", {"device_id": agent.device_id,
                                                          "expected_version": version(app, app_id)})
    assert r.status_code == 409 and r.get_json()["error"] == "no_card"
    agent.tap("04:a1:b2:c3:d4:e5:f6")  # separators and case as a reader may give them
    r = post(fo1, f"/api/v1/applications/{app_id}/card", {"device_id": agent.device_id,
                                                          "expected_version": version(app, app_id)})
    assert r.status_code == 200 and r.get_json()["card"]["uid"] == UID
    with app.extensions["loket"].db.session() as s:
        binding = s.get(CardBinding, app_id)
        assert (binding.nik, binding.reader, binding.atr[:4]) == ("1471011205900001", "Virtual PCD 00 00", "3B8F")

    other_id, _ = ktp(app, nik="1471010101900003", name="Andi Wijaya")
    to_print(app, other_id)
    r = post(fo1, f"/api/v1/applications/{other_id}/card", {"device_id": agent.device_id,
                                                            "expected_version": version(app, other_id)})
    assert r.status_code == 409 and r.get_json()["error"] == "bound_elsewhere"
    kk_id = registered(app, "kk", nik="1471010101900005", name="Rina")["application"]["id"]
    r = post(fo1, f"/api/v1/applications/{kk_id}/card", {"device_id": agent.device_id, "expected_version": 1})
    assert r.status_code == 409 and r.get_json()["error"] == "not_ktp"
    assert act(fo1, app_id, "approve", version(app, app_id)).get_json()["application"]["step"]["code"] == "activate"
    # The activate step is the activation counter's, never a plain approval.
    r = act(staff_client(app, "aktivasi"), app_id, "approve", version(app, app_id))
    assert r.status_code == 409 and r.get_json()["error"] == "activation_required"
    agent.close()


def test_activation_success_moves_the_file_to_hand_over_and_pickup_accepts_it(app):
    agent = CardAgent(app)
    app_id, resi = ktp(app)
    to_print(app, app_id)
    bind_and_print(app, app_id, agent, UID)
    ambil = staff_client(app, "ambil")
    scan = post(ambil, f"/api/v1/pickup/{pickup_device(app)}/lookup", {"code": resi}).get_json()
    assert scan["refusal"] == "ktp_not_activated"

    officer = staff_client(app, "aktivasi")
    base = f"/api/v1/activation/{agent.device_id}"
    state = officer.get(base).get_json()
    assert state["session"] is None and state["station"]["card"]["present"] is False
    session = post(officer, f"{base}/open", {"ref": "1471011205900001"}).get_json()["session"]  # by NIK
    assert session["card"]["state"] == "waiting" and session["application"]["resi_number"] == resi
    agent.tap(UID)
    session = officer.get(base).get_json()["session"]
    assert session["card"]["state"] == "match" and session["can_complete"] is False
    session = post(officer, f"{base}/fingerprint", {"result": "no_match", "expected_version": session["version"]}
                   ).get_json()["session"]
    assert session["fingerprint"] == {"attempts": 1, "session_failures": 1, "failures": 1, "max_failures": 4,
                                      "verified": False, "blocked": False}
    session = post(officer, f"{base}/fingerprint", {"result": "match", "expected_version": session["version"]}
                   ).get_json()["session"]
    assert session["can_complete"] is True
    r = post(officer, f"{base}/complete", {"in_person": True, "expected_version": session["version"]})
    assert r.status_code == 409 and r.get_json()["error"] == "checklist_incomplete"
    r = post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True, "expected_version": 1})
    assert r.status_code == 409 and r.get_json()["error"] == "version_conflict"
    r = post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True,
                                           "expected_version": session["version"], "shelf_location": "RAK-A-07"})
    assert r.status_code == 200 and r.get_json()["session"]["status"] == "completed"
    assert officer.get(base).get_json()["session"] is None

    scan = post(ambil, f"/api/v1/pickup/{pickup_device(app)}/lookup", {"code": resi}).get_json()
    assert scan["result"] == "ok" and scan["application"]["shelf_location"] == "RAK-A-07"
    with app.extensions["loket"].db.session() as s:
        [done] = s.scalars(select(AuditEntry).where(AuditEntry.action == "activation.completed")).all()
        assert (done.data["uid"], done.data["attempts"], done.data["reader"]) == (UID, 2, "Virtual PCD 00 00")
        assert done.actor_type == "staff" and s.get(CardBinding, app_id).activated_at is not None
    r = post(officer, f"{base}/open", {"ref": resi})
    assert r.status_code == 409 and r.get_json()["error"] == "already_activated"
    agent.close()


def test_refusals_each_with_a_message_and_an_audit_entry(app):
    agent = CardAgent(app)
    officer = staff_client(app, "aktivasi")
    base = f"/api/v1/activation/{agent.device_id}"
    app_id, resi = ktp(app)
    kk_resi = registered(app, "kk", nik="1471010101900005", name="Rina")["resi"]["number"]
    answers = {ref: post(officer, f"{base}/open", {"ref": ref}) for ref in
               (resi, kk_resi, "DEMO-A-20200101-9999", "LKT1.DEMO.X.1.AAAA", "9999999999999999")}
    assert {ref: (r.status_code, r.get_json()["error"]) for ref, r in answers.items()} == {
        resi: (409, "not_printed"), kk_resi: (409, "not_ktp"), "DEMO-A-20200101-9999": (404, "resi_unknown"),
        "LKT1.DEMO.X.1.AAAA": (409, "resi_malformed"), "9999999999999999": (404, "application_unknown")}
    assert "belum dicetak" in answers[resi].get_json()["message"]

    to_print(app, app_id)
    bind_and_print(app, app_id, agent, UID)
    other_id, _ = ktp(app, nik="1471010101900003", name="Andi Wijaya")
    to_print(app, other_id)
    bind_and_print(app, other_id, agent, OTHER)

    session = post(officer, f"{base}/open", {"ref": resi}).get_json()["session"]
    for uid, refusal in ((STRANGER, "unknown_card"), (OTHER, "bound_elsewhere")):
        agent.tap(uid)
        card = officer.get(base).get_json()["session"]["card"]
        assert (card["state"], card["refusal"]) == ("mismatch", refusal) and card["message"]
        agent.lift(uid)
    session = officer.get(base).get_json()["session"]
    assert session["card"]["state"] == "removed"
    session = post(officer, f"{base}/fingerprint", {"result": "match", "expected_version": session["version"]}
                   ).get_json()["session"]
    r = post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True,
                                           "expected_version": session["version"]})
    assert r.status_code == 409 and r.get_json()["error"] == "card_not_present"
    agent.tap(OTHER)  # another file's card on the reader at completion
    session = officer.get(base).get_json()["session"]
    r = post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True,
                                           "expected_version": session["version"]})
    assert r.status_code == 409 and r.get_json()["error"] == "card_mismatch"
    agent.lift(OTHER)

    # The card pulled mid-flow: nothing half-done is kept.
    agent.tap(UID)
    agent.lift(UID)
    session = officer.get(base).get_json()["session"]
    r = post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True,
                                           "expected_version": session["version"]})
    assert r.status_code == 409 and r.get_json()["error"] == "card_not_present"
    with app.extensions["loket"].db.session() as s:
        assert s.get(CardBinding, app_id).activated_at is None
        assert s.scalar(select(func.count()).where(Activation.status == "completed")) == 0
    assert version(app, app_id) == 4 and staff_client(app, "kasi").get(
        f"/api/v1/applications/{app_id}").get_json()["application"]["step"]["code"] == "activate"

    # The reader unplugged: the session shows the card gone; the device page shows the reader.
    agent.tap(UID)
    agent.unplug()
    assert officer.get(base).get_json()["session"]["card"]["state"] == "removed"
    assert officer.get(base).get_json()["station"]["card"]["present"] is False

    assert refusals(app) == ["not_printed", "not_ktp", "resi_unknown", "resi_malformed", "application_unknown",
                             "card_not_present", "card_mismatch", "card_not_present"]
    with app.extensions["loket"].db.session() as s:
        card_refusals = [e.data["reason"] for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "activation.card_refused").order_by(AuditEntry.id))]
    assert card_refusals == ["unknown_card", "bound_elsewhere", "bound_elsewhere"]
    agent.close()


def test_four_failed_fingerprints_block_until_a_section_head_releases(app):
    agent = CardAgent(app)
    officer, kasi = staff_client(app, "aktivasi"), staff_client(app, "kasi")
    base = f"/api/v1/activation/{agent.device_id}"
    app_id, resi = ktp(app)
    to_print(app, app_id)
    bind_and_print(app, app_id, agent, UID)
    session = post(officer, f"{base}/open", {"ref": resi}).get_json()["session"]
    for _ in range(4):
        session = post(officer, f"{base}/fingerprint", {"result": "no_match", "expected_version": session["version"]}
                       ).get_json()["session"]
    assert session["fingerprint"]["blocked"] is True and session["fingerprint"]["failures"] == 4
    r = post(officer, f"{base}/fingerprint", {"result": "match", "expected_version": session["version"]})
    assert r.status_code == 409 and r.get_json()["error"] == "activation_blocked"
    r = post(officer, f"{base}/open", {"ref": resi})
    assert r.status_code == 409 and r.get_json()["error"] == "activation_blocked"
    assert "Kepala Seksi" in r.get_json()["message"]

    release = f"/api/v1/applications/{app_id}/activation-release"
    assert post(officer, release, {"reason": "x"}).status_code == 403
    assert post(kasi, release, {"reason": ""}).status_code == 422
    assert post(kasi, release, {"reason": "Sidik jari diverifikasi ulang di alat kedua"}).status_code == 200
    assert post(kasi, release, {"reason": "again"}).status_code == 409
    done = activate(app, app_id, agent, UID, resi)
    assert done["status"] == "completed"
    with app.extensions["loket"].db.session() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry).where(
            AuditEntry.entity_id == app_id, AuditEntry.action.like("activation.%")).order_by(AuditEntry.id))]
    assert actions.count("activation.fingerprint") == 5 and "activation.blocked" in actions
    assert actions.index("activation.blocked") < actions.index("activation.released") < actions.index(
        "activation.completed")
    agent.close()


def test_only_activation_staff_of_the_office_use_the_station(app):
    agent = CardAgent(app)
    base = f"/api/v1/activation/{agent.device_id}"
    assert staff_client(app, "fo1").get(base).status_code == 403
    assert staff_client(app, "aktivasi").get("/api/v1/activation/999999").status_code == 404
    assert staff_client(app, "aktivasi").get(f"/api/v1/activation/{pickup_device(app)}").status_code == 404
    assert app.test_client().get(base).status_code == 401
    agent.close()


def test_the_managers_report_agrees_with_what_happened(app):
    agent = CardAgent(app)
    officer = staff_client(app, "aktivasi")
    base = f"/api/v1/activation/{agent.device_id}"
    # The activation queue: a ticket called and served at counter 7 by the activation officer.
    cid = counter_id(app, 7)
    assert post(officer, f"/api/v1/counters/{cid}/open").status_code == 200
    assert kiosk_issue(app, "ktp_activation").status_code == 201
    assert post(officer, f"/api/v1/counters/{cid}/call-next", {"finish_current": True}).status_code == 200
    assert post(officer, f"/api/v1/counters/{cid}/start").status_code == 200
    desk = officer.get(base).get_json()["station"]["desk"]
    assert (desk["counter"], desk["ticket"][0], desk["ticket_status"]) == (7, "H", "serving")

    app_id, resi = ktp(app)
    assert post(officer, f"{base}/open", {"ref": resi}).status_code == 409  # not_printed
    to_print(app, app_id)
    bind_and_print(app, app_id, agent, UID)
    session = post(officer, f"{base}/open", {"ref": resi}).get_json()["session"]
    agent.tap(STRANGER)  # unknown_card
    agent.lift(STRANGER)
    agent.tap(UID)
    session = officer.get(base).get_json()["session"]
    session = post(officer, f"{base}/fingerprint", {"result": "no_match", "expected_version": session["version"]}
                   ).get_json()["session"]
    session = post(officer, f"{base}/fingerprint", {"result": "match", "expected_version": session["version"]}
                   ).get_json()["session"]
    assert post(officer, f"{base}/complete", {"in_person": True, "identity_checked": True,
                                              "expected_version": session["version"]}).status_code == 200
    assert post(officer, f"/api/v1/counters/{cid}/finish").status_code == 200
    with app.extensions["loket"].db.session() as s:  # the activation names the ticket it served
        [done] = s.scalars(select(AuditEntry).where(AuditEntry.action == "activation.completed")).all()
        assert done.data["ticket_id"] is not None and done.data["counter_id"] == cid

    manager = staff_client(app, "manager")
    assert officer.get("/api/v1/offices/DEMO/reports/activations").status_code == 403
    report = manager.get("/api/v1/offices/DEMO/reports/activations").get_json()
    assert len(report["days"]) == 7 and report["days"][-1]["date"] == report["to"]
    assert report["totals"] == {"activations": 1, "fingerprint_failures": 1, "blocked": 0, "released": 0,
                                "refusals": {"not_printed": 1, "unknown_card": 1}}
    assert report["days"][-1]["activations"] == 1 and sum(d["activations"] for d in report["days"]) == 1
    assert {r["reason"] for r in report["refusals_by_reason"]} == {"not_printed", "unknown_card"}
    # The activation queue first, then the others; the figures are the tickets' own.
    first = report["queue"][0]
    assert (first["service"], first["kind"], first["issued"], first["served"]) == ("ktp_activation", "activation", 1, 1)
    with app.extensions["loket"].db.session() as s:
        t = s.scalars(select(Ticket).join(Service).where(Service.code == "ktp_activation")).one()
        assert first["wait_time"]["max_s"] == (t.first_called_at - t.issued_at).total_seconds()
        assert first["service_time"]["max_s"] == (t.finished_at - t.started_at).total_seconds()
    assert [r["service"] for r in report["queue"]] == ["ktp_activation", "ktp_el"]
    r = manager.get("/api/v1/offices/DEMO/reports/activations?from=2026-01-10&to=2026-01-01")
    assert r.status_code == 422
    agent.close()
