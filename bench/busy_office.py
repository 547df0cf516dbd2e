"""A busy office as its TVs see it: 30 counters calling for 2 minutes, 500 TVs running the
TV page's own logic, Redis restarted in the middle.

    python bench/busy_office.py [--counters 30] [--seconds 120] [--screens 500] [--procs 5]
                                [--every 10.0] [--outage 5]

Starts `loket serve --workers 4` on a fresh PostgreSQL database (a catalog of ``counters``
counters, the demo's services spread over them, one officer each) and a private Redis
without persistence. ``screens`` TV clients connect (python-socketio ``AsyncClient``,
websocket, display token; ``procs`` processes), each following the TV page's logic: the
shared cursor and call announcer of ``drivers.stream`` (the page's JavaScript twin runs the
same cases), speaking taken as instantaneous. Then every counter calls its next citizen
(finishing the one before) every ``every`` s (±30 %) for ``seconds`` s; halfway, Redis is
stopped for ``outage`` s and started again empty. Afterwards the office's calls are read
from the event log in position order, and each TV is judged as a citizen in front of it
would: calls received, spoken, missed (never shown), unspoken, spoken twice, out of order.
Also: how many full states (snapshot loads) and replays the TVs asked for, and how many
reconnected, before, during and after the Redis restart. Exits 1 when any TV missed, left unspoken or misordered a call.
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import queue
import random
import sys
import threading
import time
import tomllib
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers as ir  # noqa: E402

sys.path.insert(0, str(ir.ROOT))
from drivers.stream import CallAnnouncer, StreamCursor  # noqa: E402

CONNECT_TIMEOUT_S = 300.0


# -- the catalog and the officers -----------------------------------------------------------
def catalog(tmp: Path, counters: int) -> Path:
    """The demo catalog with ``counters`` counters, the queue services shared out."""
    text = (ir.ROOT / "server/catalog/demo_office.toml").read_text()
    head = text[:text.index("[[counters]]")]
    services = [s["code"] for s in tomllib.loads(text)["services"]]
    main = [c for c in ("ktp_el", "kk", "kia", "pelita1", "skpwni", "skdwni", "pickup", "info") if c in services]
    blocks = []
    for n in range(1, counters + 1):
        pair = [main[(n - 1) % len(main)], main[n % len(main)]]
        blocks.append(f"[[counters]]\nnumber = {n}\nservices = {pair!r}\n".replace("'", '"'))
    path = tmp / "busy.toml"
    path.write_text(head + "\n".join(blocks))
    return path


def officers(url: str, counters: int, password: str) -> None:
    """One front-office login per counter (bench-c<n>), written through the services."""
    from sqlalchemy import select

    from server.db import Database
    from server.models import Office
    from server.services.accounts import create_staff
    from server.services.actors import SYSTEM

    db = Database(url)
    with db.session() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "DEMO"))
        for n in range(1, counters + 1):
            create_staff(s, f"bench-c{n}", password, "front_office", full_name=f"Loket {n}", office_id=office_id,
                         actor=SYSTEM)
    db.dispose()


def calls_in_log(url: str) -> list[int]:
    """The office's call ids in log (position) order."""
    from sqlalchemy import select

    from server.db import Database
    from server.models import StreamEntry

    db = Database(url)
    with db.session() as s:
        rows = s.execute(select(StreamEntry.data).where(StreamEntry.stream == "public", StreamEntry.name == "call")
                         .order_by(StreamEntry.position)).scalars().all()
    db.dispose()
    return [r["call"]["id"] for r in rows]


