"""Real server processes for tests: `loket serve` (gunicorn + gevent) on PostgreSQL and
Redis, prepared with the production CLI (db upgrade, catalog load, staff-add, device-add)."""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.live import free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent
LOKET = str(Path(sys.executable).parent / "loket")


def cli(env: dict, *args: str, stdin: str | None = None) -> str:
    """Run `loket ARGS` and return its stdout; raises CalledProcessError with stderr shown."""
    r = subprocess.run([LOKET, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError(f"loket {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r.stdout


def prepared_env(database_url: str, redis_url: str, data_dir: Path) -> tuple[dict, dict]:
    """Migrate ``database_url`` and load the demo office with all-day hours, an officer
    (fo1/password123) and a kiosk and a display; returns (env, {"kiosk": token, "display": token})."""
    env = {**os.environ, "LOKET_DATABASE_URL": database_url, "LOKET_REDIS_URL": redis_url,
           "LOKET_SECRET_KEY": secrets.token_hex(32),  # `loket serve` refuses weak keys (issue 13)
           "LOKET_DATA_DIR": str(data_dir), "LOKET_INSECURE_COOKIES": "1"}
    cli(env, "db", "upgrade")
    catalog = data_dir / "catalog.toml"
    text = (ROOT / "server/catalog/demo_office.toml").read_text()
    catalog.write_text(text.replace('opening_time = "07:30"', 'opening_time = "00:00"')
                       .replace('closing_time = "16:00"', 'closing_time = "23:59"'))
    cli(env, "catalog", "load", str(catalog))
    cli(env, "staff-add", "fo1", "--role", "front_office", "--full-name", "Officer One", "--office", "DEMO",
        "--password", "password123")
    tokens = {kind: cli(env, "device-add", "DEMO", kind, f"test {kind}").strip() for kind in ("kiosk", "display")}
    return env, tokens


@contextmanager
def loket_serve(env: dict, workers: int = 1):
    """Run `loket serve` on a free port; yields its base URL; stops it afterwards."""
    with serve_process(env, workers) as (base, _proc):
        yield base


@contextmanager
def serve_process(env: dict, workers: int = 1):
    """Run `loket serve` on a free port; yields (base URL, the gunicorn master's Popen: its
    children are the workers, see :func:`worker_pids`); stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen([LOKET, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/api/v1/offices/DEMO", proc=proc)
        yield base, proc
    finally:
        stop_group(proc)


def worker_pids(proc: subprocess.Popen) -> list[int]:
    """The gunicorn worker processes of a `loket serve` master (its children, from /proc)."""
    try:
        text = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
    except OSError:
        return []
    return [int(pid) for pid in text.split()]


def open_connections(pid: int, port: int) -> int:
    """How many established TCP connections on local ``port`` process ``pid`` holds (from
    /proc: its socket descriptors matched with /proc/net/tcp{,6}); 0 when it is gone."""
    inodes = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "01" and int(local.rsplit(":", 1)[1], 16) == port and inode in inodes:
                count += 1
    return count


def busiest_worker(proc: subprocess.Popen, base: str) -> int:
    """The worker of a `loket serve` master at ``base`` holding the most client connections
    (gevent workers accept greedily: one may hold every screen, another none)."""
    port = int(base.rsplit(":", 1)[1])
    return max(worker_pids(proc), key=lambda pid: open_connections(pid, port))


def stop_group(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """SIGTERM the process group of ``proc`` (started with ``start_new_session``); SIGKILL
    it when ``proc`` has not ended after ``timeout`` s."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def private_redis(data_dir: Path | None = None):
    """A redis-server of our own on a free port (so a test may stop and restart it); yields
    (its db-0 URL, stop(), start()), start() returning once it answers.

    With ``data_dir`` it keeps its data across a restart (RDB snapshot written on shutdown),
    like a production Redis; without, a restart loses every key.
    """
    port = free_port()
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--appendonly", "no"]
    args += ["--dir", str(data_dir), "--dbfilename", "dump.rdb", "--save", "3600 1"] if data_dir else ["--save", ""]
    url = f"redis://127.0.0.1:{port}/0"
    state = {}

    def stop():
        state["proc"].terminate()
        state["proc"].wait(timeout=10)

    def start():
        state["proc"] = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_redis(url, state["proc"])

    try:
        start()
        yield url, stop, start
    finally:
        if "proc" in state and state["proc"].poll() is None:
            stop()


def wait_redis(url: str, proc: subprocess.Popen | None = None, timeout: float = 15.0) -> None:
    """Return once the Redis at ``url`` answers PING (loading its snapshot, it answers
    LOADING: not yet); TimeoutError after ``timeout`` s or as soon as ``proc`` has exited."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise TimeoutError(f"{url}: redis-server exited ({proc.returncode})")
            try:
                if client.ping():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.02)
    finally:
        client.close()
    raise TimeoutError(f"{url}: Redis did not answer within {timeout} s")


def staff_session(base: str, username: str, password: str) -> requests.Session:
    """A logged-in requests session that sends the CSRF token on every request."""
    s = requests.Session()
    csrf = s.get(f"{base}/api/v1/auth/csrf").json()["csrf_token"]
    r = s.post(f"{base}/api/v1/auth/login", json={"username": username, "password": password},
               headers={"X-CSRFToken": csrf})
    r.raise_for_status()
    s.headers["X-CSRFToken"] = r.json()["csrf_token"]
    return s
