"""Call → display latency with many connected TV clients, over several workers and Redis.

    python bench/call_latency.py [--clients 500] [--procs 5] [--calls 40] [--interval 0.5]

Starts `loket serve --workers 4` on a fresh PostgreSQL database and a private Redis
(see servers.private_redis), connects ``clients`` display clients (python-socketio
``AsyncClient``, websocket transport, display token; ``procs`` processes with one asyncio
loop each), then one officer opens counter 1 and makes ``calls`` calls (call-next with
finish_current, then start). Every client stamps the receipt of each ``call`` event;
latency = receipt - the moment just before the call-next request was sent (same machine
clock, time.time()). Prints p50/p99/max, missed deliveries and sequence holes.
AsyncClient needs aiohttp (not a Loket dependency; the bench pins aiohttp==3.14.5).
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import queue
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servers as ir  # noqa: E402

CONNECT_TIMEOUT_S = 180.0
DRAIN_S = 5.0


async def _clients(base: str, token: str, count: int, stop, out) -> None:
    import socketio

    receipts: list[dict[str, float]] = [{} for _ in range(count)]
    seqs: list[set[int]] = [set() for _ in range(count)]
    clients: list = []
    gate = asyncio.Semaphore(20)  # connect a few at a time (each connect authenticates the token)

    def make(i: int):
        sio = socketio.AsyncClient(reconnection=False)

        async def on_call(data):
            receipts[i].setdefault(data["ticket"]["number"], time.time())
            seqs[i].add(int(data.get("seq", -1)))

        async def on_other(data):
            seqs[i].add(int(data.get("seq", -1)))

        sio.on("call", on_call)
        for name in ("ticket", "counter", "resync"):
            sio.on(name, on_other)
        return sio

    async def connect(i: int) -> bool:
        async with gate:
            sio = make(i)
            try:
                await sio.connect(base, transports=["websocket"], auth={"token": token}, wait_timeout=30)
            except Exception:  # counted as a failed connection
                return False
            clients.append(sio)
            return True

    ok = await asyncio.gather(*(connect(i) for i in range(count)))
    out.put(("connected", sum(ok), count - sum(ok)))
    while not stop.is_set():
        await asyncio.sleep(0.1)
    still = sum(1 for c in clients if c.connected)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    holes = sum(max(s) - min(s) + 1 - len(s) for s in seqs if s)
    out.put(("result", [r for r, good in zip(receipts, ok) if good], holes, still))


def client_process(base: str, token: str, count: int, stop, out) -> None:
    """One load process: ``count`` display clients in an asyncio loop until ``stop``."""
    asyncio.run(_clients(base, token, count, stop, out))


def officer(base: str, password: str) -> tuple[requests.Session, int]:
    """A logged-in session of bench-fo and the id of counter 1 (ktp_el, kk), opened."""
    s = requests.Session()
    csrf = s.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
    r = s.post(f"{base}/api/v1/auth/login", json={"username": "bench-fo", "password": password},
               headers={"X-CSRFToken": csrf}, timeout=10)
    r.raise_for_status()
    s.headers["X-CSRFToken"] = r.json()["csrf_token"]
    counters = s.get(f"{base}/api/v1/offices/DEMO/counters", timeout=10).json()["counters"]
    cid = next(c["id"] for c in counters if c["number"] == 1)
    s.post(f"{base}/api/v1/counters/{cid}/open", timeout=10).raise_for_status()
    return s, cid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--procs", type=int, default=5, help="client processes")
    ap.add_argument("--calls", type=int, default=40, help="calls the officer makes (bounded)")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between calls")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--redis-url", default=None)
    args = ap.parse_args()
    tmp = ir.bench_dir("calls")
    env, tokens, _url = ir.prepare_postgres(tmp, args.redis_url or ir.private_redis(tmp))
    base = ir.start_serve(env, tmp, args.workers)
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
    for _ in range(args.calls):
        requests.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers=kiosk,
                      timeout=30).raise_for_status()
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    shares = [args.clients // args.procs + (i < args.clients % args.procs) for i in range(args.procs)]
    procs = [ctx.Process(target=client_process, args=(base, tokens["display"], n, stop, out), daemon=True)
             for n in shares]
    t_conn = time.time()
    for p in procs:
        p.start()
    connected = failed = 0
    try:
        for _ in procs:
            _tag, ok, bad = out.get(timeout=CONNECT_TIMEOUT_S)
            connected, failed = connected + ok, failed + bad
    except queue.Empty:
        stop.set()
        raise SystemExit(f"clients not connected within {CONNECT_TIMEOUT_S:.0f} s ({connected} so far)")
    t_conn = time.time() - t_conn
    time.sleep(2.0)
    session, cid = officer(base, env["BENCH_FO_PASSWORD"])
    sent: dict[str, float] = {}
    load_avg = os.getloadavg()[0]
    for _ in range(args.calls):
        t = time.time()
        r = session.post(f"{base}/api/v1/counters/{cid}/call-next", json={"finish_current": True}, timeout=30)
        r.raise_for_status()
        sent[r.json()["ticket"]["number"]] = t
        session.post(f"{base}/api/v1/counters/{cid}/start", timeout=30).raise_for_status()
        time.sleep(args.interval)
    time.sleep(DRAIN_S)
    stop.set()
    latencies, missed, holes, still = [], 0, 0, 0
    for _ in procs:
        _tag, receipts, h, s = out.get(timeout=60)
        holes, still = holes + h, still + s
        for client in receipts:
            for number, t_sent in sent.items():
                if number in client:
                    latencies.append((client[number] - t_sent) * 1000)
                else:
                    missed += 1
    for p in procs:
        p.join(timeout=10)
    ir.stop_all()
    lat = latencies or [0.0]
    print(f"\n== call -> display latency == `loket serve --workers {args.workers}` (gunicorn gevent, PostgreSQL, Redis)")
    print(f"   machine: {os.cpu_count()} cores shared by the server, Redis, PostgreSQL and {args.procs} client "
          f"processes; 1-min load at the start of the calls {load_avg:.2f}")
    print(f"   clients: {connected} connected of {args.clients} ({failed} failed) in {t_conn:.1f} s; "
          f"{still} still connected at the end")
    print(f"   {len(sent)} calls x {connected} clients = {len(sent) * connected} expected receipts; "
          f"received {len(latencies)}, missed {missed}; sequence holes {holes}")
    print(f"   latency p50 {ir.percentile(lat, 50):.1f} ms, p99 {ir.percentile(lat, 99):.1f} ms, "
          f"max {max(lat):.1f} ms")


if __name__ == "__main__":
    main()