# -- the TVs ---------------------------------------------------------------------------------
async def _screens(base: str, token: str, count: int, stop, out, window_s: float) -> None:
    import socketio

    tvs = []

    class Tv:
        def __init__(self) -> None:
            self.sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.3, reconnection_delay_max=2)
            self.cursor, self.announcer = StreamCursor(300), CallAnnouncer(window_s)
            self.received, self.spoken, self.from_state = [], [], []
            self.states, self.replays, self.sync_log = 0, 0, []
            self.offset_ms = 0.0
            self.connection = 0
            self.sio.on("connect", self.on_connect)
            self.sio.on("disconnect", self.on_disconnect)
            self.sio.on("entries", self.on_entries)

        def now_ms(self) -> float:
            return time.time() * 1000 + self.offset_ms

        async def run(self, actions) -> None:
            for action in actions:
                if action[0] == "sync":
                    asyncio.get_running_loop().create_task(self.sync(action[1], self.connection))
                elif action[0] == "retry":
                    asyncio.get_running_loop().call_later(2.0, lambda: asyncio.ensure_future(
                        self.run(self.cursor.retry(time.monotonic() * 1000))))
                elif action[0] == "state":
                    self.states += 1
                    self.sync_log.append((time.time(), "state"))
                    state = action[1]
                    calls = state.get("calls") or []
                    got = set(self.received)
                    self.from_state += [c["id"] for c in calls if c["id"] not in got]
                    self.spoken += [c["id"] for c in self.announcer.state(calls, self.now_ms())]
                elif action[0] == "event" and action[1] == "call":
                    call = action[2]["call"]
                    self.received.append(call["id"])
                    if self.announcer.live(call, self.now_ms()):
                        self.spoken.append(call["id"])

        async def sync(self, args, connection) -> None:
            try:
                answer = await self.sio.call("sync", args, timeout=10)
            except Exception as exc:
                answer = {"error": str(exc)}
            if connection != self.connection:
                return
            if isinstance(answer, dict) and "entries" in answer:
                self.replays += 1
                self.sync_log.append((time.time(), "replay"))
            await self.run(self.cursor.answer(answer, time.monotonic() * 1000))

        async def on_connect(self) -> None:
            self.connection += 1
            if self.connection > 1:
                self.sync_log.append((time.time(), "reconnect"))
            await self.run(self.cursor.connect(time.monotonic() * 1000))

        async def on_disconnect(self, *_a) -> None:
            await self.run(self.cursor.disconnect())

        async def on_entries(self, entries) -> None:
            for e in entries:
                await self.run(self.cursor.event(e["name"], e["data"], time.monotonic() * 1000))

    gate = asyncio.Semaphore(20)

    async def connect() -> None:
        async with gate:
            tv = Tv()
            try:
                await tv.sio.connect(base, transports=["websocket"], auth={"token": token}, wait_timeout=30)
                tvs.append(tv)
            except Exception:
                pass

    await asyncio.gather(*(connect() for _ in range(count)))

    async def ticker() -> None:
        while not stop.is_set():
            for tv in tvs:
                await tv.run(tv.cursor.tick(time.monotonic() * 1000))
            await asyncio.sleep(0.1)

    tick = asyncio.ensure_future(ticker())
    out.put(("connected", len(tvs)))
    while not stop.is_set():
        await asyncio.sleep(0.1)
    tick.cancel()
    results = [{"received": tv.received, "spoken": tv.spoken, "from_state": tv.from_state, "states": tv.states,
                "replays": tv.replays, "sync_log": tv.sync_log} for tv in tvs]
    await asyncio.gather(*(tv.sio.disconnect() for tv in tvs), return_exceptions=True)
    out.put(("result", results))


def screen_process(base, token, count, stop, out, window_s) -> None:
    """One load process: ``count`` TVs in an asyncio loop until ``stop``."""
    asyncio.run(_screens(base, token, count, stop, out, window_s))


