"""Booking rate and latency at the opening burst (issue 6), and oversold places (must be 0).
Booking is two steps since issue 13 (a code sent to the contact, then the code): both are
measured, one after the other.

    python bench/booking_rate.py             # `loket serve --workers 4`, PostgreSQL, Redis

The demo office on a fresh PostgreSQL database (bench/servers.py) with ``--quota`` places
per service and session; the day that has just opened for booking (the last one of the
horizon). ``--citizens`` citizens (default 2000), each with their own valid NIK, come at
once: each one asks for a random bookable service and session (POST
/api/v1/offices/DEMO/bookings, JSON, a fresh cookie jar; 202: a code was sent to the
citizen's own WhatsApp number), and once all have asked, each one sends the code read from
the notice outbox (POST /api/v1/offices/DEMO/bookings/confirm: the place is taken or
refused here; 200 whatever the outcome). That is all the booking page sends at the opening:
since the booking POST needs no CSRF token (``server.security.public_json``) the page's
token is not needed, and its availability was loaded before the opening. ``--csrf-fetch``
restores the earlier per-citizen GET /api/v1/auth/csrf before the POST (the token then
goes with the POST), for comparison with figures measured when the token was required. They
are carried by ``--procs`` load processes × ``--connections`` keep-alive connections each
(aiohttp, one asyncio loop per process): a closed loop, every connection takes the next
citizen as soon as the previous one is answered. Demand is about three times the places,
so most sessions fill up during the code step and the rest of the contacts are told the
session is full. A closed loop measures the most the server answers, but its latency is
mostly the queue it builds itself (32 connections always waiting: latency ≈ 32 / rate).
``--rate R`` runs an open loop instead: citizens arrive at R per second on a fixed schedule
whatever the server does, and latency counts from each arrival; the targets (≥ 300/s with
p99 ≤ 100 ms) are then checked together at ``--rate 300``.

Reported, for each step: requests/s (every POST answered: 202 or 422; 200), p50/p99/max
latency (and of the CSRF fetch), counts by status and error; then from the database: what
the contacts were told (the requests' outcomes), places taken vs quota per session
(oversold = taken beyond the quota), active booking rows per session vs quota, rows vs
contacts told "booked", duplicate codes. The rate limits are off
(``LOKET_BOOKING_RATE_LIMIT=""``): every request comes from 127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import (ROOT, SERVER_PID, bench_dir, percentile, prepare_postgres, private_redis, start_serve,  # noqa: E402
                     stop_all, tree_cpu_s)

TARGET_RATE = 300.0  # booking requests/s
TARGET_P99_MS = 100.0
REGIONS = ["147101", "147102", "147103", "147104", "147105", "147106", "147107", "147108"]


def valid_nik(i: int) -> str:
    """A valid NIK, distinct for each i < 8 × 9999: region, birth date DDMMYY (+40 on the
    day for women), serial."""
    region, rest = REGIONS[i // 9999 % len(REGIONS)], i % 9999
    day, month = 1 + rest % 28, 1 + (rest // 28) % 12
    return f"{region}{day + (40 if rest % 2 else 0):02d}{month:02d}{70 + rest % 30:02d}{rest + 1:04d}"


# -- load generator -----------------------------------------------------------------------
def ask_body(i: int, service: str, session: str, day: str) -> dict:
    """Citizen ``i``'s booking form: own NIK and own WhatsApp number (one contact holds at
    most 2 NIKs a day: issue 13's broker limit)."""
    return {"service": service, "day": day, "session": session, "nik": valid_nik(i), "name": f"Warga {i}",
            "phone": f"0812{i:08d}"}


def _row(status: int, data: dict, t_csrf: float, t_post: float) -> tuple:
    """(status, error, request token of a 202, csrf s, post s, end time)."""
    return (status, data.get("error"), data.get("request") if status == 202 else None, t_csrf, t_post, time.time())


async def _run_process(base: str, items: list[tuple[str, dict]], connections: int, start_at: float,
                       csrf_fetch: bool = False) -> list[tuple]:
    """Closed loop: each of ``connections`` keep-alive connections POSTs the next (path,
    body) of ``items`` as soon as the previous one is answered."""
    import aiohttp

    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    rows: list[tuple] = []

    async def connection() -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=1), cookie_jar=jar,
                                         timeout=aiohttp.ClientTimeout(total=30)) as http:
            await http.get("/api/v1/offices/DEMO")  # open the keep-alive connection before the burst
            await asyncio.sleep(max(0.0, start_at - time.time()))
            while not queue.empty():
                path, body = queue.get_nowait()
                jar.clear()  # a new citizen: a new cookie session (and a new CSRF token if fetched)
                t0 = time.perf_counter()
                try:
                    headers = {}
                    if csrf_fetch:
                        async with http.get("/api/v1/auth/csrf") as r:
                            headers["X-CSRFToken"] = (await r.json())["csrf_token"]
                    t1 = time.perf_counter()
                    async with http.post(path, json=body, headers=headers) as r:
                        data = await r.json()
                        status = r.status
                    rows.append(_row(status, data, t1 - t0, time.perf_counter() - t1))
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
                    rows.append((0, type(exc).__name__, None, 0.0, time.perf_counter() - t0, time.time()))

    await asyncio.gather(*(connection() for _ in range(connections)))
    return rows


