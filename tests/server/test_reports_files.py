"""Kartu kendali and pickup reports (issue 7) on SQLite and PostgreSQL, from rows inserted
with known values: the expected figures are computed here from those raw rows (and, for
working days, by hand from the calendar: no Indonesian public holiday falls in
October-November 2026)."""
from __future__ import annotations

import math
import random
import secrets
from collections import defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from server.models import Application, AuditEntry, ControlCardEntry, Device, Office, Service, StaffUser
from server.services.accounts import create_staff
from server.services.actors import SYSTEM
from server.services.analytics import control_card_report, pickups_report, query
from server.services.applications.deadlines import due_date
from tests.conftest import wib


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def new_app(s, office, service, resi, submitted, status="in_progress", **kw) -> Application:
    creator = s.scalars(select(StaffUser).where(StaffUser.office_id == office.id)).first()
    if creator is None:
        creator = create_staff(s, "fo_rep", "password123", "front_office", full_name="FO", office_id=office.id,
                               actor=SYSTEM)
    step = service.steps[3]
    app = Application(office_id=office.id, service_id=service.id, resi_number=resi, applicant_nik="1471011205900001",
                      applicant_name="Pemohon", steps=service.steps, status=status, step_index=3, step_code=step["code"],
                      step_role=step["role"], step_entered_at=submitted, submitted_at=submitted,
                      completion_working_days=3, due_date=due_date(office, submitted, 3), created_by=creator.id, **kw)
    s.add(app)
    s.flush()
    return app


def services(s, office_id) -> dict[str, Service]:
    return {sv.code: sv for sv in s.scalars(select(Service).where(Service.office_id == office_id))}


def test_control_card_steps_against_standard_minutes(database, office_id):
    rnd = random.Random(3)
    lines = []  # (service, step, minutes, standard, late, resi, at)
    with database.session() as s:
        office, svc = s.get(Office, office_id), services(s, office_id)
        kasi = create_staff(s, "kasi_rep", "password123", "section_head", full_name="Kasi", office_id=office_id,
                            actor=SYSTEM)
        for i in range(14):
            service = svc["kk" if i % 3 == 0 else "ktp_el"]
            day = 30 if i == 13 else 2 + i % 5  # the last file's lines fall before the period
            t = wib(8, 30, day=day) if day != 30 else wib(8, 30, day=30).replace(month=10)
            app = new_app(s, office, service, f"RS{i:03d}", t)
            for seq, step in enumerate(service.steps[:6], start=1):
                standard = float(step["minutes"])
                minutes = None if (i == 5 and seq == 2) else round(rnd.uniform(0.2, 2.2) * standard, 2)
                t += timedelta(minutes=minutes or 7)
                late = minutes is not None and minutes > standard
                s.add(ControlCardEntry(application_id=app.id, seq=seq, action="approve", from_step=step["code"],
                                       to_step=service.steps[seq]["code"], actor_id=kasi.id, actor_role="section_head",
                                       at=t, minutes_in_step=minutes, standard_minutes=standard, late=late))
                if minutes is not None and day != 30:
                    lines.append((service.code, step["code"], minutes, standard, late, app.resi_number))
        report = control_card_report(s, query(s, office, date(2026, 11, 2), date(2026, 11, 6)), now=wib(12, 0, day=6))

    groups = defaultdict(list)
    for line in lines:
        groups[(line[0], line[1])].append(line)
    assert {(r["service"], r["step"]) for r in report["steps"]} == set(groups)
    for row in report["steps"]:
        mine = groups[(row["service"], row["step"])]
        minutes = [m for _, _, m, *_ in mine]
        assert row["count"] == len(mine)
        assert row["mean_min"] == pytest.approx(sum(minutes) / len(minutes), abs=0.006)
        assert (row["p50_min"], row["p90_min"], row["max_min"]) == (
            nearest_rank(minutes, 50), nearest_rank(minutes, 90), max(minutes))
        assert row["standard_min"] == mine[0][3]
        assert row["late"] == sum(1 for line in mine if line[4])
        assert row["late_share"] == pytest.approx(row["late"] / len(mine), abs=0.0001)
        slowest = sorted(mine, key=lambda line: -line[2])[:3]
        assert [x["resi_number"] for x in row["slowest"]] == [line[5] for line in slowest]
    ktp_steps = [r["step"] for r in report["steps"] if r["service"] == "ktp_el"]
    assert ktp_steps == [st["code"] for st in services_steps(database, office_id, "ktp_el")[:6]]  # SOP order

    excess = defaultdict(float)
    for _, _, m, std, _, resi in lines:
        excess[resi] += max(0.0, m - std)
    top = sorted(excess.items(), key=lambda kv: -kv[1])[:10]
    assert [f["resi_number"] for f in report["slowest_files"]] == [resi for resi, _ in top]
    assert report["slowest_files"][0]["excess_min"] == pytest.approx(top[0][1], abs=0.01)

    # An officer filter keeps the lines that officer wrote; a service filter one service.
    with database.session() as s:
        office = s.get(Office, office_id)
        create_staff(s, "kabid_rep", "password123", "division_head", full_name="Kabid", office_id=office_id,
                     actor=SYSTEM)
        only_kk = control_card_report(s, query(s, office, date(2026, 11, 2), date(2026, 11, 6), service="kk"))
        kasi = control_card_report(s, query(s, office, date(2026, 11, 2), date(2026, 11, 6), officer="kasi_rep"))
        nobody = control_card_report(s, query(s, office, date(2026, 11, 2), date(2026, 11, 6), officer="kabid_rep"))
    assert {r["service"] for r in only_kk["steps"]} == {"kk"} and nobody["steps"] == []
    assert kasi["steps"] == report["steps"]


