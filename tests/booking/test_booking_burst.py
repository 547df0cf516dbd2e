"""The opening burst on PostgreSQL (issue 6, "never oversold even under a burst of
simultaneous requests on PostgreSQL with several workers"): `loket serve --workers 4`,
200 bookings with 200 distinct valid NIKs (and contacts) for a session with 50 places.
Booking is two steps (issue 13): the 200 requests are sent, then their 200 codes (read
from the notice outbox) are confirmed at once from 4 client processes: every answer is
the same 200, exactly 50 contacts get a booking and 150 are told the session is full,
the database holds 50 bookings and 50 places taken. The same NIK and contact confirmed
10 times at once gets exactly one booking. The rate limits are turned off (every request
comes from 127.0.0.1).
"""
from __future__ import annotations

import multiprocessing as mp
import re
import threading
import time
from collections import Counter as Tally

import pytest
import requests
from sqlalchemy import func, select

from server.db import Database
from server.models import Booking, BookingCapacity, Notice, Office, Service
from server.models.booking import BookingRequest
from tests.conftest import REDIS_URL
from tests.procs import loket_serve, prepared_env
from tests.workers import HEAVY

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, HEAVY]

PROCESSES = 4
REQUESTS = 200
QUOTA = 50


def valid_nik(i: int) -> str:
    """A valid NIK of Pekanbaru (147101), distinct for each ``i`` < 9999: birth date
    DDMMYY (+40 on the day for women), serial i+1."""
    day, month = 1 + i % 28, 1 + (i // 28) % 12
    return f"147101{day + (40 if i % 2 else 0):02d}{month:02d}{80 + i % 20:02d}{i + 1:04d}"


def _client(args: tuple) -> None:
    """One client process: one thread (own HTTP session and CSRF token) per request, all
    posting at ``start_at``; puts [(status, error, answer)] on ``out``."""
    base, path, bodies, start_at, out = args
    results, lock = [], threading.Lock()

    def one(body: dict) -> None:
        s = requests.Session()
        try:
            csrf = s.get(f"{base}/api/v1/auth/csrf", timeout=30).json()["csrf_token"]
            time.sleep(max(0.0, start_at - time.time()))
            r = s.post(f"{base}{path}", json=body, headers={"X-CSRFToken": csrf}, timeout=30)
            data = r.json()
            row = (r.status_code, data.get("error"), data)
        except Exception as exc:  # counted as a failure below
            row = (0, repr(exc), None)
        with lock:
            results.append(row)

    threads = [threading.Thread(target=one, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(results)


def burst(base: str, bodies: list[dict], processes: int = PROCESSES,
          path: str = "/api/v1/offices/DEMO/bookings/confirm") -> list[tuple]:
    """POST ``bodies`` to ``path`` at once from ``processes`` processes; [(status, error, answer)]."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 4.0  # time for the processes to start and fetch their tokens
    procs = [ctx.Process(target=_client, args=((base, path, bodies[i::processes], start_at, out),))
             for i in range(processes)]
    for p in procs:
        p.start()
    results = [row for _ in procs for row in out.get(timeout=60)]
    for p in procs:
        p.join(timeout=10)
    return results


def ask_all(base: str, db: Database, bodies: list[dict]) -> list[dict]:
    """Step 1 for each body (one after another), then {"request", "code"} of each, the code
    read from the notice queued for it."""
    http = requests.Session()
    csrf = http.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    tokens = []
    for body in bodies:
        r = http.post(f"{base}/api/v1/offices/DEMO/bookings", json=body, headers={"X-CSRFToken": csrf}, timeout=30)
        assert r.status_code == 202, r.text
        tokens.append(r.json()["request"])
    with db.session() as s:
        ids = dict(s.execute(select(BookingRequest.token, BookingRequest.id).where(BookingRequest.token.in_(tokens))).all())
        bodies_by_key = dict(s.execute(select(Notice.dedupe_key, Notice.body).where(
            Notice.dedupe_key.in_([f"bkr{i}:code" for i in ids.values()]))).all())
    return [{"request": t, "code": re.search(r"\b(\d{6})\b", bodies_by_key[f"bkr{ids[t]}:code"]).group(1)}
            for t in tokens]


def outcomes(db: Database, confirms: list[dict]) -> Tally:
    with db.session() as s:
        return Tally(s.scalars(select(BookingRequest.outcome).where(
            BookingRequest.token.in_([c["request"] for c in confirms]))).all())


def test_burst_of_200_for_50_places_never_oversells(pg_url, tmp_path):
    env, _tokens = prepared_env(pg_url, REDIS_URL, tmp_path)
    env.update(LOKET_BOOKING_RATE_LIMIT="", LOKET_BOOKING_CONTACT_RATE_LIMIT="")
    db = Database(pg_url)
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        office.settings = {**(office.settings or {}), "booking": {"quotas": {"kk": QUOTA}}}
    niks = [valid_nik(i) for i in range(REQUESTS)]
    assert len(set(niks)) == REQUESTS

    with loket_serve(env, workers=4) as base:
        day = requests.get(f"{base}/api/v1/offices/DEMO/booking", timeout=10).json()["days"][-1]["date"]
        common = {"service": "kk", "day": day, "session": "2"}
        confirms = ask_all(base, db, [{**common, "nik": nik, "name": f"Warga {i}", "phone": f"0812{i:08d}"}
                                      for i, nik in enumerate(niks)])
        started = time.monotonic()
        results = burst(base, confirms)
        elapsed = time.monotonic() - started
        # The same NIK and contact ten times at once (another service, so places are left): one booking.
        same = ask_all(base, db, [{**common, "service": "ktp_el", "nik": niks[0], "name": "Warga Nol",
                                   "phone": "081200000000"}] * 10)
        same_results = burst(base, same, processes=2)

    # Every answer is the same; what each contact was told differs.
    assert Tally((status, error) for status, error, _a in results + same_results) == {(200, None): REQUESTS + 10}
    assert len({(a["status"], a["message"].split(" ke ")[0]) for _s, _e, a in results}) == 1, elapsed
    assert outcomes(db, confirms) == {"booked": QUOTA, "session_full": REQUESTS - QUOTA}, elapsed
    assert outcomes(db, same) == {"booked": 1, "already_booked": 9}

    with db.session() as s:
        kk = s.scalars(select(Service).where(Service.code == "kk")).one()
        ktp = s.scalars(select(Service).where(Service.code == "ktp_el")).one()
        cap = {r.service_id: (r.quota, r.taken) for r in s.scalars(select(BookingCapacity))}
        assert cap[kk.id] == (QUOTA, QUOTA)
        assert cap[ktp.id][1] == 1  # the nine refused requests gave their place back (rolled back)
        rows = s.execute(select(Booking.service_id, Booking.code, Booking.nik)).all()
        assert sum(1 for r in rows if r.service_id == kk.id) == QUOTA
        assert len({r.code for r in rows}) == len(rows) == QUOTA + 1
        assert s.scalar(select(func.count()).select_from(Booking).where(Booking.nik == niks[0])) <= 2
    db.dispose()
