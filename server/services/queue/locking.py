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
def _counter_statement(dialect: str, populate_existing: bool):
    stmt = (select(Counter).where(Counter.id == bindparam("counter_id"))
            .options(joinedload(Counter.services), joinedload(Counter.office)))
    if populate_existing:
        stmt = stmt.execution_options(populate_existing=True)
    return stmt.with_for_update(of=Counter) if dialect == "postgresql" else stmt


def lock_counter(session: Session, counter_id: int) -> Counter | None:
    """Load ``counter_id`` holding its row lock for the rest of the transaction, with its
    services and office in the same query (the call path reads them; no lazy loads).
    Objects the session already holds are overwritten with what the locked read returns
    (``populate_existing``; skipped, for its cost, when the session holds nothing yet, as
    at the start of a request: the result is the same)."""
    stmt = _counter_statement(session.get_bind().dialect.name, len(session.identity_map) > 0)
    return session.scalars(stmt, {"counter_id": counter_id}).unique().first()


@lru_cache(maxsize=None)
def _count_call(dialect: str):
    """``INSERT … ON CONFLICT DO UPDATE SET call_count = call_count + 1 RETURNING call_count``
    on the day's sequence row (built once per dialect). Ticket numbers are taken the same
    way, together with the ticket's insert (``issuing``)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TicketSequence).values(
        office_id=bindparam("office_id"), service_id=bindparam("service_id"), day=bindparam("day"),
        last_number=0, call_count=1)
    return ins.on_conflict_do_update(index_elements=["office_id", "service_id", "day"],
                                     set_={"call_count": TicketSequence.call_count + 1}
                                     ).returning(TicketSequence.call_count)


def count_call(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Increment and return the number of calls made today for a service."""
    connection = session.connection()  # Core: the ORM's bulk-insert path costs more than the statement
    return connection.execute(_count_call(connection.dialect.name),
                              {"office_id": office_id, "service_id": service_id, "day": day}).scalar_one()


def calls_so_far(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Calls made today for a service (0 before the first)."""
    return session.scalar(
        select(TicketSequence.call_count).where(
            TicketSequence.office_id == office_id,
            TicketSequence.service_id == service_id,
            TicketSequence.day == day,
        )
    ) or 0
