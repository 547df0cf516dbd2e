"""How long one managers' dashboard snapshot takes on a busy office day (issue 7).

    python bench/dashboard_snapshot.py [postgres|sqlite] [--reads 40]

Every open dashboard re-reads the snapshot on each relevant event, coalesced to at most
one read per second, and every 30 s; so its cost bounds what one dashboard adds to the
server. The office is the demo catalog with 30 counters and, today at 11:00 WIB: 1500
tickets (1200 served, 90 no-shows, 60 waiting, 25 at counters, the rest cancelled or
transferred, issued 07:30-11:00), one call per called ticket (about 500 in the last hour)
plus 8 % recalls, 3000 files in progress (a third late at their step, a tenth overdue), 20 stations (2
unhealthy) and 60 activations today. Rows are bulk-inserted; the figures the snapshot
returns are checked against the counts inserted. Prints p50 / p90 / max of ``--reads``
calls of ``services.dashboard.dashboard_snapshot`` (in-process, one transaction each).
PostgreSQL: a fresh database ``loket_bench_dash_<pid>`` on 127.0.0.1:5432, dropped at exit.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402

from server.db import Database  # noqa: E402
from server.migrations import upgrade  # noqa: E402
from server.models import (  # noqa: E402
    Activation, Application, Call, Counter, Device, Office, Service, Ticket, counter_services,
)
from server.services.accounts import create_staff  # noqa: E402
from server.services.actors import SYSTEM  # noqa: E402
from server.services.catalog import DEMO_CATALOG, load_catalog_file  # noqa: E402
from server.services.dashboard import dashboard_snapshot  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ZONE = ZoneInfo("Asia/Jakarta")
DAY = date(2026, 11, 23)  # a Monday
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=ZONE).astimezone(timezone.utc)
COUNTERS, FILES, DEVICES = 30, 3000, 20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * len(ordered)) - 1))]


def seed(db: Database, rng: random.Random) -> dict:
    """Fill the office; returns the figures the snapshot must show."""
    with db.session() as s:
        office = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM)
        office_id = office.id
        services = s.scalars(select(Service).where(Service.office_id == office_id)).all()
        officers = [create_staff(s, f"fo{i}", "password123", "front_office", full_name=f"Officer {i}",
                                 office_id=office_id, actor=SYSTEM).id for i in range(COUNTERS)]
        for number in range(9, COUNTERS + 1):  # the catalog has 8 counters
            s.add(Counter(office_id=office_id, number=number, name="", state="closed"))
        s.flush()
        counters = s.scalars(select(Counter).where(Counter.office_id == office_id).order_by(Counter.number)).all()
        for c in counters[8:]:
            s.execute(insert(counter_services), [{"counter_id": c.id, "service_id": services[0].id}])
        for i, c in enumerate(counters):
            c.state, c.officer_id = ("open", officers[i]) if i < 26 else ("paused", officers[i]) if i < 28 else ("closed", None)
        counter_ids = [c.id for c in counters]
    start = datetime(2026, 11, 23, 7, 30, tzinfo=ZONE).astimezone(timezone.utc)
    plan = ["done"] * 1200 + ["no_show"] * 90 + ["cancelled"] * 70 + ["transferred"] * 55 + ["waiting"] * 60 + ["at_counter"] * 25
    rng.shuffle(plan)
    tickets, calls, expected = [], [], {"waiting": 60, "serving": 25, "calls_last_hour": 0}
    letters: dict[int, int] = {}
    at_counter = iter(counter_ids[:25])
    for i, status in enumerate(plan):
        svc = services[i % 6]
        letters[svc.id] = letters.get(svc.id, 0) + 1
        issued = start + timedelta(seconds=i * (3.5 * 3600 / len(plan)))
        if status == "waiting":
            issued = NOW - timedelta(minutes=rng.randint(1, 50))
        row = {"public_id": secrets.token_hex(8), "office_id": office_id, "service_id": svc.id, "day": DAY,
               "number": letters[svc.id], "display_number": f"{svc.letter}{letters[svc.id]:03d}", "transfer_seq": 0,
               "status": "called" if status == "at_counter" else status, "channel": "kiosk",
               "sort_key": int(issued.timestamp() * 1000), "issued_at": issued, "waiting_since": issued}
        if status not in ("waiting", "cancelled"):
            called = min(issued + timedelta(minutes=rng.randint(2, 40)), NOW - timedelta(seconds=30))
            row.update(first_called_at=called, called_at=called)
            if status == "at_counter":
                row["counter_id"] = next(at_counter)
            calls.append((called, "call"))
            if rng.random() < 0.08:
                calls.append((called + timedelta(seconds=30), "recall"))
        tickets.append(row)
    with db.session() as s:
        s.execute(insert(Ticket), tickets)
        ids = s.scalars(select(Ticket.id).where(Ticket.office_id == office_id).order_by(Ticket.id)).all()
        s.execute(insert(Call), [{"office_id": office_id, "ticket_id": ids[i % len(ids)], "counter_id": counter_ids[i % 26],
                                  "kind": kind, "at": at} for i, (at, kind) in enumerate(calls)])
        expected["calls_last_hour"] = sum(1 for at, kind in calls if kind != "recall" and NOW - timedelta(hours=1) < at <= NOW)
        ktp = next(x for x in services if x.code == "ktp_el")
        steps = [dict(x) for x in ktp.steps]
        files = []
        for i in range(FILES):
            late, overdue = i % 3 == 0, i % 10 == 0
            submitted = NOW - timedelta(days=9 if overdue else 0, minutes=30)
            entered = NOW - timedelta(minutes=45 if late else 10)
            files.append({"office_id": office_id, "service_id": ktp.id, "resi_number": f"R{i:06d}",
                          "applicant_nik": "1471011205900001", "applicant_name": "X", "steps": steps,
                          "requirements": [{"id": "r", "applies": True, "confirmed": True}] * 6,
                          "status": "in_progress", "step_index": 4, "step_code": "kasi_verify",
                          "step_role": "section_head", "step_entered_at": entered, "submitted_at": submitted,
                          "completion_working_days": 3, "due_date": DAY, "created_by": officers[0], "version": 1,
                          "cases": [], "phone": "", "email": ""})
        s.execute(insert(Application), files)
        expected.update(late_steps=sum(1 for i in range(FILES) if i % 3 == 0),
                        overdue=sum(1 for i in range(FILES) if i % 10 == 0))
        first_app = s.scalar(select(Application.id).where(Application.office_id == office_id).limit(1))
        devices = []
        for i in range(DEVICES):
            devices.append({"office_id": office_id, "kind": "kiosk" if i % 2 else "printer", "name": f"Station {i}",
                            "token_hash": secrets.token_hex(32), "active": True, "last_seen_at": NOW - timedelta(seconds=5),
                            "health": {}, "settings": {}, "unhealthy_since": NOW - timedelta(minutes=3) if i < 2 else None})
        s.execute(insert(Device), devices)
        device_id = s.scalar(select(Device.id).where(Device.office_id == office_id).limit(1))
        s.execute(insert(Activation), [{"office_id": office_id, "device_id": device_id, "application_id": first_app,
                                        "officer_id": officers[0], "status": "completed",
                                        "opened_at": NOW - timedelta(minutes=5 + i), "closed_at": NOW - timedelta(minutes=i)}
                                       for i in range(60)])
        expected.update(unhealthy=2, activations=60)
    return {"office_id": office_id, **expected}


def run(url: str, reads: int) -> None:
    db = Database(url)
    try:
        t = time.perf_counter()
        expected = seed(db, random.Random(7))
        print(f"seeded in {time.perf_counter() - t:.1f} s")
        times, snap = [], None
        for _ in range(reads):
            t = time.perf_counter()
            with db.session() as s:
                snap = dashboard_snapshot(s, s.get(Office, expected["office_id"]), NOW)
            times.append((time.perf_counter() - t) * 1000)
        got = {"waiting": snap["queue"]["waiting"], "serving": snap["queue"]["serving"],
               "calls_last_hour": snap["calls"]["last_hour"], "late_steps": snap["applications"]["late_steps"],
               "overdue": snap["applications"]["overdue"], "unhealthy": len(snap["devices"]["unhealthy"]),
               "activations": snap["activations_today"]}
        want = {k: expected[k] for k in got}
        print(f"figures: {got}" + ("" if got == want else f"  MISMATCH, expected {want}"))
        print(f"dashboard snapshot, {reads} reads: p50 {percentile(times, 50):.1f} ms, "
              f"p90 {percentile(times, 90):.1f} ms, max {max(times):.1f} ms "
              f"(one open dashboard reads at most 1/s while events flow)")
        if got != want:
            sys.exit(1)
    finally:
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("backend", nargs="?", default="postgres", choices=("postgres", "sqlite"))
    ap.add_argument("--reads", type=int, default=40)
    args = ap.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/dash.db"
            upgrade(url)
            run(url, args.reads)
        return
    name = f"loket_bench_dash_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        upgrade(url)
        run(url, args.reads)
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
