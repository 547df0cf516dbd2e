"""Ticket issue rate and latency through the REST API (POST /api/v1/offices/DEMO/tickets).

    python bench/issue_rate.py sqlite      # one `loket demo` process (SQLite, gevent)
    python bench/issue_rate.py postgres    # `loket serve --workers 4` on PostgreSQL + Redis

The load generator is several processes, each with keep-alive connections (one per thread,
``http.client``), issuing with a kiosk Bearer token for a fixed count, stopped early at a
time limit. The kiosk is one registered for the bench (``loket device-add``) whose agent is
not running, on both databases: each ticket's print job is queued and pushed, nobody prints
it. ``--kiosk demo`` (SQLite only) issues with `loket demo`'s own kiosk instead, whose agent
runs inside the server process on a simulated printer: its work per ticket (QR code,
ESC/POS layout, print journal, and the server's handling of its print result) is then
counted as server CPU too; on a real kiosk that agent runs on the kiosk PC. Service codes
follow the simulation's mix (server/simulate/model.py). After the run the database is read
to check that no number was given twice and none was skipped.
Everything runs on 127.0.0.1; servers (bench/servers.py) are stopped at exit.
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import (ROOT, SERVER_PID, bench_dir, cli, percentile, prepare_postgres, private_redis,  # noqa: E402
                     start_demo, start_serve, stop_all, tree_cpu_s)

sys.path.insert(0, str(ROOT))
from server.simulate.model import SERVICE_MIX  # noqa: E402

TARGETS = {"sqlite": 200.0, "postgres": 500.0}  # tickets/s
TARGET_P99_MS = 50.0


# -- load generator -----------------------------------------------------------------------
def _worker(args: tuple) -> list[tuple[float, int, str | None]]:
    """One load process: ``threads`` keep-alive connections issuing ``count`` tickets in all
    from ``start_at`` (epoch s) until ``deadline``; [(latency s, status, number)]."""
    port, token, count, threads, start_at, deadline, seed = args
    results: list[tuple[float, int, str | None]] = []
    lock = threading.Lock()
    codes, weights = list(SERVICE_MIX), list(SERVICE_MIX.values())

    def run(n: int, tseed: int) -> None:
        rng = random.Random(tseed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        mine = []
        time.sleep(max(0.0, start_at - time.time()))
        for _ in range(n):
            if time.time() > deadline:
                break
            body = json.dumps({"service": rng.choices(codes, weights)[0]})
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/v1/offices/DEMO/tickets", body, headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status, data = 0, b""
            latency = time.perf_counter() - t
            number = json.loads(data)["ticket"]["number"] if status == 201 else None
            mine.append((latency, status, number))
        with lock:
            results.extend(mine)

    share = [count // threads + (i < count % threads) for i in range(threads)]
    pool = [threading.Thread(target=run, args=(n, seed * 100 + i)) for i, n in enumerate(share)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def generate_load(base: str, token: str, total: int, duration: float, procs: int, threads: int) -> dict:
    """Issue ``total`` tickets (at most ``duration`` s) from ``procs`` × ``threads``
    connections; {"ok", "errors", "rate_per_s", "p50_ms", "p99_ms", "max_ms", "numbers"}."""
    port = int(base.rsplit(":", 1)[1])
    start_at = time.time() + 1.0
    jobs = [(port, token, total // procs + (i < total % procs), threads, start_at, start_at + duration, i)
            for i in range(procs)]
    with mp.get_context("fork").Pool(procs) as pool:
        parts = pool.map(_worker, jobs)
    elapsed = time.time() - start_at
    rows = [r for part in parts for r in part]
    ok = [r for r in rows if r[1] == 201]
    errors: dict[str, int] = {}
    for _lat, status, _n in rows:
        if status != 201:
            errors[str(status)] = errors.get(str(status), 0) + 1
    lat = [r[0] * 1000 for r in ok] or [0.0]
    return {"sent": len(rows), "ok": len(ok), "errors": errors, "seconds": round(elapsed, 2),
            "rate_per_s": round(len(ok) / elapsed, 1), "p50_ms": round(percentile(lat, 50), 1),
            "p99_ms": round(percentile(lat, 99), 1), "max_ms": round(max(lat), 1),
            "numbers": [r[2] for r in ok]}


def check_numbers(numbers: list[str | None], db_rows: list[tuple[str, int]]) -> dict:
    """No number given twice (in the answers and in the database), none skipped per letter.
    ``db_rows``: (display_number, number) of today's DEMO tickets."""
    in_db = [d for d, _n in db_rows]
    by_letter: dict[str, list[int]] = {}
    for display, n in db_rows:
        by_letter.setdefault(display.rstrip("0123456789"), []).append(n)
    holes = sum(max(ns) - len(set(ns)) for ns in by_letter.values())
    return {"answered_duplicates": len(numbers) - len(set(numbers)), "db_tickets": len(db_rows),
            "db_duplicates": len(in_db) - len(set(in_db)), "numbering_holes": holes}


