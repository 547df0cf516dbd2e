"""The scheduler in one process (issue 12 A): the job registry, one transaction per office,
a failing job never stops the loop, the PostgreSQL leadership lock, the notice job's
batches, and ``loket demo``'s in-process start. Real processes: test_scheduler_processes.py."""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.db import Database
from server.models import AuditEntry, Notice, Office, Ticket
from server.realtime.tasks import start_background_tasks
from server.scheduler import (
    JOBS, AdvisoryLockLeadership, Job, JobContext, Scheduler, SoleLeadership, for_each_office, leadership_for, run_job,
)
from server.services.actors import PUBLIC, SYSTEM
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.services.notices import queue_notice
from server.services.notices.loop import deliver_pending
from server.services.notices.providers import NoticeProvider
from server.services.queue import issue_ticket
from tests.conftest import wib
from tests.live import wait_for

JOB = {job.name: job for job in JOBS}
YESTERDAY = wib(10, 0, day=23)
TODAY = wib(8, 0, day=24)


def two_offices_and_a_broken_one(database) -> tuple[int, int]:
    """DEMO, then BAD (a time zone nobody knows: its day close raises), then KOTA2; each good
    office gets two tickets left waiting yesterday. Returns (DEMO id, KOTA2 id)."""
    with database.session() as s:
        demo = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM)
        s.add(Office(code="BAD", name="Kantor Rusak", timezone="Mars/Olympus_Mons", settings={}))
        s.flush()
        kota2 = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM, overrides={"code": "KOTA2"})
        for office in (demo, kota2):
            for _ in range(2):
                issue_ticket(s, office, "ktp_el", actor=PUBLIC, now=YESTERDAY)
        return demo.id, kota2.id


def test_registry_names_intervals_and_enabled_jobs():
    assert [j.name for j in JOBS][:3] == ["day_close", "booking_expiry", "notice_delivery"]
    config = {"DAY_CLOSE_CHECK_S": 7, "NOTICE_DELIVERY_S": 2}
    assert JOB["day_close"].interval_s(config) == 7 and JOB["booking_expiry"].interval_s(config) == 7
    assert JOB["notice_delivery"].interval_s(config) == 2 and JOB["day_close"].interval_s({}) == 60
    ctx = JobContext(db=None, config={})
    assert not JOB["notice_delivery"].enabled(ctx)  # no providers: notices are not delivered
    assert JOB["notice_delivery"].enabled(JobContext(db=None, config={}, notice_providers={"sms": object()}))


def test_a_failing_office_is_logged_and_the_others_are_closed(database, caplog):
    demo_id, kota2_id = two_offices_and_a_broken_one(database)
    ctx = JobContext(database, {})
    with caplog.at_level(logging.ERROR, logger="server.scheduler.jobs"):
        assert run_job(JOB["day_close"], ctx, TODAY) == 4
        assert run_job(JOB["booking_expiry"], ctx, TODAY) == 0
    assert [r.getMessage() for r in caplog.records if "office BAD failed" in r.getMessage()] == [
        "close_office_day: office BAD failed (rolled back; the other offices go on)",
        "expire_office_bookings: office BAD failed (rolled back; the other offices go on)",
    ]
    with database.session() as s:
        tickets = s.scalars(select(Ticket)).all()
        assert {(t.office_id, t.status) for t in tickets} == {(demo_id, "cancelled"), (kota2_id, "cancelled")}
        audits = s.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "ticket.close_day")).all()
        assert sorted(audits) == sorted(t.id for t in tickets)  # one audit row each
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="server.scheduler.jobs"):
        assert run_job(JOB["day_close"], ctx, TODAY) == 0  # idempotent
    [again] = caplog.records  # the same failure again: one line, no second traceback
    assert again.getMessage().startswith("close_office_day: office BAD still failing (ZoneInfoNotFoundError")
    assert again.exc_info is None


def test_each_office_is_its_own_transaction(database):
    demo_id, kota2_id = two_offices_and_a_broken_one(database)

    def mark_then_fail_on_kota2(session, office, now) -> int:
        office.running_text = "touched"
        session.flush()
        if office.code == "KOTA2":
            raise RuntimeError("boom")
        return 1

    assert for_each_office(mark_then_fail_on_kota2)(JobContext(database, {}), TODAY) == 2  # DEMO and BAD
    with database.session() as s:
        texts = dict(s.execute(select(Office.code, Office.running_text)).all())
    assert texts["DEMO"] == texts["BAD"] == "touched"
    assert texts["KOTA2"].startswith("Selamat datang")  # KOTA2's change rolled back


def test_a_job_that_raises_never_stops_the_scheduler(caplog):
    runs = {"broken": 0, "fine": 0}

    def broken(ctx, now):
        runs["broken"] += 1
        raise RuntimeError("database down")

    def fine(ctx, now):
        runs["fine"] += 1
        return 0

    jobs = [Job("broken", "BROKEN_S", 0.05, broken), Job("fine", "FINE_S", 0.05, fine),
            Job("off", "OFF_S", 0.05, fine, enabled=lambda ctx: False)]
    scheduler = Scheduler(JobContext(None, {}), SoleLeadership(), jobs=jobs, retry_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    with caplog.at_level(logging.ERROR, logger="server.scheduler.runner"):
        thread.start()
        wait_for(lambda: runs["broken"] >= 5 and runs["fine"] >= 5, what="both jobs run again and again")
        stop.set()
        thread.join(5)
    assert not thread.is_alive() and not scheduler.leading.is_set()
    assert sum("job broken failed" in r.getMessage() for r in caplog.records) >= 5


class FlakyLeadership(SoleLeadership):
    """The database is unreachable for the first ``down`` tries, then this process leads."""

    def __init__(self, down: int) -> None:
        self.down = down

    def acquire(self) -> bool:
        if self.down:
            self.down -= 1
            raise ConnectionError("connection refused")
        return True


def test_the_scheduler_keeps_trying_while_the_database_is_unreachable(caplog):
    runs = []
    scheduler = Scheduler(JobContext(None, {}), FlakyLeadership(down=3),
                          jobs=[Job("note", "NOTE_S", 1, lambda ctx, now: runs.append(now) or 0)], retry_s=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), daemon=True)
    with caplog.at_level(logging.WARNING, logger="server.scheduler.runner"):
        thread.start()
        wait_for(lambda: runs, what="it leads once the database answers")
        stop.set()
        thread.join(5)
    assert sum("cannot take the lead (connection refused)" in r.getMessage() for r in caplog.records) == 3


