"""Where a booking's server time goes (issue 6): an in-process request loop, no HTTP.

    python bench/booking_profile.py [--citizens 600] [--profile] [--sql]

The demo office on a fresh PostgreSQL database (``servers.prepare_postgres``) and a
private Redis, the production app (``create_app()``, Redis rate-limit storage, limits ON
unless ``--no-limits``) driven by Flask's test client: each citizen does what
``booking_rate.py`` has them do (a new cookie session and the booking POST, then the code
POST with the code read from the outbox, issue 13; with ``--csrf-fetch`` a CSRF token
fetch first), ~3x more citizens than places as in the burst. Unlike the burst, each
citizen sends the code at once, so the later ones find their session full at the booking
POST (409, nothing written) rather than at the code POST.

Printed: CPU ms (``time.process_time``) per citizen and per request kind: the booking POST
(202 a code sent; 409 ``session_full``) and the code POST by what the contact is told
(booked, session_full, ...); SQL statements per request (SQLAlchemy's
cursor events: psycopg's BEGIN, COMMIT/ROLLBACK and the pool's pre-ping are round trips
too but not counted); Redis commands per request (the limiter's: per-IP limit
"1000000/minute", everything comes from one address, and the per-contact "5/hour"); with ``--profile`` the cProfile top 35 by cumulative time; with ``--sql``
the statements of one successful booking and one refused one (env BOOKING_PROFILE_SORT,
e.g. "tottime", and BOOKING_PROFILE_TOP change the profile's order and length). One
process, one connection at a time: no lock waits, no gevent: the CPU figure is the request's own cost.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from booking_rate import valid_nik  # noqa: E402
from servers import ROOT, bench_dir, prepare_postgres, private_redis  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--citizens", type=int, default=600)
    ap.add_argument("--profile", action="store_true", help="print the cProfile top 35 (cumulative)")
    ap.add_argument("--sql", action="store_true", help="print the statements of one booked and one refused request")
    ap.add_argument("--no-limits", action="store_true", help="rate limits off, as in booking_rate.py")
    ap.add_argument("--csrf-fetch", action="store_true", help="GET /api/v1/auth/csrf before each POST")
    ap.add_argument("--quota", type=int, default=0, help="places per service and session (default: a third of "
                    "the demand, as in the burst; large: every POST books)")
    args = ap.parse_args()

    tmp = bench_dir("booking-profile")
    env, _tokens, url = prepare_postgres(tmp, private_redis(tmp))
    for key in ("LOKET_DATABASE_URL", "LOKET_REDIS_URL", "LOKET_SECRET_KEY", "LOKET_DATA_DIR",
                "LOKET_INSECURE_COOKIES"):
        os.environ[key] = env[key]
    limits = {"BOOKING_RATE_LIMIT": "", "BOOKING_CONTACT_RATE_LIMIT": ""} if args.no_limits else {
        "BOOKING_RATE_LIMIT": "1000000/minute", "BOOKING_CONTACT_RATE_LIMIT": "5/hour"}
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import event, select

    from server import create_app
    from server.models import Office
    from server.services.booking.settings import BookingRules

    app = create_app(**limits)
    db = app.extensions["loket"].db
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        bookable = [sv for sv in office.services if BookingRules(office).bookable(sv)]
        quota = args.quota or max(1, args.citizens // (3 * 3 * len(bookable)))
        office.settings = {**(office.settings or {}), "booking": {"default_quota": quota}}

    statements: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_a):
        statements.append(statement)

    redis_calls = [0]
    storage = app.extensions["loket_limiter"].storage
    client = getattr(storage, "storage", None)
    if client is not None and hasattr(client, "execute_command"):
        original = client.execute_command

        def counted(*a, **kw):
            redis_calls[0] += 1
            return original(*a, **kw)
        client.execute_command = counted

    http = app.test_client()
    avail = http.get("/api/v1/offices/DEMO/booking").get_json()
    day = avail["days"][-1]["date"]
    choices = [(s["code"], c) for s in avail["services"] for c in sorted(avail["days"][-1]["sessions"])]
    rng = random.Random(6)
    people = [(i, *rng.choice(choices)) for i in range(args.citizens)]

    from server.models import Notice
    from server.models.booking import BookingRequest

    def sent(token: str) -> tuple[str, int]:
        """(the code in the notice queued for request ``token``, the request's id)."""
        with db.session() as s:
            request_id = s.scalar(select(BookingRequest.id).where(BookingRequest.token == token))
            body = s.scalar(select(Notice.body).where(Notice.dedupe_key == f"bkr{request_id}:code"))
        return re.search(r"\b(\d{6})\b", body).group(1), request_id

    def citizen(i: int, service: str, session: str, sample: dict | None = None) -> list[tuple]:
        """[(kind, CSRF CPU s, POST CPU s, SQL statements, Redis commands)] of the booking
        POST and, when it sent a code, the code POST."""
        c = app.test_client()
        headers = {}
        t0 = time.process_time()
        if args.csrf_fetch:
            headers["X-CSRFToken"] = c.get("/api/v1/auth/csrf").get_json()["csrf_token"]
        t1 = time.process_time()
        n0, r0 = len(statements), redis_calls[0]
        r = c.post("/api/v1/offices/DEMO/bookings", headers=headers,
                   json={"service": service, "day": day, "session": session, "nik": valid_nik(i),
                         "name": f"Warga {i}", "phone": f"0812{i:08d}"})
        t2 = time.process_time()
        out = [(f"booking POST {r.status_code}", t1 - t0, t2 - t1, len(statements) - n0, redis_calls[0] - r0)]
        if sample is not None and out[0][0] not in sample:
            sample[out[0][0]] = statements[n0:]
        if r.status_code != 202:
            return out
        code, request_id = sent(r.get_json()["request"])
        n0, r0 = len(statements), redis_calls[0]
        t2 = time.process_time()
        r = c.post("/api/v1/offices/DEMO/bookings/confirm", headers=headers,
                   json={"request": r.get_json()["request"], "code": code})
        t3 = time.process_time()
        stmts, reds = statements[n0:], redis_calls[0] - r0
        with db.session() as s:
            outcome = s.scalar(select(BookingRequest.outcome).where(BookingRequest.id == request_id))
        kind = f"code POST {r.status_code} {outcome}"
        out.append((kind, 0.0, t3 - t2, len(stmts), reds))
        if sample is not None and kind not in sample:
            sample[kind] = stmts
        return out

    for i in range(20):  # warm-up on the first day
        c = app.test_client()
        token = c.get("/api/v1/auth/csrf").get_json()["csrf_token"]
        c.post("/api/v1/offices/DEMO/bookings", headers={"X-CSRFToken": token},
               json={"service": choices[0][0], "day": avail["days"][0]["date"], "session": "3",
                     "nik": valid_nik(50000 + i), "name": "W", "phone": f"0813{i:08d}"})
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not waits
    sample: dict = {}
    rows = []
    if profiler:
        profiler.enable()
    for person in people:
        rows.extend(citizen(*person, sample=sample))
    if profiler:
        profiler.disable()
    db.dispose()

    def line(kind: str, sel: list) -> str:
        n = len(sel)
        return (f"   {kind}: {n} requests, POST {1000 * sum(r[2] for r in sel) / n:.2f} ms CPU, "
                f"CSRF GET {1000 * sum(r[1] for r in sel) / n:.2f} ms CPU, {sum(r[3] for r in sel) / n:.1f} SQL "
                f"statements and {sum(r[4] for r in sel) / n:.1f} Redis commands per POST")

    print(f"\n== booking path, in process (Flask test client, PostgreSQL, Redis; limits "
          f"{'off' if args.no_limits else 'on'}) ==")
    print(f"   {len(people)} citizens for {quota} places per service and session; "
          f"{1000 * sum(r[1] + r[2] for r in rows) / len(people):.2f} ms CPU per citizen (all requests)")
    for kind in sorted({r[0] for r in rows}):
        print(line(kind, [r for r in rows if r[0] == kind]))
    if args.sql:
        for status, stmts in sorted(sample.items()):
            print(f"\n-- statements of one {status} ({len(stmts)}):")
            for st in stmts:
                print("   " + " ".join(st.split())[:220])
    if profiler:
        print()
        pstats.Stats(profiler).sort_stats(os.environ.get("BOOKING_PROFILE_SORT", "cumulative")).print_stats(int(os.environ.get("BOOKING_PROFILE_TOP", "35")))


if __name__ == "__main__":
    main()
