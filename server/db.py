"""Database engine and session factory (plain SQLAlchemy 2, no Flask).

SQLite (the embedded default) is opened in WAL mode and every transaction starts
with ``BEGIN IMMEDIATE``, so two writers never interleave: the second waits up to
``busy_timeout`` ms for the first to commit; a second transaction begun by the thread
(or greenlet) that holds the first fails at once (:func:`guard_nested_transactions`).
PostgreSQL runs at READ COMMITTED and the queue engine takes row locks
(``SELECT ... FOR UPDATE``) where it needs them. Its pool checks a connection before
handing it out (SQLAlchemy's pre-ping) without a round trip when nothing can have
happened to it (:func:`quiet_pre_ping`).
"""
from __future__ import annotations

import select
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy import Table, bindparam, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False, poolclass=None) -> Engine:
    """Create an engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).

    ``poolclass``: e.g. NullPool for one-off tools (migrations). Returns an Engine; raises
    ``sqlalchemy.exc.ArgumentError`` for a malformed URL.
    """
    if poolclass is not None:
        engine = create_engine(url, echo=echo, poolclass=poolclass, hide_parameters=True)
        if url.startswith("sqlite"):
            _configure_sqlite(engine)
        return engine
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # no password hash or token in a logged statement (issue 13)
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True
    )
    quiet_pre_ping(engine)
    return engine


#: A pooled connection back in the pool longer than this (seconds) is pinged with a round
#: trip on checkout even when its socket is quiet (a firewall may drop idle connections
#: without a word).
PING_IDLE_S = 30.0


def quiet_pre_ping(engine: Engine) -> None:
    """Make ``engine``'s pool pre-ping (``pool_pre_ping=True``) skip its round trip
    (``SELECT 1``, ~0.1-0.2 ms of CPU and a network wait per request) when the connection
    cannot have changed since it was returned to the pool: it came back less than
    :data:`PING_IDLE_S` ago, libpq reports it healthy and idle, and nothing has arrived on
    its socket since (no byte, no end of file: :func:`socket_quiet`).

    Why that is enough: when PostgreSQL ends a connection (restart, shutdown,
    ``pg_terminate_backend``, ``idle_session_timeout``) it sends the client a FATAL message
    and closes the socket, which makes the socket readable; the full ping then runs, fails,
    and SQLAlchemy replaces the connection (and invalidates the pool) exactly as before.
    Connections of other drivers than psycopg 3 are always pinged. Changes nothing for
    SQLite (no pre-ping). Returns None."""
    dialect = engine.dialect
    loud = dialect.do_ping
    returned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_conn, _record) -> None:
        if dbapi_conn is not None:
            returned[dbapi_conn] = time.monotonic()

    def do_ping(dbapi_conn) -> bool:
        since = returned.get(dbapi_conn)
        if since is not None and time.monotonic() - since < PING_IDLE_S and socket_quiet(dbapi_conn):
            return True
        return loud(dbapi_conn)

    dialect.do_ping = do_ping  # what the pool's pre-ping calls (``_do_ping_w_event``)


_original_poll = None


def _poll():
    """``select.poll`` itself, also when gevent patched it (the cooperative one may yield
    to the hub even for a zero timeout; a non-blocking poll never blocks). Once patched,
    always patched: the original is then looked up once."""
    global _original_poll
    if _original_poll is not None:
        return _original_poll
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("select"):
        _original_poll = monkey.get_original("select", "poll")
        return _original_poll
    return select.poll


def socket_quiet(dbapi_conn) -> bool:
    """True when the psycopg 3 connection ``dbapi_conn`` is healthy and idle as far as libpq
    knows and nothing (data or end of file) is waiting on its socket; False otherwise, for
    other drivers and on any error (the caller then pings with a round trip)."""
    pgconn = getattr(dbapi_conn, "pgconn", None)
    if pgconn is None:
        return False
    try:
        from psycopg import pq

        if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = _poll()()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:  # noqa: BLE001 - a closed or broken connection: ping it
        return False


class NestedTransactionError(RuntimeError):
    """A second SQLite transaction began on a thread (or greenlet) that already holds one on
    the same database: it would wait on its own lock for the busy timeout (see
    :func:`guard_nested_transactions`)."""


