"""Row locks and atomic counters that work on PostgreSQL and on SQLite.

On PostgreSQL, ``FOR UPDATE`` locks the row until commit. On SQLite every transaction
already holds the write lock (``BEGIN IMMEDIATE``, see ``server.db``), so the plain read
is enough. Counters use one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement:
atomic on both backends, and it creates the day's row on first use.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload

from ...db import is_postgres
from ...models import Counter, TicketSequence


def lock_counter(session: Session, counter_id: int) -> Counter | None:
    """Load ``counter_id`` holding its row lock for the rest of the transaction, with its
    services and office in the same query (the call path reads them; no lazy loads)."""
    stmt = (select(Counter).where(Counter.id == counter_id)
            .options(joinedload(Counter.services), joinedload(Counter.office))
            .execution_options(populate_existing=True))
    if is_postgres(session):
        stmt = stmt.with_for_update(of=Counter)
    return session.scalars(stmt).unique().first()


def _upsert(session: Session):
    return postgresql.insert if is_postgres(session) else sqlite.insert


def next_number(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Increment and return the day's last ticket number for a service (1 for the first)."""
    ins = _upsert(session)(TicketSequence).values(
        office_id=office_id, service_id=service_id, day=day, last_number=1, call_count=0
    )
    stmt = ins.on_conflict_do_update(
        index_elements=["office_id", "service_id", "day"],
        set_={"last_number": TicketSequence.last_number + 1},
    ).returning(TicketSequence.last_number)
    return session.execute(stmt).scalar_one()


def count_call(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Increment and return the number of calls made today for a service."""
    ins = _upsert(session)(TicketSequence).values(
        office_id=office_id, service_id=service_id, day=day, last_number=0, call_count=1
    )
    stmt = ins.on_conflict_do_update(
        index_elements=["office_id", "service_id", "day"],
        set_={"call_count": TicketSequence.call_count + 1},
    ).returning(TicketSequence.call_count)
    return session.execute(stmt).scalar_one()


def calls_so_far(session: Session, office_id: int, service_id: int, day: date) -> int:
    """Calls made today for a service (0 before the first)."""
    return session.scalar(
        select(TicketSequence.call_count).where(
            TicketSequence.office_id == office_id,
            TicketSequence.service_id == service_id,
            TicketSequence.day == day,
        )
    ) or 0
