"""What each pytest-xdist worker has to itself: its Redis database and its TCP ports.

``bash scripts/test.sh`` runs the suite in several worker processes (pytest-xdist,
``-n``); PYTEST_XDIST_WORKER names each ("gw0", "gw1", ...) and is unset in a run without
xdist (``-n 0``, ``-p no:xdist``). PostgreSQL needs nothing here: every test has its own
database cloned from a template of its worker (tests/conftest.py). The rest that tests
used to share:

- **Redis.** The server keeps its office log stream (``loket:log:<channel>``), its
  Socket.IO pub/sub channel (``loket-db<N>``, from the database number: server/app.py
  ``redis_channel``), the rate limits and the login counters in the database of
  LOKET_REDIS_URL. :func:`redis_url` gives worker *i* database *base - i* of the server
  of LOKET_TEST_REDIS_URL (db 15 → 15, 14, 13, ...), so two workers' servers never read
  each other's stream, channel or counters. Tests that stop and restart Redis start a
  redis-server of their own (tests/procs.py ``private_redis``).
- **TCP ports.** :func:`free_port` gives worker *i* ports from its own block of
  ``PORT_SPAN`` below Linux's ephemeral range (32768-60999): no other worker hands out the
  same port, and no outgoing connection takes a port as its source port, so a server
  stopped and started again on its port (tests/live.py ``LiveServer``, the private pcscd's
  vpcd readers) finds it free. Without xdist the kernel picks (bind to port 0), as before.
- Files: tests write under ``tmp_path`` (per test); the private pcscd's run directory is
  per process (tests/support/pcsc_stack.py), and so per worker.
"""
from __future__ import annotations

import itertools
import os
import random
import socket
import threading
from urllib.parse import urlsplit, urlunsplit

import pytest

PORT_BASE = 20000
PORT_SPAN = 1000
"""Worker *i* takes ports PORT_BASE + i*PORT_SPAN .. + PORT_SPAN - 1 (workers 0-11 fit below 32768)."""
REDIS_DATABASES = 16  # redis-server's default ``databases``


def worker_id() -> str:
    """"gw0", "gw1", ... in a pytest-xdist worker; "master" otherwise (xdist's own names)."""
    return os.environ.get("PYTEST_XDIST_WORKER") or "master"


def worker_index() -> int | None:
    """The xdist worker's number (0 for "gw0"), None outside xdist."""
    name = worker_id()
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else None


def redis_url(base_url: str) -> str:
    """The Redis URL of this worker: ``base_url`` (LOKET_TEST_REDIS_URL) with database
    *base - i* for worker *i* (unchanged outside xdist). Raises RuntimeError when there are
    more workers than databases below the base one."""
    index = worker_index()
    if not index:
        return base_url
    parts = urlsplit(base_url)
    base = int(parts.path.strip("/") or 0)
    db = base - index
    if db < 0:
        raise RuntimeError(f"xdist worker {worker_id()} has no Redis database of its own: LOKET_TEST_REDIS_URL "
                           f"uses db {base}, so at most {base + 1} workers (of {REDIS_DATABASES} databases)")
    return urlunsplit(parts._replace(path=f"/{db}"))


def _bindable(port: int) -> bool:
    """Nothing is bound to ``port`` on any interface (the vpcd readers bind them all)."""
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


_lock = threading.Lock()
_offsets = itertools.count(random.randrange(PORT_SPAN))  # where in the block this process starts


def free_ports(count: int = 1) -> int:
    """A port p such that p .. p+count-1 are free on every interface right now: from this
    worker's block (see the module docstring), taken in turn so that a port handed out is
    not handed out again before the block has gone round; outside xdist (or past worker
    11) chosen by the kernel. Raises RuntimeError when none is free."""
    index = worker_index()
    if index is None or PORT_BASE + (index + 1) * PORT_SPAN > 32768:
        for _ in range(200):
            with socket.socket() as sock:
                sock.bind(("0.0.0.0" if count > 1 else "127.0.0.1", 0))
                port = sock.getsockname()[1]
            if port + count < 65536 and all(_bindable(port + i) for i in range(1, count)):
                return port
        raise RuntimeError(f"no {count} free consecutive TCP ports")
    first = PORT_BASE + index * PORT_SPAN
    with _lock:
        for _ in range(PORT_SPAN):
            offset = next(_offsets) % PORT_SPAN
            if offset + count > PORT_SPAN:
                continue
            if all(_bindable(first + offset + i) for i in range(count)):
                for _ in range(count - 1):  # the run's other ports are taken too
                    next(_offsets)
                return first + offset
    raise RuntimeError(f"no {count} free TCP ports in {first}-{first + PORT_SPAN - 1} (worker {worker_id()})")


HEAVY = pytest.mark.xdist_group("heavy")
"""The tests that start several server processes (``loket serve`` with gevent workers,
``loket worker``, ``loket demo``, redis-server) and drive them with many clients, or that
time a server's answers: under ``--dist loadgroup`` they all run on one worker, one after
the other, so two of them never compete for the machine's cores (their timings and
timeouts are a busy office's, not two at once). Use: ``pytestmark = [..., HEAVY]``."""
