"""Print job → bytes at the printer: from the kiosk's POST to the ticket's cut at the printer.

    python bench/print_latency.py [--tickets 100] [--interval 0.1] [--duration 120] [--paper 80]

Starts `loket demo` (SQLite, gevent) on a free port, registers a second kiosk with `loket
device-add` (the demo's own kiosk is served by its in-process simulated printer), runs
`python -m kiosk.agent` for that kiosk as its own process on the network transport
(``tcp://``) to the TCP ESC/POS printer simulator (drivers/printer/tcp_simulator.py, in this
process), then issues ``tickets`` tickets one after the other with the kiosk's token.
Latency = the moment the simulator parsed the ticket's cut (``GS V``) − the moment just
before the POST was sent (same machine clock, time.time()). The path: HTTP issue → commit →
Socket.IO ``print_job`` → agent (journals the job as started) → status query (DLE EOT 1, 4) → ticket
bytes → confirmation (DLE EOT 1 and 4 after the ticket: paper end mid-ticket means a reprint) →
journaled as printed. Also printed: the POST round trip alone, and the tickets missing or duplicated.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servers import ROOT, bench_dir, cli, percentile, spawn, start_demo, stop_all  # noqa: E402

sys.path.insert(0, str(ROOT))
from drivers.printer.tcp_simulator import TcpPrinterSimulator  # noqa: E402

WARMUP_TIMEOUT_S = 60.0
TICKET_TIMEOUT_S = 15.0


def _stats(values: list[float]) -> str:
    if not values:
        return "no samples"
    return (f"p50 {percentile(values, 50):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
            f"max {max(values):.1f} ms (n={len(values)})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=100, help="tickets issued (bounded)")
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between a ticket's cut and the next POST")
    ap.add_argument("--duration", type=float, default=120.0, help="stop issuing after this many seconds")
    ap.add_argument("--paper", type=int, choices=(58, 80), default=80)
    args = ap.parse_args()

    tmp = bench_dir("print")
    base, _demo_tokens = start_demo(tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("LOKET_DATABASE_URL", "LOKET_REDIS_URL")}
    env["LOKET_DATA_DIR"] = str(tmp)
    token = cli(env, "device-add", "DEMO", "kiosk", "bench printer kiosk").strip().splitlines()[-1]
    sim = TcpPrinterSimulator().start()
    agent_env = {**env, "LOKET_DEVICE_TOKEN": token, "PYTHONUNBUFFERED": "1"}
    spawn([sys.executable, "-m", "kiosk.agent", "--server", base, "--printer", sim.uri,
           "--paper", str(args.paper)], {**agent_env, "PYTHONPATH": str(ROOT)}, tmp / "agent.log")
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"

    def issue() -> tuple[str, float, float]:
        t0 = time.time()
        r = http.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"}, timeout=30)
        r.raise_for_status()
        return r.json()["ticket"]["number"], t0, time.time()

    # warm-up: the agent connects (a job sent while no agent listens is not replayed by the
    # server), then one ticket comes through
    wait_log = time.monotonic() + WARMUP_TIMEOUT_S
    while b"connected to" not in (tmp / "agent.log").read_bytes():
        if time.monotonic() > wait_log:
            raise SystemExit("kiosk agent not connected; its log:\n" + (tmp / "agent.log").read_text()[-2000:])
        time.sleep(0.1)
    issue()
    try:
        sim.wait_for_tickets(1, timeout=WARMUP_TIMEOUT_S)
    except TimeoutError:
        raise SystemExit(f"no ticket at the printer within {WARMUP_TIMEOUT_S:.0f} s; agent log:\n"
                         + (tmp / "agent.log").read_text()[-2000:]) from None
    load_avg = os.getloadavg()[0]
    latencies, posts, missing = [], [], []
    deadline = time.monotonic() + args.duration
    for _ in range(args.tickets):
        if time.monotonic() > deadline:
            break
        done = len(sim.tickets)
        number, t0, t1 = issue()
        posts.append((t1 - t0) * 1000)
        try:
            ticket = sim.wait_for_tickets(done + 1, timeout=TICKET_TIMEOUT_S)[done]
        except TimeoutError:
            missing.append(number)
            continue
        if ticket.large != [number]:
            missing.append(number)
            continue
        latencies.append((ticket.received_at - t0) * 1000)
        time.sleep(args.interval)
    time.sleep(1.0)  # anything printed twice would show up now
    numbers = [t.large[0] for t in sim.tickets if t.large]
    duplicates = len(numbers) - len(set(numbers))
    sim.stop()
    stop_all()
    print("\n== print job -> bytes at the printer == `loket demo` (SQLite) + `python -m kiosk.agent` "
          f"(tcp:// to the TCP ESC/POS simulator, {args.paper} mm)")
    print(f"   machine: {os.cpu_count()} cores shared by the server, the agent and this process; "
          f"1-min load at the start {load_avg:.2f}")
    print(f"   {len(latencies)} tickets at the printer, {len(missing)} missing, {duplicates} printed twice; "
          f"{sim.connections} printer connections (status polls included)")
    print(f"   POST -> cut at the printer: {_stats(latencies)}")
    print(f"   POST round trip alone:      {_stats(posts)}")


if __name__ == "__main__":
    main()
