"""The managers' dashboard snapshot (issue 7) against a known office state and against a
direct computation from the raw rows, on SQLite and PostgreSQL; threshold evaluation and
validation of the thresholds."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from server.models import (
    Activation, Application, Call, Counter, Device, Office, Service, Ticket, TicketStatus,
)
from server.services.accounts import create_device, create_staff
from server.services.actors import PUBLIC, SYSTEM
from server.services.applications import control_card
from server.services.applications.deadlines import overdue_days
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.services.dashboard import dashboard_snapshot, parse_thresholds, save_thresholds
from server.services.dashboard.thresholds import evaluate
from server.services.devices import record_health
from server.services.errors import ValidationError
from server.services.queue import (
    call_specific, cancel_ticket, finish, issue_ticket, pause_counter, recall, skip, start,
)
from tests.conftest import wib

NOW = wib(10, 0)  # Monday 23 November 2026, 10:00 WIB


def at(hh: int, mm: int = 0, day: int = 23):
    return wib(hh, mm, day)


def _issue(database, office_id, service: str, when, priority=None) -> Ticket:
    with database.session() as s:
        return issue_ticket(s, s.get(Office, office_id), service, actor=PUBLIC, now=when, priority_kind=priority)


def _do(database, fn, desk, *args, when):
    with database.session() as s:
        return fn(s, desk.counter_id, *args, actor=desk.actor, now=when)


def _application(s, office_id, service_code, status, step_code, entered, submitted, staff_id, resi) -> Application:
    service = s.scalars(select(Service).where(Service.office_id == office_id, Service.code == service_code)).one()
    steps = [dict(x) for x in service.steps]
    index = next(i for i, x in enumerate(steps) if x["code"] == step_code) if step_code else 0
    app = Application(
        office_id=office_id, service_id=service.id, resi_number=resi, applicant_nik="1471011205900001",
        applicant_name="Budi Santoso", steps=steps, status=status, step_index=index,
        step_code=step_code, step_role=steps[index]["role"] if step_code else None, step_entered_at=entered,
        submitted_at=submitted, completion_working_days=service.completion_working_days,
        due_date=date(2026, 11, 1), created_by=staff_id,
    )
    s.add(app)
    s.flush()
    return app


@pytest.fixture
def office_state(database, office_id, open_desk):
    """The known state of the DEMO office at NOW (see the comments for each figure)."""
    with database.session() as s:
        office = s.get(Office, office_id)
        office.settings = {**office.settings, "queue": {**(office.settings.get("queue") or {}), "skip_limit": 1}}
    desks = {n: open_desk(n, at(7, 40)) for n in (1, 2, 3, 4)}
    _do(database, pause_counter, desks[4], "istirahat", when=at(9, 0))
    for code, when in (("ktp_el", at(8, 0)), ("ktp_el", at(8, 10)), ("kk", at(8, 20)), ("kk", at(8, 50)),
                       ("ktp_el", at(9, 0)), ("ktp_el", at(9, 10)), ("ktp_el", at(9, 40)), ("kia", at(9, 45)),
                       ("skpwni", at(9, 50))):
        _issue(database, office_id, code, when)
    with database.session() as s:  # E001 cancelled: counts nowhere
        e001 = s.scalars(select(Ticket).where(Ticket.display_number == "E001")).one()
        cancel_ticket(s, e001.id, actor=SYSTEM, reason="test", now=at(9, 52))
    _do(database, call_specific, desks[1], "A001", when=at(8, 5))    # before the last hour
    _do(database, start, desks[1], when=at(8, 6))
    _do(database, call_specific, desks[2], "A002", when=at(8, 15))
    _do(database, skip, desks[2], when=at(8, 17))                    # no-show (skip_limit 1)
    _do(database, call_specific, desks[3], "B001", when=at(9, 5))    # call 1 of the last hour
    _do(database, start, desks[3], when=at(9, 6))
    _do(database, finish, desks[1], when=at(9, 20))                  # A001 done
    _do(database, call_specific, desks[1], "A003", when=at(9, 21))   # call 2, A003 stays called
    _do(database, recall, desks[1], when=at(9, 25))                  # a recall
    _do(database, finish, desks[3], when=at(9, 46))                  # B001 done
    _do(database, call_specific, desks[3], "C001", when=at(9, 47))   # call 3
    _do(database, start, desks[3], when=at(9, 48))                   # C001 serving

    with database.session() as s:  # another office's waiting ticket never counts here
        other = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM, overrides={"code": "LAIN", "name": "Kantor Lain"})
        issue_ticket(s, other, "kk", actor=PUBLIC, now=at(9, 0))
        other_kiosk, _ = create_device(s, other.id, "kiosk", "Kiosk Lain", actor=SYSTEM)
        other_id, other_kiosk_id = other.id, other_kiosk.id
    with database.session() as s:
        record_health(s, other_kiosk_id, {"printer": {"state": "paper_out"}}, now=at(9, 59))

    with database.session() as s:  # stations
        ids = {}
        for key, kind, name in (("kiosk", "kiosk", "Kiosk"), ("tv", "display", "TV"), ("printer", "printer", "Printer"),
                                ("lane", "pickup", "Lajur"), ("old", "kiosk", "Kiosk lama")):
            ids[key] = create_device(s, office_id, kind, name, actor=SYSTEM)[0].id
    ok, bad = {"printer": {"state": "ok"}}, {"printer": {"state": "paper_out", "detail": "kertas habis"}}
    for key, report, when in (("kiosk", ok, NOW - timedelta(seconds=30)),
                              ("printer", bad, at(9, 30)), ("printer", bad, NOW - timedelta(seconds=10)),
                              ("lane", ok, at(9, 50)),                 # silent for 10 minutes
                              ("old", bad, at(9, 30))):
        with database.session() as s:
            record_health(s, ids[key], report, now=when)
    with database.session() as s:
        s.get(Device, ids["old"]).active = False

    with database.session() as s:  # applications (step standards from the catalog)
        staff = create_staff(s, "kasi_t", "password123", "section_head", full_name="Kasi", office_id=office_id,
                             actor=SYSTEM)
        apps = {
            # at the Kasi step (30 min) since Thursday: late at its step, due Tuesday: not overdue
            "late": _application(s, office_id, "ktp_el", "in_progress", "kasi_verify", at(9, 30, 19), at(9, 0, 19),
                                 staff.id, "R-1"),
            # KK from Monday 16th, due Thursday 19th: 2 working days overdue; 10 min at the Kabid step (30)
            "overdue": _application(s, office_id, "kk", "in_progress", "kabid_verify", at(9, 50), at(9, 0, 16),
                                    staff.id, "R-2"),
            "fresh": _application(s, office_id, "ktp_el", "in_progress", "kasi_verify", at(9, 45), at(9, 20),
                                  staff.id, "R-3"),
            # returned to the front office's register step (10 min) an hour ago: late
            "returned": _application(s, office_id, "ktp_el", "returned", "register", at(9, 0), at(10, 0, 20),
                                     staff.id, "R-4"),
            # ready on the shelf (waits for the citizen) and collected: not counted
            "ready": _application(s, office_id, "kk", "ready", "hand_over", at(9, 0, 10), at(9, 0, 2),
                                  staff.id, "R-5"),
            "collected": _application(s, office_id, "kk", "collected", None, at(9, 0, 10), at(9, 0, 2),
                                      staff.id, "R-6"),
        }
        app_ids = {k: a.id for k, a in apps.items()}
        # activations: two completed today (one at 00:30 WIB = the previous UTC day), one
        # yesterday, one cancelled, one open
        for status, closed in (("completed", at(9, 30)), ("completed", at(0, 30)), ("completed", at(20, 0, 22)),
                               ("cancelled", at(9, 40)), ("open", None)):
            s.add(Activation(office_id=office_id, device_id=ids["kiosk"], application_id=app_ids["fresh"],
                             officer_id=staff.id, status=status, opened_at=(closed or NOW) - timedelta(minutes=5),
                             closed_at=closed))
        s.add(Activation(office_id=other_id, device_id=other_kiosk_id, application_id=app_ids["fresh"],
                         officer_id=staff.id, status="completed", opened_at=at(9, 0), closed_at=at(9, 10)))
    return {"desks": desks, "devices": ids, "apps": app_ids}


def snapshot(database, office_id, now=NOW) -> dict:
    with database.session() as s:
        return dashboard_snapshot(s, s.get(Office, office_id), now)


def test_snapshot_figures_of_a_known_office_state(database, office_id, office_state):
    snap = snapshot(database, office_id)
    by_code = {x["code"]: x for x in snap["services"]}
    assert (by_code["ktp_el"]["waiting"], by_code["ktp_el"]["serving"]) == (2, 1)       # A004, A005; A003 called
    assert (by_code["kk"]["waiting"], by_code["kk"]["serving"]) == (1, 0)               # B002
    assert (by_code["kia"]["waiting"], by_code["kia"]["serving"]) == (0, 1)             # C001 serving
    assert by_code["skpwni"]["waiting"] == 0                                            # E001 cancelled
    assert by_code["kk"]["longest_wait_s"] == 70 * 60 and by_code["ktp_el"]["longest_wait_s"] == 50 * 60
    assert snap["queue"] == {"waiting": 3, "serving": 2, "longest_wait_s": 4200, "longest_wait_number": "B002"}

    counters = {c["number"]: c for c in snap["counters"]}
    assert [counters[n]["state"] for n in range(1, 9)] == ["serving", "idle", "serving", "paused"] + ["closed"] * 4
    assert counters[1]["current"] == "A003" and counters[3]["current"] == "C001" and counters[2]["current"] is None
    assert counters[1]["officer"] == "Officer 1" and counters[4]["pause_reason"] == "istirahat"
    assert counters[5]["officer"] is None
    assert snap["counter_summary"] == {"serving": 2, "idle": 1, "paused": 1, "closed": 4}

    assert snap["calls"]["last_hour"] == 3 and snap["calls"]["recalls_last_hour"] == 1
    assert [b["calls"] for b in snap["calls"]["per_5_min"]] == [0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0]
    assert snap["calls"]["per_5_min"][0]["from"] == "09:00" and snap["calls"]["per_5_min"][-1]["from"] == "09:55"
    assert snap["no_show"] == {"served": 2, "no_show": 1, "ended": 3, "rate_pct": 33.3}

    devices = snap["devices"]
    assert devices["total"] == 4 and devices["never_reported"] == 1                      # the TV never reported
    assert {(d["name"], d["reason"]) for d in devices["unhealthy"]} == {("Printer", "unhealthy"), ("Lajur", "silent")}

    files = snap["applications"]
    assert (files["open"], files["late_steps"], files["overdue"]) == (4, 2, 1)
    assert [f["resi_number"] for f in files["worst"]] == ["R-2", "R-1", "R-4"]
    assert files["worst"][0]["overdue_working_days"] == 2 and files["worst"][0]["late"] is False
    assert [(r["service"], r["step"], r["open"], r["late"]) for r in files["by_step"]] == [
        ("ktp_el", "register", 1, 1), ("ktp_el", "kasi_verify", 2, 1), ("kk", "kabid_verify", 1, 0)]
    assert snap["activations_today"] == 2
    assert "Budi" not in repr(snap) and "1471011205900001" not in repr(snap)

    # default thresholds: wait 70 > 30, 2 stations > 0, 1 overdue > 0; the no-show rate is
    # not judged before 10 tickets have ended; 3 waiting <= 50, 2 late <= 10
    assert [a["key"] for a in snap["alerts"]] == ["longest_wait_min", "unhealthy_devices", "overdue"]
    assert snap["alerts"][0] == {"key": "longest_wait_min", "setting": "max_wait_min", "value": 70.0, "limit": 30}


def test_snapshot_agrees_with_a_direct_computation_from_the_rows(database, office_id, office_state):
    snap = snapshot(database, office_id)
    with database.session() as s:
        office = s.get(Office, office_id)
        tickets = s.scalars(select(Ticket).where(Ticket.office_id == office_id, Ticket.day == date(2026, 11, 23))).all()
        calls = s.scalars(select(Call).where(Call.office_id == office_id)).all()
        apps = s.scalars(select(Application).where(Application.office_id == office_id)).all()
        expected_overdue = sum(1 for a in apps if a.status in ("in_progress", "returned", "registered")
                               and overdue_days(office, a, NOW) > 0)
        expected_late = sum(1 for a in apps if a.status in ("in_progress", "returned", "registered")
                            and control_card(s, a.id, now=NOW)["current"]["late"])
        counters = s.scalars(select(Counter).where(Counter.office_id == office_id)).all()
        open_count = sum(1 for c in counters if c.state == "open")
    for svc in snap["services"]:
        mine = [t for t in tickets if t.service_id == svc["id"]]
        assert svc["waiting"] == sum(t.status == "waiting" for t in mine)
        assert svc["serving"] == sum(t.status in ("called", "serving") for t in mine)
        waits = [(NOW - t.waiting_since).total_seconds() for t in mine if t.status == "waiting"]
        assert svc["longest_wait_s"] == (int(max(waits)) if waits else None)
    done = sum(t.status == TicketStatus.DONE.value for t in tickets)
    no_show = sum(t.status == TicketStatus.NO_SHOW.value for t in tickets)
    assert snap["no_show"]["rate_pct"] == round(100 * no_show / (done + no_show), 1)
    in_hour = [c for c in calls if NOW - timedelta(hours=1) < c.at <= NOW]
    assert snap["calls"]["last_hour"] == sum(c.kind != "recall" for c in in_hour)
    assert snap["calls"]["recalls_last_hour"] == sum(c.kind == "recall" for c in in_hour)
    assert snap["applications"]["overdue"] == expected_overdue
    assert snap["applications"]["late_steps"] == expected_late
    assert snap["counter_summary"]["serving"] + snap["counter_summary"]["idle"] == open_count


def test_longest_wait_grows_and_office_thresholds_change_the_alerts(database, office_id, office_state):
    later = snapshot(database, office_id, NOW + timedelta(minutes=30))
    assert later["queue"]["longest_wait_s"] == 100 * 60
    assert later["calls"]["last_hour"] == 1                    # only C001 (9:47) is within 9:30-10:30
    with database.session() as s:
        save_thresholds(s, office_id, {"max_wait_min": "", "max_no_show_pct": "30", "no_show_min_ended": "3",
                                       "max_unhealthy_devices": "5", "max_late_steps": "1", "max_overdue": "1"},
                        actor=SYSTEM)
    snap = snapshot(database, office_id)
    assert snap["thresholds"]["max_wait_min"] is None and snap["thresholds"]["max_waiting"] == 50  # default kept
    assert [(a["key"], a["value"], a["limit"]) for a in snap["alerts"]] == [("no_show_pct", 33.3, 30), ("late_steps", 2, 1)]


def test_an_empty_office_has_no_figures_and_no_alerts(database, office_id):
    snap = snapshot(database, office_id)
    assert snap["queue"] == {"waiting": 0, "serving": 0, "longest_wait_s": None, "longest_wait_number": None}
    assert snap["no_show"]["rate_pct"] is None and snap["alerts"] == []
    assert snap["applications"] == {"open": 0, "late_steps": 0, "overdue": 0, "by_step": [], "worst": []}


def test_threshold_values_are_validated_with_clear_errors():
    assert parse_thresholds({}) == {"max_wait_min": 30, "max_waiting": 50, "max_no_show_pct": 20,
                                    "no_show_min_ended": 10, "max_unhealthy_devices": 0, "max_late_steps": 10,
                                    "max_overdue": 0}
    assert parse_thresholds({"max_wait_min": " 45 ", "max_waiting": None, "max_overdue": 3})["max_wait_min"] == 45
    with pytest.raises(ValidationError) as bad:
        parse_thresholds({"max_wait_min": "0", "max_no_show_pct": "101", "max_waiting": "lima", "max_late_steps": "2.5",
                          "colour": "red"})
    errors = bad.value.details["errors"]
    assert set(errors) == {"max_wait_min", "max_no_show_pct", "max_waiting", "max_late_steps", "colour"}
    assert "1-1440" in errors["max_wait_min"] and "0-100" in errors["max_no_show_pct"]
    assert bad.value.http_status == 422


def test_evaluate_crosses_only_strictly_greater_figures():
    limits = {"max_wait_min": 30, "max_waiting": 5, "max_no_show_pct": 10, "no_show_min_ended": 4,
              "max_unhealthy_devices": 0, "max_late_steps": None, "max_overdue": 0}
    figures = {"longest_wait_min": 30.0, "waiting": 6, "no_show_pct": 50.0, "ended": 3, "unhealthy_devices": 0,
               "late_steps": 99, "overdue": None}
    assert [a["key"] for a in evaluate(figures, limits)] == ["waiting"]
    assert [a["key"] for a in evaluate({**figures, "ended": 4, "longest_wait_min": 30.1}, limits)] == [
        "longest_wait_min", "waiting", "no_show_pct"]