@pytest.mark.postgres
def test_the_advisory_lock_has_one_holder_and_passes_on_when_its_connection_dies(pg_url):
    key = 7_000_000_001  # not the production key: tests never block a real scheduler
    first, second = AdvisoryLockLeadership(pg_url, key=key), AdvisoryLockLeadership(pg_url, key=key)
    try:
        assert first.acquire() and first.still_leading()
        assert not second.acquire() and not second.still_leading()
        first.release()  # a clean stop: the standby gets it at its next try
        assert second.acquire() and second.still_leading()
        assert not first.acquire()
        dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, autocommit=True) as admin:  # the leader's connection dies
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = %s AND objid = %s", (key >> 32, key & 0xFFFFFFFF)).fetchall()
        assert killed == [(True,)] and not second.still_leading()
        assert first.acquire() and first.still_leading()
    finally:
        first.dispose()
        second.dispose()
    assert isinstance(leadership_for("sqlite:///x.db"), SoleLeadership)


@pytest.mark.postgres
def test_two_schedulers_on_postgres_one_runs_the_jobs_the_other_takes_over(pg_url):
    runs: list[str] = []

    def scheduler(name: str) -> Scheduler:
        job = Job("note", "NOTE_S", 0.05, lambda ctx, now: runs.append(name) or 0)
        return Scheduler(JobContext(None, {}), AdvisoryLockLeadership(pg_url, key=7_000_000_002), jobs=[job],
                         retry_s=0.1)

    a, b = scheduler("a"), scheduler("b")
    stop_a, stop_b = threading.Event(), threading.Event()
    ta = threading.Thread(target=a.run, args=(stop_a,), daemon=True)
    ta.start()
    wait_for(a.leading.is_set, what="a leads")
    tb = threading.Thread(target=b.run, args=(stop_b,), daemon=True)
    tb.start()
    time.sleep(0.5)
    assert runs and set(runs) == {"a"} and not b.leading.is_set()
    stop_a.set()
    ta.join(5)
    wait_for(b.leading.is_set, what="b takes over", timeout=5)
    wait_for(lambda: "b" in runs, what="b runs the job")
    count_a = runs.count("a")
    time.sleep(0.3)
    assert runs.count("a") == count_a  # a stopped for good
    stop_b.set()
    tb.join(5)
    assert not tb.is_alive()
    for s in (a, b):
        s.leadership.dispose()


class CountingProvider(NoticeProvider):
    kind = "counting"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, notice) -> str:
        self.sent.append(notice.dedupe_key)
        return f"m{len(self.sent)}"


def test_the_notice_job_sends_batch_after_batch_in_one_run(database):
    with database.session() as s:
        office = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM)
        for i in range(45):
            queue_notice(s, office_id=office.id, application_id=None, kind="test", channel="sms",
                         recipient="6281234567890", subject="s", body=f"pesan {i}", dedupe_key=f"n{i}",
                         now=TODAY - timedelta(minutes=1))
    provider = CountingProvider()
    ctx = JobContext(database, {"NOTICE_BATCH": 20}, notice_providers={"sms": provider})
    assert run_job(JOB["notice_delivery"], ctx, TODAY) == 45
    assert sorted(provider.sent) == sorted(f"n{i}" for i in range(45))  # each once
    assert deliver_pending(database.Session, {}, batch=20) == {"sent": 0, "retrying": 0, "failed": 0, "gave_up": 0}
    with database.session() as s:
        assert set(s.scalars(select(Notice.status))) == {"sent"}


def test_the_demo_runs_the_scheduler_in_process_and_web_workers_do_not(sqlite_url, tmp_path):
    apps = []
    for in_process in (False, True):
        app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading",
                         BACKGROUND_TASKS=True, SCHEDULER_IN_PROCESS=in_process, DAY_CLOSE_CHECK_S=0.1, SCHEDULER_RETRY_S=0.1)
        apps.append(app)
    web, demo = apps
    database = Database(sqlite_url)
    try:
        with database.session() as s:
            office = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM)
            office.opening_time = office.opening_time.replace(hour=0, minute=0)
            issue_ticket(s, office, "ktp_el", actor=PUBLIC, now=wib(0, 1, day=1))  # long ago: an earlier day
        assert "loket_scheduler_stop" not in web.extensions  # `loket serve`'s web workers: nothing scheduled
        stop = demo.extensions["loket_scheduler_stop"]

        def closed():
            with database.session() as s:
                return s.scalars(select(Ticket.status)).one() == "cancelled"

        wait_for(closed, what="the demo's in-process day close", timeout=10)
        stop.set()
        start_background_tasks(web)  # calling it again still starts nothing scheduled
        assert "loket_scheduler_stop" not in web.extensions
    finally:
        database.dispose()
        for app in apps:
            app.extensions["loket"].db.dispose()