async def _run_open_loop(base: str, items: list[tuple[str, dict]], connections: int, start_at: float, rate: float,
                         offset_s: float) -> list[tuple]:
    """Open loop: item k of this process is sent at ``start_at + offset_s + k / rate``
    whether or not earlier ones were answered, and waits for one of ``connections``
    keep-alive connections. Latency runs from the arrival time (waiting for a connection
    included), so a slow server cannot hide its queue (no coordinated omission)."""
    import aiohttp

    rows: list[tuple] = []
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                     timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.gather(*(http.get("/api/v1/offices/DEMO") for _ in range(connections)))  # warm connections

        async def citizen(k: int, path: str, body: dict) -> None:
            arrival = start_at + offset_s + k / rate
            await asyncio.sleep(max(0.0, arrival - time.time()))
            t_arrival = time.perf_counter() - max(0.0, time.time() - arrival)
            try:
                async with http.post(path, json=body) as r:
                    data = await r.json()
                    status = r.status
                rows.append(_row(status, data, 0.0, time.perf_counter() - t_arrival))
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError) as exc:
                rows.append((0, type(exc).__name__, None, 0.0, time.perf_counter() - t_arrival, time.time()))

        await asyncio.gather(*(citizen(k, *item) for k, item in enumerate(items)))
    return rows


def _process(args: tuple) -> list[tuple]:
    return asyncio.run(_run_process(*args))


def _open_process(args: tuple) -> list[tuple]:
    return asyncio.run(_run_open_loop(*args))


def _phase(base: str, items: list[tuple[str, dict]], procs: int, connections: int, csrf_fetch: bool,
           rate: float, ok: tuple[int, ...]) -> tuple[dict, list[tuple]]:
    """POST ``items`` (closed loop, or open loop at ``rate``/s) from ``procs`` processes:
    (figures, rows). ``ok``: the statuses that count as answered."""
    start_at = time.time() + 2.0
    if rate > 0:
        jobs = [(base, items[p::procs], connections, start_at, rate / procs, p / rate) for p in range(procs)]
        worker = _open_process
    else:
        jobs = [(base, items[p::procs], connections, start_at, csrf_fetch) for p in range(procs)]
        worker = _process
    with mp.get_context("fork").Pool(procs) as pool:
        parts = pool.map(worker, jobs)
    rows = [r for part in parts for r in part]
    elapsed = max(r[5] for r in rows) - start_at
    answered = [r for r in rows if r[0] in ok]
    lat = [r[4] * 1000 for r in answered] or [0.0]
    csrf = [r[3] * 1000 for r in answered] or [0.0]
    by_status: dict[str, int] = {}
    for r in rows:
        key = f"{r[0]} {r[1]}" if r[1] else str(r[0])
        by_status[key] = by_status.get(key, 0) + 1
    return {"requests": len(items), "seconds": round(elapsed, 2), "rate_per_s": round(len(answered) / elapsed, 1),
            "p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(max(lat), 1), "csrf_p50_ms": round(percentile(csrf, 50), 1),
            "csrf_p99_ms": round(percentile(csrf, 99), 1), "by_status": by_status}, rows


