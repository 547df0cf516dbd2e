"""Who runs the scheduled jobs: one process per deployment, the others stand by.

**PostgreSQL: a session-level advisory lock** (:class:`AdvisoryLockLeadership`). The
process that gets ``pg_try_advisory_lock(LOCK_KEY)`` on a connection of its own leads for
as long as that connection lives; a standby tries again every ``SCHEDULER_RETRY_S``
seconds (default 5). PostgreSQL drops the lock the moment the leader's session ends: the
process stops or is killed (its socket closes), ``pg_terminate_backend``, or the leader's
host dies, which the server notices through the TCP keepalives this connection asks for
(about 20 s: ``tcp_keepalives_*``, ``tcp_user_timeout``). The leader checks every
``SCHEDULER_RETRY_S`` seconds that its connection still holds the lock and stops its jobs
when it does not (PostgreSQL restarted, network cut). The lock is per database, so two
installations on one PostgreSQL server never block each other. Who leads:
``SELECT application_name FROM pg_locks JOIN pg_stat_activity USING (pid) WHERE
locktype = 'advisory'`` ("loket-scheduler:<pid>@<host>"). The lock connection must reach
PostgreSQL directly (or through a *session* pooler): with PgBouncer in transaction mode a
session lock means nothing, and the leader's check would keep failing.

Why not a Redis lease: the jobs' data is in PostgreSQL, so the lock lives and dies with
the very thing the jobs need; it has no time to live to tune, no renewal that a slow job
or a paused process can miss (a lease that expires under a living leader makes two
leaders), and Redis stays optional (a single-process Loket does not need it).

**SQLite: no lock** (:class:`SoleLeadership`): SQLite means one machine and one scheduler
process (``loket demo`` runs it in-process; next to ``loket serve`` on SQLite, start one
``loket worker``).

In normal operation only the leader runs jobs; the jobs are also safe if two ran at once
(``FOR UPDATE SKIP LOCKED``, compare-and-set), so the short window in which a leader cut off
from PostgreSQL may still be finishing a run costs nothing but the duplicate attempt.
"""
from __future__ import annotations

import logging
import os
import socket

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: The advisory lock's key: b"loketSch" as a (positive) bigint.
LOCK_KEY = int.from_bytes(b"loketSch", "big")
#: libpq options of the lock connection: give up connecting after 5 s; TCP keepalives on
#: both ends so a vanished peer is noticed within about 20 s (``-c`` sets the server's side).
LOCK_CONNECT_ARGS = {
    "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 5, "keepalives_count": 3,
    "tcp_user_timeout": 20_000,
    "options": "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
               " -c tcp_user_timeout=20000 -c statement_timeout=10000",
}


class Leadership:
    """The interface: ``acquire`` (try to lead, never blocks long), ``still_leading``,
    ``release``; ``describe`` says who this process is, for logs."""

    def acquire(self) -> bool:
        raise NotImplementedError

    def still_leading(self) -> bool:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return f"pid {os.getpid()} on {socket.gethostname()}"


class SoleLeadership(Leadership):
    """SQLite: this process is the only scheduler, so it always leads."""

    def acquire(self) -> bool:
        return True

    def still_leading(self) -> bool:
        return True

    def release(self) -> None:
        pass


class AdvisoryLockLeadership(Leadership):
    """PostgreSQL session-level advisory lock on a dedicated connection (module docstring).

    ``url``: the SQLAlchemy URL of the database (``postgresql+psycopg://…``); ``key``: the
    lock's bigint key (tests use their own). Not thread-safe: one scheduler uses it.
    """

    def __init__(self, url: str, *, key: int = LOCK_KEY) -> None:
        self.key = key
        self.name = f"loket-scheduler:{os.getpid()}@{socket.gethostname()}"[:63]
        self._engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT",
                                     connect_args={**LOCK_CONNECT_ARGS, "application_name": self.name})
        self._conn: Connection | None = None
        self._leading = False

    def acquire(self) -> bool:
        """Try once to take the lock; True when this process leads. Raises SQLAlchemy
        errors when PostgreSQL cannot be reached (the caller retries later)."""
        if self._leading:
            return True
        try:
            if self._conn is None:
                self._conn = self._engine.connect()
            self._leading = bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        except Exception:
            self._drop()
            raise
        return self._leading

    def still_leading(self) -> bool:
        """True while the lock connection is alive and holds the lock; False (and the
        connection closed) as soon as it does not."""
        if not self._leading or self._conn is None:
            return False
        try:
            held = self._conn.execute(text(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND pid = pg_backend_pid() AND classid = :hi AND objid = :lo AND objsubid = 1)"
            ), {"hi": self.key >> 32, "lo": self.key & 0xFFFFFFFF}).scalar()
        except Exception as exc:
            log.warning("scheduler lock connection failed: %s", exc)
            held = False
        if not held:
            self._drop()
        return bool(held)

    def release(self) -> None:
        """Give the lock up (a standby takes over at its next try) and close the connection."""
        if self._conn is not None and self._leading:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception:  # the connection is gone: so is the lock
                pass
        self._drop()

    def describe(self) -> str:
        return self.name

    def _drop(self) -> None:
        self._leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def dispose(self) -> None:
        """Release and close everything (process exit)."""
        self.release()
        self._engine.dispose()


def leadership_for(database_url: str) -> Leadership:
    """The leadership that fits ``database_url``: an advisory lock on PostgreSQL, none on SQLite."""
    if database_url.startswith("postgresql"):
        return AdvisoryLockLeadership(database_url)
    return SoleLeadership()