def services_steps(database, office_id, code):
    with database.session() as s:
        return services(s, office_id)[code].steps


def test_overdue_files_in_working_days(database, office_id):
    # Period 2 - 10 Nov 2026, measured on Tuesday 10 Nov at 12:00. 3 working days each.
    with database.session() as s:
        office, svc = s.get(Office, office_id), services(s, office_id)
        ktp = svc["ktp_el"]
        mon = wib(9, 0, day=2)
        new_app(s, office, ktp, "A", mon)  # due Thu 5; late Fri 6, Mon 9, Tue 10: 3
        new_app(s, office, ktp, "B", mon, status="ready", ready_at=wib(10, 0, day=4))  # on time
        new_app(s, office, ktp, "C", mon, status="collected", ready_at=wib(10, 0, day=9),
                collected_at=wib(11, 0, day=9))  # ready Mon 9: late Fri 6, Mon 9: 2
        new_app(s, office, ktp, "D", wib(9, 0, day=30).replace(month=10), status="returned")  # due Wed 4: 4
        new_app(s, office, ktp, "E", mon, status="cancelled")  # left out
        new_app(s, office, ktp, "F", wib(9, 0, day=9))  # due Thu 12: not late
        new_app(s, office, ktp, "G", wib(9, 0, day=20).replace(month=10), status="collected",
                ready_at=wib(9, 0, day=21).replace(month=10))  # before the period and closed: left out
        report = control_card_report(s, query(s, office, date(2026, 11, 2), date(2026, 11, 10)),
                                     now=wib(12, 0, day=10))
    o = report["overdue"]
    assert (o["submitted"], o["finished_on_time"], o["finished_late"], o["open"], o["open_overdue"]) == (4, 1, 1, 3, 2)
    assert o["by_days"] == {"1": 0, "2": 1, "3-5": 2, ">5": 0}
    assert [(f["resi_number"], f["overdue_working_days"]) for f in o["files"]] == [("D", 4), ("A", 3), ("C", 2)]
    assert o["files"][0]["due_date"] == "2026-11-04"


def test_pickups_and_activations_per_day_by_channel(database, office_id):
    with database.session() as s:
        office, svc = s.get(Office, office_id), services(s, office_id)
        lane = Device(office_id=office_id, kind="pickup", name="Drive-Thru", token_hash=secrets.token_hex(32))
        desk = Device(office_id=office_id, kind="pickup", name="Loket Ambil", token_hash=secrets.token_hex(32),
                      settings={"channel": "counter"})
        s.add_all([lane, desk])
        s.flush()
        picks = [(3, lane.id), (3, lane.id), (3, desk.id), (4, None), (4, lane.id), (9, lane.id)]
        for i, (day, device_id) in enumerate(picks):
            at = wib(10, i, day=day)
            new_app(s, office, svc["kk"], f"P{i}", at - timedelta(days=7), status="collected", ready_at=at,
                    collected_at=at, collector={"name": "X", "kind": "applicant", "device_id": device_id})
        audit = [("pickup.refused", 3, {"refusal": "not_ready", "device_id": lane.id}),
                 ("pickup.refused", 3, {"refusal": "not_ready", "device_id": lane.id}),
                 ("pickup.refused", 4, {"refusal": "forged", "device_id": desk.id}),
                 ("activation.completed", 4, {}), ("activation.completed", 4, {}), ("activation.completed", 5, {}),
                 ("activation.refused", 4, {"reason": "not_in_person"}), ("pickup.refused", 12, {"refusal": "unknown"})]
        for i, (action, day, data) in enumerate(audit):
            s.add(AuditEntry(at=wib(11, i, day=day), office_id=office_id, actor_type="staff", actor_id=None,
                             action=action, entity_type="application", entity_id=None, data=data))
        s.flush()
        report = pickups_report(s, query(s, office, date(2026, 11, 3), date(2026, 11, 5)))
    days = {d["date"]: d for d in report["days"]}
    assert list(days) == ["2026-11-03", "2026-11-04", "2026-11-05"]
    assert days["2026-11-03"]["pickups"] == {"counter": 1, "drive_thru": 2}
    assert days["2026-11-04"]["pickups"] == {"counter": 1, "drive_thru": 1}
    assert (days["2026-11-04"]["activations"], days["2026-11-05"]["activations"]) == (2, 1)
    assert (days["2026-11-03"]["pickup_refusals"], days["2026-11-04"]["activation_refusals"]) == (2, 1)
    t = report["totals"]
    assert (t["pickups"], t["pickups_total"], t["activations"], t["pickup_refusals"], t["activation_refusals"]) == (
        {"counter": 2, "drive_thru": 3}, 5, 3, 3, 1)
    assert report["refusals_by_reason"] == [
        {"kind": "pickup", "reason": "not_ready", "count": 2}, {"kind": "activation", "reason": "not_in_person", "count": 1},
        {"kind": "pickup", "reason": "forged", "count": 1}]
    assert report["pickup_refusals_by_channel"] == {"counter": 1, "drive_thru": 2}
