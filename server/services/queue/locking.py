"""Row locks and atomic counters that work on PostgreSQL and on SQLite.

On PostgreSQL, ``FOR UPDATE`` locks the row until commit. On SQLite every transaction
already holds the write lock (``BEGIN IMMEDIATE``, see ``server.db``), so the plain read
is enough. Counters use one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement:
atomic on both backends, and it creates the day's row on first use.
"""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from ...models import Counter, TicketSequence


@lru_cache(maxsize=None)
def _counter_statement(dialect: str):
    stmt = (select(Counter).where(Counter.id == bindparam("counter_id"))
            .options(joinedload(Counter.services), joinedload(Counter.office))
            .execution_options(populate_existing=True))
    return stmt.with_for_update(of=Counter) if dialect == "postgresql" else stmt


def lock_counter(session: Session, counter_id: int) -> Counter | None:
    """Load ``counter_id`` holding its row lock for the rest of the transaction, with its
    services and office in the same query (the call path reads them; no lazy loads)."""
    stmt = _counter_statement(session.get_bind().dialect.name)
    return session.scalars(stmt, {"counter_id": counter_id}).unique().first()


@lru_cache(maxsize=None)
def _bump(dialect: str, column: str):
    """``INSERT … ON CONFLICT DO UPDATE SET <column> = <column> + 1 RETURNING <column>`` on
    the day's sequence row (built once per dialect and column)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TicketSequence).values(
        office_id=bindparam("office_id"), service_id=bindparam("service_id"), day=bindparam("day"),
        last_number=1 if column == "last_number" else 0, call_count=1 if column == "call_count" else 0)
    target = getattr(TicketSequence, column)
    return ins.on_conflict_do_update(index_elements=["office_id", "service_id", "day"],
                                     set_={column: target + 1}).returning(target)


def _increment(session: Session, column: str, office_id: int, service_id: int, day: date) -> int:
    connection = session.connection()  # Core: the ORM's bulk-insert path costs more than the statement
    stmt = _bump(connection.dialect.name, column)
    return connection.execute(stmt, {"office_id": office_id, "service_id": service_id, "day": day}).scalar_one()


def next_number(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Increment and return the day's last ticket number for a service (1 for the first)."""
    return _increment(session, "last_number", office_id, service_id, day)


def count_call(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Increment and return the number of calls made today for a service."""
    return _increment(session, "call_count", office_id, service_id, day)


def calls_so_far(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Calls made today for a service (0 before the first)."""
    return session.scalar(
        select(TicketSequence.call_count).where(
            TicketSequence.office_id == office_id,
            TicketSequence.service_id == service_id,
            TicketSequence.day == day,
        )
    ) or 0