def _db_rows(mode: str, where: str | Path) -> list[tuple[str, int]]:
    sql = ("SELECT t.display_number, t.number FROM tickets t JOIN offices o ON o.id = t.office_id "
           "WHERE o.code = 'DEMO' AND t.transfer_seq = 0")
    if mode == "sqlite":
        with sqlite3.connect(where) as conn:
            return conn.execute(sql).fetchall()
    import psycopg

    with psycopg.connect(str(where).replace("+psycopg", "")) as conn:
        return conn.execute(sql).fetchall()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["sqlite", "postgres"])
    ap.add_argument("--tickets", type=int, default=4000, help="tickets to issue in all (bounded)")
    ap.add_argument("--duration", type=float, default=30.0, help="stop after this many seconds anyway")
    ap.add_argument("--procs", type=int, default=2, help="load processes")
    ap.add_argument("--threads", type=int, default=8, help="keep-alive connections per process")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers (postgres)")
    ap.add_argument("--redis-url", default=None, help="default: a private redis-server (see private_redis)")
    ap.add_argument("--kiosk", choices=["bench", "demo"], default="bench",
                    help="bench: a kiosk without a running agent (default); demo: `loket demo`'s kiosk, printed by "
                         "its in-process simulated printer (sqlite only)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = ap.parse_args()
    if args.kiosk == "demo" and args.mode != "sqlite":
        ap.error("--kiosk demo needs sqlite (`loket serve` runs no agent)")
    tmp = bench_dir(args.mode)
    if args.mode == "sqlite":
        base, tokens = start_demo(tmp)
        server, where = "1 `loket demo` process (SQLite WAL, gevent)", tmp / "loket.db"
        if args.kiosk == "bench":  # a kiosk of our own: the demo's agent does not print its tickets
            env = {**os.environ, "LOKET_DATABASE_URL": f"sqlite:///{where}", "LOKET_DATA_DIR": str(tmp)}
            tokens["kiosk"] = cli(env, "device-add", "DEMO", "kiosk", "bench kiosk").strip().splitlines()[-1]
        server += ("; the demo kiosk's agent prints every ticket in-process" if args.kiosk == "demo"
                   else "; bench kiosk, no agent printing")
    else:
        env, tokens, where = prepare_postgres(tmp, args.redis_url or private_redis(tmp))
        base = start_serve(env, tmp, args.workers)
        server = f"`loket serve --workers {args.workers}` (gunicorn gevent, PostgreSQL, Redis); bench kiosk, no agent"
    generate_load(base, tokens["kiosk"], 20, 10, 1, 2)  # warm-up: connections, caches
    before = len(_db_rows(args.mode, where))
    load_avg = os.getloadavg()[0]
    cpu0 = tree_cpu_s(SERVER_PID[0])
    res = generate_load(base, tokens["kiosk"], args.tickets, args.duration, args.procs, args.threads)
    res["server_cpu_ms_per_ticket"] = round((tree_cpu_s(SERVER_PID[0]) - cpu0) * 1000 / max(1, res["ok"]), 1)
    checks = check_numbers(res.pop("numbers"), _db_rows(args.mode, where))
    checks["db_new_tickets"] = checks["db_tickets"] - before
    stop_all()
    target = TARGETS[args.mode]
    print(f"\n== ticket issue rate: {args.mode} == {server}")
    print(f"   machine: {os.cpu_count()} cores shared by the server and the load generator "
          f"({args.procs} processes x {args.threads} keep-alive connections); 1-min load before the run "
          f"{load_avg:.2f}")
    print(f"   issued {res['ok']}/{res['sent']} in {res['seconds']} s: {res['rate_per_s']} tickets/s "
          f"(target >= {target:g}/s: {'MET' if res['rate_per_s'] >= target else 'MISSED'})")
    print(f"   latency p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, max {res['max_ms']} ms "
          f"(target p99 <= {TARGET_P99_MS:g} ms: {'MET' if res['p99_ms'] <= TARGET_P99_MS else 'MISSED'})")
    print(f"   server CPU {res['server_cpu_ms_per_ticket']} ms per ticket in the Loket processes (SQLite runs "
          f"inside them; PostgreSQL and Redis not counted): about "
          f"{1000 / max(res['server_cpu_ms_per_ticket'], 0.1):.0f} tickets/s per free core")
    print(f"   errors {res['errors'] or 0}; duplicate numbers: answers {checks['answered_duplicates']}, "
          f"database {checks['db_duplicates']}; numbering holes {checks['numbering_holes']}; "
          f"new rows {checks['db_new_tickets']} (answered {res['ok']})")
    if args.json:
        print(json.dumps({"mode": args.mode, "kiosk": args.kiosk, **res, **checks, "load_avg_before": load_avg}))


if __name__ == "__main__":
    main()