def sent_codes(url: str, tokens: list[str]) -> dict[str, str]:
    """{request token: the 6-digit code in the notice queued for it}, read from the outbox
    (what the citizen receives by WhatsApp)."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        rows = conn.execute("SELECT r.token, n.body FROM booking_requests r JOIN notices n "
                            "ON n.dedupe_key = 'bkr' || r.id || ':code' WHERE r.token = ANY(%s)", (tokens,)).fetchall()
    return {token: re.search(r"\b(\d{6})\b", body).group(1) for token, body in rows}


def opening_burst(base: str, day: str, choices: list[tuple[str, str]], citizens: int, procs: int,
                  connections: int, url: str, seed: int = 6, csrf_fetch: bool = False, rate: float = 0.0) -> dict:
    """Run the burst in the two steps of a booking (issue 13): every citizen's booking POST
    (202: a code was sent), then every citizen's code (POST .../bookings/confirm: the place
    is taken or refused there; 200 whatever the outcome). Each step a closed loop (``rate``
    0: every connection sends the next as soon as the last one is answered) or an open loop
    (``rate``/s on a fixed schedule, spread over the processes; see :func:`_run_open_loop`)."""
    rng = random.Random(seed)
    asks = [("/api/v1/offices/DEMO/bookings", ask_body(i, *rng.choice(choices), day)) for i in range(citizens)]
    ask, rows = _phase(base, asks, procs, connections, csrf_fetch, rate, ok=(202, 422))
    codes = sent_codes(url, [r[2] for r in rows if r[2]])
    confirms = [("/api/v1/offices/DEMO/bookings/confirm", {"request": t, "code": c}) for t, c in codes.items()]
    confirm, _rows = _phase(base, confirms, procs, connections, csrf_fetch, rate, ok=(200,))
    return {"ask": ask, "confirm": confirm}


# -- CPU accounting -------------------------------------------------------------------------
def _pg_cpu_s(url: str) -> dict[int, float]:
    """{backend pid: CPU seconds so far} of the PostgreSQL backends connected to the bench
    database (the server's pooled connections), from /proc; others' databases not counted."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                               "AND pid <> pg_backend_pid()").fetchall()]
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def _children_cpu_s() -> float:
    """CPU seconds of this process's finished children (the load processes of a burst)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- checks -------------------------------------------------------------------------------
def check_db(url: str, day: str) -> dict:
    """Oversold places and consistency, read from the database; the outcomes the contacts
    were told (booking_requests.outcome)."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        caps = conn.execute("SELECT service_id, session_code, quota, taken FROM booking_capacity "
                            "WHERE day = %s", (day,)).fetchall()
        rows = dict(((s, c), n) for s, c, n in conn.execute(
            "SELECT service_id, session_code, count(*) FROM bookings WHERE day = %s AND status = 'booked' "
            "GROUP BY service_id, session_code", (day,)).fetchall())
        db_codes = [c for (c,) in conn.execute("SELECT code FROM bookings WHERE day = %s", (day,)).fetchall()]
        outcomes = dict(conn.execute("SELECT coalesce(outcome, status), count(*) FROM booking_requests "
                                     "WHERE day = %s GROUP BY 1", (day,)).fetchall())
    quota = {(s, c): q for s, c, q, _t in caps}
    return {"sessions": len(caps), "places": sum(q for _s, _c, q, _t in caps),
            "sessions_full": sum(1 for _s, _c, q, t in caps if t >= q),
            "oversold_taken": sum(max(0, t - q) for _s, _c, q, t in caps),
            "oversold_rows": sum(max(0, n - quota.get(k, 0)) for k, n in rows.items()),
            "taken_vs_rows_mismatch": sum(abs(t - rows.get((s, c), 0)) for s, c, _q, t in caps),
            "db_rows": len(db_codes), "told_booked": outcomes.get("booked", 0), "outcomes": outcomes,
            "duplicate_codes": len(db_codes) - len(set(db_codes))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--citizens", type=int, default=2000, help="citizens booking at the opening (one POST each)")
    ap.add_argument("--procs", type=int, default=2, help="load processes")
    ap.add_argument("--connections", type=int, default=16, help="keep-alive connections per load process")
    ap.add_argument("--quota", type=int, default=0, help="places per service and session (default: about "
                    "a third of the demand)")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    ap.add_argument("--redis-url", default=None, help="default: a private redis-server (see servers.private_redis)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    ap.add_argument("--csrf-fetch", action="store_true", help="each citizen fetches a CSRF token first (GET "
                    "/api/v1/auth/csrf), as before the booking POST stopped needing one")
    ap.add_argument("--rate", type=float, default=0.0, help="open loop: citizens arrive at this many per "
                    "second on a fixed schedule (latency from arrival); default 0: closed loop, all at once")
    args = ap.parse_args()
    if args.rate and args.csrf_fetch:
        ap.error("--rate runs one booking POST per citizen; it does not go with --csrf-fetch")
    import requests

    tmp = bench_dir("booking")
    env, _tokens, url = prepare_postgres(tmp, args.redis_url or private_redis(tmp))
    env.update(LOKET_BOOKING_RATE_LIMIT="", LOKET_BOOKING_CONTACT_RATE_LIMIT="")
    # The bookable services (the office's defaults), then the quota: demand ~3x the places.
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import select

    from server.db import Database
    from server.models import Office
    from server.services.booking.settings import BookingRules

    db = Database(url, pool_size=1)
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        bookable = [sv for sv in office.services if BookingRules(office).bookable(sv)]
        quota = args.quota or max(1, args.citizens // (3 * 3 * len(bookable)))
        office.settings = {**(office.settings or {}), "booking": {"default_quota": quota}}
    db.dispose()
    base = start_serve(env, tmp, args.workers)
    avail = requests.get(f"{base}/api/v1/offices/DEMO/booking", timeout=10).json()
    day = avail["days"][-1]["date"]
    services = [s["code"] for s in avail["services"]]
    sessions = sorted(avail["days"][-1]["sessions"])
    choices = [(s, c) for s in services for c in sessions]
    # Warm-up on the first day (not counted, not checked): as wide as the burst, so every
    # worker has served bookings and holds warm database connections, as a server that has
    # been answering the booking pages all morning does. (A narrower warm-up, 20 citizens
    # over 2 connections, left the burst to open ~12 new PostgreSQL backends in its first
    # 60 ms: successful bookings of the first 0.25 s then waited 60-390 ms on them.)
    opening_burst(base, avail["days"][0]["date"], [(services[0], sessions[-1])], 120, args.procs,
                  args.connections, url, seed=1, csrf_fetch=args.csrf_fetch)
    load_avg = os.getloadavg()[0]
    cpu0, pg0, gen0 = tree_cpu_s(SERVER_PID[0]), _pg_cpu_s(url), _children_cpu_s()
    res = opening_burst(base, day, choices, args.citizens, args.procs, args.connections, url,
                        csrf_fetch=args.csrf_fetch, rate=args.rate)
    cpu_ms = (tree_cpu_s(SERVER_PID[0]) - cpu0) * 1000 / max(1, args.citizens)
    pg_ms = sum(cpu - pg0.get(pid, 0.0) for pid, cpu in _pg_cpu_s(url).items()) * 1000 / max(1, args.citizens)
    gen_ms = (_children_cpu_s() - gen0) * 1000 / max(1, args.citizens)
    checks = check_db(url, day)
    stop_all()
    print(f"\n== booking opening burst == `loket serve --workers {args.workers}` (gunicorn gevent, PostgreSQL, "
          "Redis)")
    print(f"   machine: {os.cpu_count()} cores shared by the server, PostgreSQL and the load generator "
          f"({args.procs} processes x {args.connections} keep-alive connections); 1-min load before the run "
          f"{load_avg:.2f}")
    what = "CSRF fetch + booking POST, then CSRF fetch + code POST" if args.csrf_fetch else \
        "a booking POST, then a code POST"
    if args.rate:
        what += f", each arriving at {args.rate:g}/s (open loop, latency from arrival)"
    print(f"   {args.citizens} citizens ({what} each) for {checks['places']} places "
          f"({len(services)} services x {len(sessions)} sessions x {quota}) on {day}")
    for step, label in (("ask", "booking POST (a code is sent)"), ("confirm", "code POST (the place is taken)")):
        r = res[step]
        print(f"   {label}: {r['rate_per_s']} requests/s over {r['seconds']} s (target >= {TARGET_RATE:g}/s: "
              f"{'MET' if r['rate_per_s'] >= TARGET_RATE else 'MISSED'}); latency p50 {r['p50_ms']} ms, p99 "
              f"{r['p99_ms']} ms, max {r['max_ms']} ms (target p99 <= {TARGET_P99_MS:g} ms: "
              f"{'MET' if r['p99_ms'] <= TARGET_P99_MS else 'MISSED'})"
              + (f"; CSRF fetch p50 {r['csrf_p50_ms']} ms, p99 {r['csrf_p99_ms']} ms" if args.csrf_fetch else "")
              + f"; answers {r['by_status']}")
    print(f"   server CPU {cpu_ms:.1f} ms per citizen (both steps) in the Loket processes; PostgreSQL backends of "
          f"the bench database {pg_ms:.1f} ms, load generator {gen_ms:.1f} ms "
          f"(2 cores = 2000 ms/s: {2000 / max(0.1, cpu_ms + pg_ms + gen_ms):.0f}/s if nothing else ran)")
    print(f"   told the contacts: {checks['outcomes']}")
    print(f"   oversold places: {checks['oversold_taken']} by the counters, {checks['oversold_rows']} by the rows "
          f"(must be 0); sessions full {checks['sessions_full']}/{checks['sessions']}; taken vs rows mismatch "
          f"{checks['taken_vs_rows_mismatch']}; rows {checks['db_rows']} for {checks['told_booked']} told booked; "
          f"duplicate codes {checks['duplicate_codes']}")
    if args.json:
        print(json.dumps({**res, **checks, "quota": quota, "load_avg_before": load_avg,
                          "server_cpu_ms_per_citizen": round(cpu_ms, 2), "pg_cpu_ms_per_citizen": round(pg_ms, 2),
                          "loadgen_cpu_ms_per_citizen": round(gen_ms, 2), "csrf_fetch": args.csrf_fetch}))
    if checks["oversold_taken"] or checks["oversold_rows"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
