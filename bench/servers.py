"""Servers for the benchmarks: `loket demo`, `loket serve` on a fresh PostgreSQL database,
a private Redis; all on free ports of 127.0.0.1 and stopped at exit (atexit, SIGTERM, SIGHUP).
"""
from __future__ import annotations

import atexit
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LOKET = str(Path(sys.executable).parent / "loket")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
_PROCS: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVER_PID: list[int] = []  # the process whose tree serves HTTP (for tree_cpu_s)


def spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start a process in its own group; it is killed at exit (see :func:`stop_all`)."""
    proc = subprocess.Popen(args, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    _PROCS.append(proc)
    return proc


@atexit.register
def stop_all() -> None:
    """Stop every process started by :func:`spawn` (SIGTERM, then SIGKILL after 15 s)."""
    while _PROCS:
        proc = _PROCS.pop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def private_redis(tmp: Path) -> str:
    """A redis-server of our own on a free port, URL of its db 14.

    Socket.IO's Redis queue publishes on one channel, and Redis pub/sub ignores the db
    number: on the shared 6379 another Loket (tests running meanwhile) would hear our events
    and we theirs. A private server keeps the figures clean; ``--redis-url`` overrides it.
    """
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    spawn([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], os.environ.copy(),
          tmp / "redis.log")
    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/14"


def restartable_redis(tmp: Path):
    """A private redis-server as in :func:`private_redis` (no persistence: a restart loses
    every key, the harshest case); returns (URL, stop(), start())."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    state = {"proc": spawn(args, os.environ.copy(), tmp / "redis.log")}

    def stop() -> None:
        state["proc"].terminate()
        state["proc"].wait(timeout=10)

    def start() -> None:
        state["proc"] = spawn(args, os.environ.copy(), tmp / "redis-2.log")
        time.sleep(0.3)

    time.sleep(0.5)
    return f"redis://127.0.0.1:{port}/14", stop, start


def bench_dir(name: str) -> Path:
    """A temporary directory removed at exit, after the servers are stopped; SIGTERM and
    SIGHUP exit cleanly so the servers are stopped then too."""
    tmp = Path(tempfile.mkdtemp(prefix=f"loket-bench-{name}-"))
    atexit.register(lambda: (stop_all(), shutil.rmtree(tmp, True)))
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: sys.exit(1))
    return tmp


def cli(env: dict, *args: str) -> str:
    r = subprocess.run([LOKET, *args], env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit(f"loket {' '.join(args)} failed: {r.stderr.strip()[-500:]}")
    return r.stdout


def prepare_postgres(tmp: Path, redis_url: str, catalog: Path | None = None) -> tuple[dict, dict, str]:
    """A fresh database with the demo office (or ``catalog``, office code DEMO) open all day,
    a kiosk, a display and an officer (bench-fo / password in the env dict's
    BENCH_FO_PASSWORD); returns (env for `loket serve`, {"kiosk", "display"} tokens,
    database URL)."""
    import psycopg

    name = f"loket_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    atexit.register(_drop_database, name)
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    env = {**os.environ, "LOKET_DATABASE_URL": url, "LOKET_REDIS_URL": redis_url, "LOKET_DATA_DIR": str(tmp),
           "LOKET_SECRET_KEY": secrets.token_hex(32), "LOKET_INSECURE_COOKIES": "1",
           "BENCH_FO_PASSWORD": secrets.token_urlsafe(12)}
    cli(env, "db", "upgrade")
    cli(env, "catalog", "load", str(catalog or ROOT / "server/catalog/demo_office.toml"))
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("UPDATE offices SET opening_time='00:00', closing_time='23:59' WHERE code='DEMO'")
    cli(env, "staff-add", "bench-fo", "--role", "front_office", "--full-name", "Bench Officer", "--office", "DEMO",
        "--password", env["BENCH_FO_PASSWORD"])
    tokens = {k: cli(env, "device-add", "DEMO", k, f"bench {k}").strip().splitlines()[-1] for k in ("kiosk", "display")}
    return env, tokens, url


def _drop_database(name: str) -> None:
    import psycopg

    stop_all()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_serve(env: dict, tmp: Path, workers: int = 4) -> str:
    """`loket serve --workers N` on a free port; its base URL once it answers."""
    port = free_port()
    proc = spawn([LOKET, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)], env,
                 tmp / "serve.log")
    SERVER_PID[:] = [proc.pid]
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/api/v1/offices/DEMO", proc)
    return base


def start_demo(tmp: Path) -> tuple[str, dict]:
    """`loket demo` (SQLite) on a free port; (base URL, device tokens)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("LOKET_DATABASE_URL", "LOKET_REDIS_URL")}
    proc = spawn([LOKET, "demo", "--port", str(port)], {**env, "LOKET_DATA_DIR": str(tmp)}, tmp / "demo.log")
    SERVER_PID[:] = [proc.pid]
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/api/v1/offices/DEMO", proc)
    return base, json.loads((tmp / "demo-tokens.json").read_text())


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) used so far by process ``root`` and its descendants
    (the demo process, or gunicorn's master and workers), read from /proc."""
    stats: dict[int, tuple[int, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0.0))[1]
        todo += [child for child, (ppid, _cpu) in stats.items() if ppid == pid]
    return total


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]
