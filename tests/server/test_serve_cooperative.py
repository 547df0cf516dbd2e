"""A `loket serve` worker waiting on PostgreSQL keeps serving its other clients.

Each gunicorn gevent worker holds hundreds of clients (screens, consoles, agents) in one
process; a request waiting for the database must yield to the others, which needs
psycopg's cooperative wait function. psycopg chooses it when it is first imported, by
whether gevent has patched ``select`` by then: had the master process imported it (the
start-up checks read the database before gunicorn forks its workers), every worker would
inherit the blocking one, and one slow statement would stall every screen of its worker
(found 2026-12-08: the bus sender's XADD waited for the next request's statements too).

The real command, one worker: a staff request waits on a row lock held by the test, while
another client asks for a page that reads nothing locked.
"""
from __future__ import annotations

import time

import psycopg
import requests

from tests.live import Staff, wait_for
from tests.procs import prepared_env, private_redis, serve_process
from tests.threads import timed_in_thread
from tests.workers import HEAVY

pytestmark = [HEAVY]  # it times a server's answers

HOLD_S = 8.0  # how long the test holds the lock
PROMPT_S = 3.0  # well under HOLD_S, well over a normal answer on a loaded machine


def test_a_request_waiting_on_the_database_does_not_stall_the_worker(pg_url, tmp_path):
    with private_redis() as (redis_url, _stop, _start):
        env, _tokens = prepared_env(pg_url, redis_url, tmp_path)
        with serve_process(env, workers=1) as (base, _proc):
            officer = Staff(base, "fo1", "password123")
            cid = officer.counters()[1]["id"]
            other = requests.Session()
            assert other.get(f"{base}/api/v1/offices/DEMO", timeout=10).status_code == 200
            dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(dsn) as conn, psycopg.connect(dsn, autocommit=True) as watch:
                conn.execute("SELECT 1 FROM counters WHERE id = %s FOR UPDATE", (cid,))  # held until rollback
                locked = time.monotonic()
                opening, blocked = timed_in_thread(
                    lambda: officer.http.post(f"{base}/api/v1/counters/{cid}/open", timeout=30))
                wait_for(lambda: watch.execute(  # the open waits on the counter's row lock
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'").fetchone()[0], timeout=HOLD_S / 2, what="the open waiting on the lock")
                probing, probed = timed_in_thread(lambda: other.get(f"{base}/api/v1/offices/DEMO", timeout=30))
                time.sleep(max(0.0, HOLD_S - (time.monotonic() - locked)))
                conn.rollback()
            opening.join(timeout=30)
            probing.join(timeout=30)
    probe = probed["answer"]
    probe_s = probed["seconds"]
    assert probe.status_code == 200
    assert probe_s < PROMPT_S, f"the office page waited {probe_s:.1f} s behind a request waiting on a lock"
    assert blocked["answer"].status_code == 200, blocked["answer"].text
    assert blocked["seconds"] >= HOLD_S - 1.0  # it really waited on the lock
