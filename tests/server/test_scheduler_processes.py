"""Scheduled work once per deployment (issue 12 A), with real processes on PostgreSQL and
Redis: ``loket serve --workers 3`` runs none of it; of two ``loket worker`` processes one
leads (the advisory lock) and closes each ticket left waiting once and sends each notice
once (to a local HTTP gateway), past an office whose day close fails; killing the leader
lets the standby take over; SIGTERM stops a worker cleanly and frees the lead."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter as Tally
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from server.db import Database
from server.models import AuditEntry, Notice, Office, Ticket, utcnow
from server.scheduler.leadership import LOCK_KEY
from server.services.actors import PUBLIC, SYSTEM
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.services.notices import queue_notice
from server.services.queue import issue_ticket
from tests.conftest import REDIS_URL
from tests.live import wait_for
from tests.procs import LOKET, loket_serve, prepared_env, stop_group
from tests.server.test_notices import TOKEN, Gateway
from tests.workers import HEAVY

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, HEAVY]

FAST = {"LOKET_DAY_CLOSE_CHECK_S": "0.3", "LOKET_NOTICE_DELIVERY_S": "0.3", "LOKET_SCHEDULER_RETRY_S": "0.5"}


@pytest.fixture
def gateway():
    gw = Gateway()
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def deployment(pg_url, tmp_path, gateway):
    """(env, Database): the demo office prepared with the production CLI, then an office
    whose time zone nobody knows (BAD: its day close and booking expiry raise) and a second
    good office (KOTA2) after it; notices go by WhatsApp to ``gateway``."""
    env, _tokens = prepared_env(pg_url, REDIS_URL, tmp_path)
    notices = tmp_path / "notices.toml"
    notices.write_text(f'[whatsapp]\nkind = "http"\nurl = "{gateway.url}/wa/send"\ntoken = "{TOKEN}"\ntimeout = 2\n'
                       'message_id_path = "data.id"\nok_path = "status"\n'
                       '[whatsapp.body]\nphone = "{to}"\nmessage = "{text}"\nref_id = "{ref}"\n')
    env.update(FAST, LOKET_NOTICE_CONFIG=str(notices))
    db = Database(pg_url)
    with db.session() as s:
        s.add(Office(code="BAD", name="Kantor Rusak", timezone="Mars/Olympus_Mons", settings={}))
        s.flush()
        load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM, overrides={"code": "KOTA2", "opening_time": "00:00",
                                                                    "closing_time": "23:59"})
    yield env, db
    db.dispose()


def leave_work(db: Database, tag: str, per_office: int = 3) -> tuple[list[int], list[str]]:
    """Tickets left waiting yesterday in DEMO and KOTA2, and WhatsApp notices due now;
    returns (ticket ids, notice dedupe keys)."""
    yesterday = utcnow() - timedelta(days=1)
    tickets, keys = [], []
    with db.session() as s:
        for code in ("DEMO", "KOTA2"):
            office = s.scalars(select(Office).where(Office.code == code)).one()
            for i in range(per_office):
                tickets.append(issue_ticket(s, office, "ktp_el", actor=PUBLIC, now=yesterday + timedelta(minutes=i)).id)
                key = f"{tag}:{code}:{i}"
                queue_notice(s, office_id=office.id, application_id=None, kind="test", channel="whatsapp",
                             recipient="6281234567890", subject="Uji", body=f"Pesan uji {key}", dedupe_key=key)
                keys.append(key)
    return tickets, keys


def statuses(db: Database, tickets: list[int]) -> set[str]:
    with db.session() as s:
        return set(s.scalars(select(Ticket.status).where(Ticket.id.in_(tickets))))


def close_audits(db: Database, tickets: list[int]) -> Tally:
    with db.session() as s:
        return Tally(s.scalars(select(AuditEntry.entity_id).where(
            AuditEntry.action == "ticket.close_day", AuditEntry.entity_id.in_(tickets))))


def sent(db: Database, keys: list[str]) -> bool:
    with db.session() as s:
        return set(s.scalars(select(Notice.status).where(Notice.dedupe_key.in_(keys)))) == {"sent"}


def leader_pid(db: Database) -> int | None:
    """The OS pid of the worker holding the scheduler lock (from its application_name)."""
    dsn = db.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s",
            (LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF)).fetchone()
    return int(row[0].split(":")[1].split("@")[0]) if row else None


class Worker:
    """A `loket worker` process in its own process group, its log in a file."""

    def __init__(self, env: dict, log: Path) -> None:
        self.log = log
        self._fh = open(log, "w")
        self.proc = subprocess.Popen([LOKET, "worker"], env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def text(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            stop_group(self.proc)
        self._fh.close()
        return self.proc.returncode


def test_two_workers_beside_three_web_workers_do_the_work_once(deployment, gateway, tmp_path):
    env, db = deployment
    tickets, keys = leave_work(db, "first")
    with loket_serve(env, workers=3):
        time.sleep(3)  # ten day-close intervals: web workers run no scheduled work
        assert statuses(db, tickets) == {"waiting"} and gateway.requests == []
        a = Worker(env, tmp_path / "worker-a.log")
        wait_for(lambda: leader_pid(db) == a.proc.pid, timeout=30, what="worker a leads")
        b = Worker(env, tmp_path / "worker-b.log")
        try:
            wait_for(lambda: statuses(db, tickets) == {"cancelled"}, timeout=30, what="tickets closed")
            wait_for(lambda: sent(db, keys), timeout=30, what="notices sent")
            wait_for(lambda: "standing by" in b.text(), timeout=30, what="worker b stands by")
            time.sleep(1.5)  # more passes: nothing happens twice
            assert set(close_audits(db, tickets).values()) == {1} and len(close_audits(db, tickets)) == len(tickets)
            assert Tally(r["body"]["ref_id"] for r in gateway.requests) == Tally(keys)  # each notice once
            log_a, log_b = a.text(), b.text()
            assert "close_office_day: office BAD failed" in log_a  # logged, and the offices after it closed
            assert "scheduler: leading" not in log_b and "tickets closed" not in log_b  # the standby ran nothing

            a.kill()  # the leader dies: its connection closes, PostgreSQL frees the lock
            wait_for(lambda: leader_pid(db) == b.proc.pid, timeout=15, what="worker b takes over")
            more_tickets, more_keys = leave_work(db, "second")
            wait_for(lambda: statuses(db, more_tickets) == {"cancelled"}, timeout=30, what="b closes tickets")
            wait_for(lambda: sent(db, more_keys), timeout=30, what="b sends notices")
            assert set(close_audits(db, tickets + more_tickets).values()) == {1}
            assert Tally(r["body"]["ref_id"] for r in gateway.requests) == Tally(keys + more_keys)
            assert "office KOTA2: 3 tickets closed" in b.text()

            assert b.stop() == 0  # SIGTERM: a clean stop, and the lead is free
            assert "SIGTERM received" in b.text() and "scheduler: stopped" in b.text()
            assert leader_pid(db) is None
        finally:
            a.stop()
            b.stop()
    with db.session() as s:  # the broken office was never touched; the good ones were
        assert s.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "waiting")) == 0