def guard_nested_transactions(engine: Engine) -> None:
    """Make a second transaction on ``engine`` begun by a thread (under gevent: greenlet)
    that already holds one fail at once with :class:`NestedTransactionError`.

    Why: every SQLite transaction starts with ``BEGIN IMMEDIATE`` and so holds the write
    lock; a second session opened inside it on the same thread (a lazy load: the signed-in
    user, a cache filling itself) waits on that lock, which only its own caller can
    release, for ``SQLITE_BUSY_TIMEOUT_MS`` and then fails. SQLite's wait is a blocking C
    call, so under gevent (``loket demo``) the whole process stalls meanwhile. The check
    turns that 30 s stall into an immediate error naming the cause, in the test suite and
    in a running demo alike (a nesting never succeeds anyway: it fails after the wait); it
    costs a thread-local look-up per transaction. Every SQLite engine of ``make_engine``
    has it, added before its ``BEGIN IMMEDIATE`` listener (``begin`` listeners run in the
    order they were added).
    """
    local = threading.local()  # per greenlet once gevent has patched threading

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        held = local.__dict__.setdefault("held", weakref.WeakSet())
        if any(c is not conn and c.in_transaction() for c in held):
            raise NestedTransactionError(
                "a second database transaction began while this thread already holds one on the same "
                "SQLite database: it would wait on itself for the busy timeout. Load what it reads "
                "(the signed-in user, a cached row) before opening the outer transaction, or in it.")
        held.add(conn)


def _configure_sqlite(engine: Engine) -> None:
    guard_nested_transactions(engine)  # its check runs before BEGIN IMMEDIATE below

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - trivial
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite would defer it).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover - trivial
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@lru_cache(maxsize=64)
def multi_insert(table: Table, columns: tuple[str, ...], count: int, returning: tuple[str, ...] = ()):
    """``INSERT INTO table (columns) VALUES (…), … [RETURNING …]`` for ``count`` rows, built
    once per (table, columns, count), bind parameters ``<column>_<i>`` typed as their
    columns; the same text on SQLite and PostgreSQL. A text statement on purpose:
    SQLAlchemy does not cache the compiled form of a multi-row ``insert().values([...])``,
    so that one would be compiled on every call. Pass :func:`multi_params` as parameters."""
    rows = ", ".join("(" + ", ".join(f":{c}_{i}" for c in columns) + ")" for i in range(count))
    back = f" RETURNING {', '.join(returning)}" if returning else ""
    return text(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {rows}{back}").bindparams(
        *(bindparam(f"{c}_{i}", type_=table.c[c].type) for i in range(count) for c in columns))


def multi_params(columns: tuple[str, ...], rows: list[dict]) -> dict:
    """The parameters of :func:`multi_insert` for ``rows`` (dicts holding ``columns``)."""
    return {f"{c}_{i}": r[c] for i, r in enumerate(rows) for c in columns}


def clear_on_commit(factory: sessionmaker, models: tuple[type, ...], clear) -> None:
    """Call ``clear()`` after each commit through ``factory`` that inserted, changed or
    deleted an instance of ``models`` (``after_flush`` notes it, ``after_commit`` clears, a
    rollback forgets): how a per-process cache forgets what this process changed."""
    key = f"loket_changed_{id(clear)}"

    @event.listens_for(factory, "after_flush")
    def _note(session: Session, _context) -> None:
        if any(isinstance(o, models) for o in (*session.new, *session.dirty, *session.deleted)):
            session.info[key] = True

    @event.listens_for(factory, "after_commit")
    def _clear(session: Session) -> None:
        if session.info.pop(key, False):
            clear()

    @event.listens_for(factory, "after_soft_rollback")
    def _forget(session: Session, _previous) -> None:
        session.info.pop(key, None)


def is_postgres(session: Session) -> bool:
    """True when ``session`` is bound to PostgreSQL (row locks and SKIP LOCKED exist)."""
    return session.get_bind().dialect.name == "postgresql"


class Database:
    """Holds one engine and its session factory; made by the app factory, never at import."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        from .services.events import install_log

        self.url = url
        self.closed = False
        self.engine = make_engine(url, pool_size=pool_size, echo=echo)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        install_log(self.Session)  # every change a screen must hear is in the office event log

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        session = self.Session()
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection (after fork, at shutdown); loops that watch
        :attr:`closed` end."""
        self.closed = True
        self.engine.dispose()
