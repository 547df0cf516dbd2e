"""A busy office the way citizens see it: 8 counters calling at the same moment through two
`loket serve` processes (2 gevent workers each) on PostgreSQL and Redis, and 24 waiting-room
TVs running the TV page's own logic (server/simulate/tv.py: the drivers/stream cursor and
call announcer the page's JavaScript twin shares). Every call must be shown and spoken
exactly once, in the office log's order, on every TV: in normal work, while Redis is
stopped and started again (losing its data), and while a worker is killed (its TVs
reconnect and catch up)."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import requests
from sqlalchemy import select

from server.db import Database
from server.models import Office, StreamEntry
from server.services.accounts import create_staff
from server.services.actors import SYSTEM
from server.simulate.tv import TvScreen, judge
from tests.live import Staff
from tests.procs import busiest_worker, prepared_env, private_redis, serve_process
from tests.workers import HEAVY

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, HEAVY]

COUNTERS = range(1, 9)
SERVICES = ["ktp_el", "kk", "kia", "pelita1", "skpwni", "skdwni", "pickup", "ktp_activation", "info"]
TVS_PER_SERVER = 12
PASSWORD = "password123"


def _officers(url: str) -> None:
    db = Database(url)
    try:
        with db.session() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == "DEMO"))
            for n in COUNTERS:
                if n > 1:  # fo1 comes from prepared_env
                    create_staff(s, f"fo{n}", PASSWORD, "front_office", full_name=f"Officer {n}",
                                 office_id=office_id, actor=SYSTEM)
    finally:
        db.dispose()


def _calls_in_log(url: str, after: int) -> list[int]:
    """Call ids of the public stream after position ``after``, in log order."""
    db = Database(url)
    try:
        with db.session() as s:
            rows = s.execute(select(StreamEntry.data).where(StreamEntry.stream == "public", StreamEntry.name == "call",
                                                            StreamEntry.position > after)
                             .order_by(StreamEntry.position)).scalars().all()
            return [row["call"]["id"] for row in rows]
    finally:
        db.dispose()


def _head(url: str) -> int:
    db = Database(url)
    try:
        with db.session() as s:
            return s.scalar(select(StreamEntry.position).where(StreamEntry.stream == "public")
                            .order_by(StreamEntry.position.desc()).limit(1)) or 0
    finally:
        db.dispose()


def _round(officers: dict[int, Staff]) -> None:
    """Every counter calls its next citizen at the same moment (finishing the one before)."""
    barrier = threading.Barrier(len(officers))
    errors = []

    def call(n: int, officer: Staff) -> None:
        counter_id = officer.counter_ids[n]
        barrier.wait(timeout=30)
        r = officer.http.post(f"{officer.base}/api/v1/counters/{counter_id}/call-next",
                              json={"finish_current": True}, timeout=30)
        if r.status_code != 200:
            errors.append((n, r.status_code, r.text[:200]))

    threads = [threading.Thread(target=call, args=(n, o)) for n, o in officers.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def _wait_all(screens: list[TvScreen], expected: list[int], timeout: float = 30.0) -> None:
    want = set(expected)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(want <= set(s.received) | set(s.from_state) for s in screens):
            return
        time.sleep(0.2)


def _verdicts(screens: list[TvScreen], expected: list[int]) -> list[tuple[str, dict]]:
    bad = []
    for screen in screens:
        v = judge(screen, expected)
        if v["missed"] or v["unspoken"] or v["spoken_twice"] or v["out_of_order"] or not v["received_in_order"]:
            bad.append((screen.name, v))
    return bad


def test_busy_office_every_call_shown_and_spoken_once_in_order(pg_url, tmp_path):
    with private_redis() as (redis_url, stop_redis, start_redis):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        env = {**env, "LOKET_STREAM_POLL_S": "0.5"}
        _officers(env["LOKET_DATABASE_URL"])
        url = env["LOKET_DATABASE_URL"]
        with serve_process(env, workers=2) as (a, proc_a), serve_process(env, workers=2) as (b, _proc_b):
            kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
            for _ in range(14):
                for service in SERVICES:
                    requests.post(f"{a}/api/v1/offices/DEMO/tickets", json={"service": service}, headers=kiosk,
                                  timeout=30).raise_for_status()
            officers = {n: Staff(a if n % 2 else b, f"fo{n}", PASSWORD) for n in COUNTERS}
            for n, officer in officers.items():
                officer.counter_ids = {c: v["id"] for c, v in officer.counters().items()}
                officer.act(n, "open")
            screens = [TvScreen(base, tokens["display"], name=f"tv{i}-{'a' if base == a else 'b'}").start()
                       for base in (a, b) for i in range(TVS_PER_SERVER)]
            try:
                # 1. normal work: 3 rounds of 8 simultaneous calls
                start = _head(url)
                for _ in range(3):
                    _round(officers)
                normal = _calls_in_log(url, start)
                assert len(normal) == 3 * len(COUNTERS)
                _wait_all(screens, normal)
                assert _verdicts(screens, normal) == [], "normal work"

                # 2. Redis stopped (its data lost) while counters call, then started again
                start = _head(url)
                stop_redis()
                _round(officers)
                _round(officers)
                start_redis()
                _round(officers)
                outage = _calls_in_log(url, start)
                assert len(outage) == 3 * len(COUNTERS)
                _wait_all(screens, outage)
                assert _verdicts(screens, outage) == [], "Redis restarted"

                # 3. a worker of server A killed between two rounds (its TVs reconnect); the
                #    officers of A go on through B meanwhile, as a browser retries elsewhere
                start = _head(url)
                victim = busiest_worker(proc_a, a)  # a worker holding TVs (not always the first)
                os.kill(victim, signal.SIGKILL)
                for officer in officers.values():
                    officer.base = b
                _round(officers)
                _round(officers)
                killed = _calls_in_log(url, start)
                assert len(killed) == 2 * len(COUNTERS)
                _wait_all(screens, killed)
                assert _verdicts(screens, killed) == [], "a worker killed"
                assert any(s.stream.cursor.syncs > 1 for s in screens), "some TVs were on the killed worker"
            finally:
                for screen in screens:
                    screen.stop()