# -- the counters ----------------------------------------------------------------------------
def counter_loop(base: str, n: int, password: str, every: float, until: float, made: list, errors: list) -> None:
    """Counter ``n``'s officer: open, then call-next (finishing the previous) every ~``every`` s."""
    s = requests.Session()
    csrf = s.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    r = s.post(f"{base}/api/v1/auth/login", json={"username": f"bench-c{n}", "password": password},
               headers={"X-CSRFToken": csrf}, timeout=10)
    s.headers["X-CSRFToken"] = r.json()["csrf_token"]
    cid = next(c["id"] for c in s.get(f"{base}/api/v1/offices/DEMO/counters", timeout=10).json()["counters"]
               if c["number"] == n)
    s.post(f"{base}/api/v1/counters/{cid}/open", timeout=10).raise_for_status()
    rng = random.Random(n)
    time.sleep(rng.uniform(0, every))
    while time.time() < until:
        t = time.perf_counter()
        try:
            r = s.post(f"{base}/api/v1/counters/{cid}/call-next", json={"finish_current": True}, timeout=30)
            if r.status_code == 200 and r.json().get("ticket"):
                made.append((time.perf_counter() - t) * 1000)
            elif r.status_code not in (200, 404):
                errors.append((n, r.status_code, r.text[:120]))
        except requests.RequestException as exc:
            errors.append((n, "error", str(exc)[:120]))
        time.sleep(max(0.0, every * rng.uniform(0.7, 1.3) - (time.perf_counter() - t)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counters", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--screens", type=int, default=500)
    ap.add_argument("--procs", type=int, default=5, help="TV client processes")
    ap.add_argument("--every", type=float, default=10.0,
                    help="seconds between two calls of one counter (±30 %%; a real busy counter: 2-10 minutes)")
    ap.add_argument("--outage", type=float, default=5.0, help="seconds Redis is down, halfway")
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    tmp = ir.bench_dir("busy")
    redis_url, stop_redis, start_redis = ir.restartable_redis(tmp)
    env, tokens, url = ir.prepare_postgres(tmp, redis_url, catalog(tmp, args.counters))
    password = env["BENCH_FO_PASSWORD"]
    officers(url, args.counters, password)
    base = ir.start_serve(env, tmp, args.workers)
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
    need = int(args.counters * args.seconds / args.every * 1.4) + args.counters
    codes = ["ktp_el", "kk", "kia", "pelita1", "skpwni", "skdwni", "pickup", "info"]
    http = requests.Session()
    for i in range(need):
        http.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": codes[i % len(codes)]}, headers=kiosk,
                  timeout=30).raise_for_status()
    window_s = args.seconds * 3  # every call of the run is fresh: any call not spoken is a fault
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    shares = [args.screens // args.procs + (i < args.screens % args.procs) for i in range(args.procs)]
    procs = [ctx.Process(target=screen_process, args=(base, tokens["display"], n, stop, out, window_s), daemon=True)
             for n in shares]
    for p in procs:
        p.start()
    connected = 0
    try:
        for _ in procs:
            connected += out.get(timeout=CONNECT_TIMEOUT_S)[1]
    except queue.Empty:
        stop.set()
        raise SystemExit(f"TVs not connected within {CONNECT_TIMEOUT_S:.0f} s ({connected} so far)") from None
    time.sleep(2.0)
    t0 = time.time()
    until = t0 + args.seconds
    made: list[float] = []
    errors: list = []
    threads = [threading.Thread(target=counter_loop, args=(base, n, password, args.every, until, made, errors),
                                daemon=True) for n in range(1, args.counters + 1)]
    for t in threads:
        t.start()
    time.sleep(args.seconds / 2)
    outage_start = time.time()
    stop_redis()
    time.sleep(args.outage)
    start_redis()
    outage_end = time.time()
    for t in threads:
        t.join(args.seconds + 60)
    time.sleep(8.0)  # let every TV catch up
    stop.set()
    screens = []
    for _ in procs:
        screens += out.get(timeout=120)[1]
    for p in procs:
        p.join(timeout=10)
    expected = calls_in_log(url)
    ir.stop_all()
    want, rank = set(expected), {c: i for i, c in enumerate(expected)}
    missed = unspoken = twice = disorder = only_state = 0
    bad_screens = 0
    states = {"before": 0, "during": 0, "after": 0}
    replays = {"before": 0, "during": 0, "after": 0}
    reconnects = {"before": 0, "during": 0, "after": 0}
    for sc in screens:
        shown = set(sc["received"]) | set(sc["from_state"])
        spoken = [c for c in sc["spoken"] if c in want]
        m, u = len(want - shown), len(want - set(spoken))
        tw = len(spoken) - len(set(spoken))
        d = sum(1 for a, b in zip(spoken, spoken[1:]) if rank[a] > rank[b])
        missed, unspoken, twice, disorder = missed + m, unspoken + u, twice + tw, disorder + d
        only_state += len(want & set(sc["from_state"]) - set(sc["received"]))
        bad_screens += bool(m or u or tw or d)
        for at, kind in sc["sync_log"][1:]:  # the first state of each TV is its start
            phase = "before" if at < outage_start else ("during" if at < outage_end + 5 else "after")
            {"state": states, "replay": replays, "reconnect": reconnects}[kind][phase] += 1
    print(f"\n== busy office == {args.counters} counters calling every ~{args.every:.0f} s for {args.seconds:.0f} s, "
          f"{connected} TVs on `loket serve --workers {args.workers}` (PostgreSQL, Redis)")
    print(f"   machine: {os.cpu_count()} cores shared by the server, PostgreSQL, Redis, {args.procs} TV processes "
          f"and the officers; load {os.getloadavg()[0]:.2f}")
    print(f"   calls: {len(expected)} in the office log; call-next answered {len(made)} "
          f"(p50 {ir.percentile(made or [0], 50):.1f} ms, p99 {ir.percentile(made or [0], 99):.1f} ms); "
          f"errors {len(errors)}{' ' + repr(errors[:3]) if errors else ''}")
    print(f"   per TV, summed over {len(screens)} TVs: missed {missed}, unspoken {unspoken}, spoken twice {twice}, "
          f"out of order {disorder}; shown only from a full state {only_state}; TVs with any fault {bad_screens}")
    print(f"   Redis stopped {args.outage:.0f} s at t={outage_start - t0:.0f} s and started empty: full states "
          f"loaded before/during/after {states['before']}/{states['during']}/{states['after']}, replays "
          f"{replays['before']}/{replays['during']}/{replays['after']} (TVs reconnected "
          f"{reconnects['before']}/{reconnects['during']}/{reconnects['after']}; a reconnect asks for what it missed)")
    if missed or unspoken or twice or disorder or not screens:
        sys.exit(1)


if __name__ == "__main__":
    main()
