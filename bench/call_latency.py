"""Call → TV latency with many connected TVs over 4 workers and Redis, side by side with a
bare Flask-SocketIO app on the same stack (the floor), in the same run.

    python bench/call_latency.py [--clients 500] [--procs 5] [--calls 40] [--interval 0.5]

Starts `loket serve --workers 4` on a fresh PostgreSQL database and a private Redis, and
the bare app (bench/bare_socketio.py: Flask-SocketIO, the same Redis message queue, gunicorn
with 4 gevent workers, no database) on the same Redis. ``clients`` TV clients connect to
each (python-socketio ``AsyncClient``, websocket; ``procs`` processes, each holding its
share of both). Then, alternately, one officer's ``call-next`` (finishing the previous
ticket; ``start`` follows ``start_after`` s later, when the citizen has reached the counter)
on Loket and one ``POST /call`` on the bare app, ``interval`` s apart, ``calls`` times
each (the warm-up sends ``start`` at once). Every client stamps the receipt of each
``call``; latency = receipt − the moment just before the request was sent (one machine
clock). Prints, per
app: p50/p99/max, missed deliveries; for Loket also the positions each client saw
(holes, out of order) and the call-next request time itself; and the p99 ratio.
AsyncClient needs aiohttp (the bench extra).
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

CONNECT_TIMEOUT_S = 240.0
DRAIN_S = 5.0


async def _clients(targets: list[tuple[str, str, dict]], count: int, stop, out) -> None:
    """``count`` clients per target (name, base URL, auth), until ``stop``."""
    import socketio

    results = {name: {"receipts": [{} for _ in range(count)], "positions": [[] for _ in range(count)]}
               for name, _base, _auth in targets}
    clients: list = []
    ok_count = {name: 0 for name, _b, _a in targets}
    gate = asyncio.Semaphore(20)  # connect a few at a time (each Loket connect authenticates the token)

    def make(name: str, i: int):
        sio = socketio.AsyncClient(reconnection=False)
        rec, pos = results[name]["receipts"][i], results[name]["positions"][i]

        async def on_call(data):  # the bare app: one call per message
            rec.setdefault(str(data["ticket"]["number"]), time.time())

        async def on_entries(entries):  # Loket: the office stream's entries, a commit's in one frame
            now = time.time()
            for e in entries:
                pos.append(int(e["data"]["position"]))
                if e["name"] == "call":
                    rec.setdefault(str(e["data"]["ticket"]["number"]), now)

        sio.on("call", on_call)
        sio.on("entries", on_entries)
        return sio

    async def connect(name: str, base: str, auth: dict, i: int) -> None:
        async with gate:
            sio = make(name, i)
            try:
                await sio.connect(base, transports=["websocket"], auth=auth, wait_timeout=30)
            except Exception:
                return
            clients.append(sio)
            ok_count[name] += 1

    await asyncio.gather(*(connect(name, base, auth, i) for name, base, auth in targets for i in range(count)))
    out.put(("connected", ok_count))
    while not stop.is_set():
        await asyncio.sleep(0.1)
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
    out.put(("result", results))


def client_process(targets, count: int, stop, out) -> None:
    """One load process: ``count`` clients of each target in an asyncio loop until ``stop``."""
    asyncio.run(_clients(targets, count, stop, out))


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


def start_bare(redis_url: str, tmp: Path, workers: int) -> str:
    """The bare Flask-SocketIO app under gunicorn (gevent, ``workers``) on a free port."""
    port = ir.free_port()
    env = {**os.environ, "BARE_REDIS_URL": redis_url}
    proc = ir.spawn([sys.executable, "-m", "gunicorn", "--chdir", str(Path(__file__).resolve().parent),
                     "-k", "gevent", "-w", str(workers), "--worker-connections", "2000", "-b", f"127.0.0.1:{port}",
                     "--no-control-socket",
                     "bare_socketio:create()"], env, tmp / "bare.log")
    base = f"http://127.0.0.1:{port}"
    ir.wait_http(f"{base}/health", proc)
    return base


def _summary(latencies: list[float]) -> str:
    lat = latencies or [0.0]
    return (f"p50 {ir.percentile(lat, 50):.1f} ms, p99 {ir.percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=500, help="TV clients per app")
    ap.add_argument("--procs", type=int, default=5, help="client processes")
    ap.add_argument("--calls", type=int, default=40, help="calls per app (bounded)")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between two calls")
    ap.add_argument("--warmup", type=int, default=16,
                    help="unmeasured call cycles per app first (every worker's first requests compile and connect)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--redis-url", default=None)
    ap.add_argument("--start-after", type=float, default=None,
                    help="seconds from call-next's answer to the officer's start (default: interval / 4; "
                         "0: at once, its commit and fan-out then compete with the call's)")
    args = ap.parse_args()
    start_after = args.interval / 4 if args.start_after is None else min(args.start_after, args.interval / 2)
    tmp = ir.bench_dir("calls")
    redis_url = args.redis_url or ir.private_redis(tmp)
    env, tokens, _url = ir.prepare_postgres(tmp, redis_url)
    base = ir.start_serve(env, tmp, args.workers)
    bare = start_bare(redis_url.rsplit("/", 1)[0] + "/13", tmp, args.workers)
    kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
    for _ in range(args.calls + args.warmup):
        requests.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, headers=kiosk,
                      timeout=30).raise_for_status()
    targets = [("loket", base, {"token": tokens["display"]}), ("bare", bare, {})]
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    shares = [args.clients // args.procs + (i < args.clients % args.procs) for i in range(args.procs)]
    procs = [ctx.Process(target=client_process, args=(targets, n, stop, out), daemon=True) for n in shares]
    t_conn = time.time()
    for p in procs:
        p.start()
    connected = {"loket": 0, "bare": 0}
    try:
        for _ in procs:
            _tag, ok = out.get(timeout=CONNECT_TIMEOUT_S)
            for k, v in ok.items():
                connected[k] += v
    except queue.Empty:
        stop.set()
        raise SystemExit(f"clients not connected within {CONNECT_TIMEOUT_S:.0f} s ({connected} so far)") from None
    t_conn = time.time() - t_conn
    time.sleep(2.0)
    session, cid = officer(base, env["BENCH_FO_PASSWORD"])
    plain = requests.Session()
    sent: dict[str, dict[str, float]] = {"loket": {}, "bare": {}}
    request_ms: list[float] = []
    for i in range(args.warmup):
        session.post(f"{base}/api/v1/counters/{cid}/call-next", json={"finish_current": True}, timeout=30).raise_for_status()
        session.post(f"{base}/api/v1/counters/{cid}/start", timeout=30).raise_for_status()
        plain.post(f"{bare}/call", json={"number": f"W{i + 1:03d}", "id": 10_000 + i}, timeout=30).raise_for_status()
    time.sleep(DRAIN_S / 2)
    load_avg = os.getloadavg()[0]
    for i in range(args.calls):
        t = time.time()
        r = session.post(f"{base}/api/v1/counters/{cid}/call-next", json={"finish_current": True}, timeout=30)
        request_ms.append((time.time() - t) * 1000)
        r.raise_for_status()
        sent["loket"][r.json()["ticket"]["number"]] = t
        time.sleep(start_after)
        session.post(f"{base}/api/v1/counters/{cid}/start", timeout=30).raise_for_status()
        time.sleep(max(0.0, args.interval / 2 - start_after))
        number = f"Z{i + 1:03d}"
        t = time.time()
        plain.post(f"{bare}/call", json={"number": number, "id": i + 1}, timeout=30).raise_for_status()
        sent["bare"][number] = t
        time.sleep(args.interval / 2)
    time.sleep(DRAIN_S)
    stop.set()
    latencies = {"loket": [], "bare": []}
    missed = {"loket": 0, "bare": 0}
    holes = disorder = 0
    for _ in procs:
        _tag, results = out.get(timeout=120)
        for name, res in results.items():
            for client in res["receipts"]:
                if not client:
                    continue
                for number, t_sent in sent[name].items():  # warm-up calls are not in ``sent``
                    if number in client:
                        latencies[name].append((client[number] - t_sent) * 1000)
                    else:
                        missed[name] += 1
            if name == "loket":
                for pos in res["positions"]:
                    if pos:
                        holes += max(pos) - min(pos) + 1 - len(set(pos))
                        disorder += sum(1 for a, b in zip(pos, pos[1:]) if b <= a)
    for p in procs:
        p.join(timeout=10)
    ir.stop_all()
    print(f"\n== call -> TV latency, side by side == {args.workers} gunicorn gevent workers each, one Redis")
    print(f"   officer's start sent {start_after * 1000:.0f} ms after each call-next's answer")
    print(f"   machine: {os.cpu_count()} cores shared by both servers, Redis, PostgreSQL and {args.procs} client "
          f"processes; 1-min load at the start of the calls {load_avg:.2f}")
    print(f"   clients connected: Loket {connected['loket']}, bare {connected['bare']} of {args.clients} each "
          f"in {t_conn:.1f} s")
    for name, label in (("bare", "bare Flask-SocketIO (POST /call → emit)"),
                        ("loket", "Loket (call-next: transaction + event log → TV)")):
        print(f"   {label}: {len(sent[name])} calls, received {len(latencies[name])}, missed {missed[name]}; "
              f"{_summary(latencies[name])}")
    print(f"   Loket positions per client: holes {holes}, out of order {disorder}; "
          f"call-next request {_summary(request_ms)} (target p50 <= 10 ms)")
    bare99 = ir.percentile(latencies["bare"] or [0.0], 99)
    loket99 = ir.percentile(latencies["loket"] or [0.0], 99)
    ratio = loket99 / bare99 if bare99 else float("inf")
    print(f"   p99 ratio Loket / bare: {ratio:.2f} (target <= 2)")


if __name__ == "__main__":
    main()
