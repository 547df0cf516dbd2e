"""The server side of printing once: ``print_backlog`` (who may ask, what it lists, in which
order), the print job of a repeated kiosk request, and the staff reprint mark; on SQLite
with Flask-SocketIO's test client (the agent end-to-end tests are in test_print_once.py)."""
from __future__ import annotations

from sqlalchemy import func, select

from server.models import AuditEntry, Device, DeviceKind
from server.services.accounts import create_device
from server.services.actors import SYSTEM
from tests.server.test_agents import app  # noqa: F401  (fixture: the demo app on SQLite, seeded)
from tests.server.test_api import kiosk_issue, post, staff_client
from tests.server.test_applications_api import registered
from tests.sockets import agent_socket, screen_socket


def connect(app, token: str, agent: bool = True):
    """An agent's connection ("/agents"), or with ``agent=False`` the kiosk page's ("/")."""
    return agent_socket(app, token) if agent else screen_socket(app, auth={"token": token})


def token(app, key: str) -> str:
    return app.config["SEEDED"]["tokens"][key]


def pull(client) -> dict:
    return client.emit("print_backlog", {}, callback=True)


def pushes(client) -> list[dict]:
    return [m["args"][0] for m in client.get_received() if m["name"] == "print_job"]


def test_a_kiosk_pulls_its_unprinted_jobs_in_issue_order(app):
    issued = [kiosk_issue(app).get_json() for _ in range(3)]
    kiosk = connect(app, token(app, "kiosk"))
    answer = pull(kiosk)
    assert answer["ok"] is True
    jobs = answer["jobs"]
    assert [j["job_id"] for j in jobs] == [i["print"]["job_id"] for i in issued]
    assert [j["number"] for j in jobs] == ["A001", "A002", "A003"]
    assert all(isinstance(j["order"], int) for j in jobs) and [j["order"] for j in jobs] == sorted(j["order"] for j in jobs)
    assert [j["reprint"] for j in jobs] == [False] * 3
    assert jobs[0]["status_url"] == issued[0]["status_url"]

    ok = kiosk.emit("print_result", {"job_id": jobs[0]["job_id"], "ticket_id": jobs[0]["ticket_id"], "ok": True},
                    callback=True)
    assert ok == {"ok": True}
    assert [j["number"] for j in pull(kiosk)["jobs"]] == ["A002", "A003"]
    failed = {"job_id": jobs[1]["job_id"], "ticket_id": jobs[1]["ticket_id"], "ok": False, "error": "kertas habis"}
    kiosk.emit("print_result", failed, callback=True)
    assert [j["number"] for j in pull(kiosk)["jobs"]] == ["A002", "A003"]  # a failed job still waits
    with app.extensions["loket"].db.session() as s:
        result = s.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.print_result")
                           .order_by(AuditEntry.id)).first()
        assert result.data == {"ok": True, "error": None, "job_id": jobs[0]["job_id"]}


def test_a_staff_reprint_is_marked_and_supersedes_the_job_on_another_kiosk(app):
    ticket = kiosk_issue(app).get_json()["ticket"]
    with app.extensions["loket"].db.session() as s:
        office_id = s.scalars(select(Device)).first().office_id
        other, other_token = create_device(s, office_id, DeviceKind.KIOSK.value, "Kiosk Lantai 2", actor=SYSTEM)
        other_id = other.id
    fo1 = staff_client(app, "fo1")
    reprint = post(fo1, f"/api/v1/tickets/{ticket['id']}/reprint", {"device_id": other_id}).get_json()
    assert reprint["job_id"] == f"t{ticket['id']}-2"
    assert pull(connect(app, token(app, "kiosk")))["jobs"] == []  # superseded there
    [job] = pull(connect(app, other_token))["jobs"]
    assert (job["job_id"], job["reprint"]) == (reprint["job_id"], True)


def test_only_kiosk_and_printer_agents_pull_and_only_their_own_jobs(app):
    kiosk_issue(app)
    printer = connect(app, token(app, "counter_printer"))
    assert pull(printer) == {"ok": True, "jobs": []}  # the kiosk's tickets are not its jobs
    for key in ("display_agent", "pickup"):
        answer = pull(connect(app, token(app, key)))
        assert (answer["ok"], answer["error"]) == (False, "forbidden")
    page = connect(app, token(app, "kiosk"), agent=False)  # the kiosk's screen, not its agent
    assert page.is_connected() and not pull(page)  # no agent event on the screens' namespace
    assert connect(app, token(app, "kiosk")).emit("print_backlog", "x", callback=True)["error"] == "validation_error"


def test_resi_jobs_are_in_the_counter_printers_backlog(app):
    data = registered(app)
    app_id = data["application"]["id"]
    fo1 = staff_client(app, "fo1")
    sent = post(fo1, f"/api/v1/applications/{app_id}/print-resi").get_json()
    printer = connect(app, token(app, "counter_printer"))
    [job] = pull(printer)["jobs"]
    assert (job["job_id"], job["kind"], job["application_id"]) == (sent["job_id"], "resi", app_id)
    assert job["qr_payload"] == sent["job"]["qr_payload"] and job["order"] == sent["job"]["order"]
    assert job["resi_number"] == data["resi"]["number"] and job["name"] == "B*** S******"
    result = {"job_id": job["job_id"], "application_id": app_id, "ok": True, "error": None}
    assert printer.emit("print_result", result, callback=True) == {"ok": True}
    assert pull(printer)["jobs"] == []


def test_a_repeated_request_answers_the_first_job_and_pushes_it_again_while_unprinted(app):
    kiosk = connect(app, token(app, "kiosk"))
    first = kiosk_issue(app, request_id="tap-1").get_json()
    [pushed] = pushes(kiosk)
    assert pushed["job_id"] == first["print"]["job_id"] and isinstance(pushed["order"], int)
    again = kiosk_issue(app, request_id="tap-1")
    assert again.status_code == 200 and again.get_json()["repeated"] is True
    assert again.get_json()["print"] == first["print"]
    [repushed] = pushes(kiosk)  # the same job (a push lost after the commit is repaired)
    assert (repushed["job_id"], repushed["order"]) == (pushed["job_id"], pushed["order"])
    kiosk.emit("print_result", {"job_id": pushed["job_id"], "ticket_id": pushed["ticket_id"], "ok": True},
               callback=True)
    assert kiosk_issue(app, request_id="tap-1").get_json()["print"] == first["print"]
    assert pushes(kiosk) == []  # printed: nothing to repair
    with app.extensions["loket"].db.session() as s:
        jobs = s.scalar(select(func.count()).where(AuditEntry.action == "ticket.print"))
    assert jobs == 1  # no new job, ever
