"""Places per service, session and day, never given twice (issue 6, "never oversold even
under a burst of simultaneous requests on PostgreSQL with several workers").

:func:`take` takes a place with one conditional statement,
``UPDATE … SET taken = taken + 1 WHERE … AND taken < quota RETURNING taken``, after making
sure the capacity row exists (``INSERT … ON CONFLICT DO NOTHING`` with the office's quota)
when it may not (see :func:`take`): PostgreSQL
serialises concurrent updates of the row (row lock), SQLite transactions are all
``BEGIN IMMEDIATE``. No read-then-write, so no race.
"""
from __future__ import annotations

from datetime import date
from typing import cast

from sqlalchemy import Table, and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ...models import BookingCapacity
from ..errors import LoketError


#: The catalog key of a full session's message (errors_booking.json).
FULL_KEY = "error.booking.session_full"


class SessionFull(LoketError):
    """No place left in this session."""

    code = "session_full"
    http_status = 409


def _row(office_id: int, service_id: int, day: date, session_code: str, c=BookingCapacity):
    return and_(c.office_id == office_id, c.service_id == service_id, c.day == day, c.session_code == session_code)


def ensure(session: Session, office_id: int, service_id: int, day: date, session_code: str, quota: int) -> None:
    """Create the capacity row with ``quota`` places if it does not exist yet."""
    values = {"office_id": office_id, "service_id": service_id, "day": day, "session_code": session_code,
              "quota": quota, "taken": 0}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(BookingCapacity).values(**values).on_conflict_do_nothing())


def take(session: Session, office_id: int, service_id: int, day: date, session_code: str, quota: int, *,
         row_exists: bool | None = None) -> int:
    """Take one place; returns how many are taken now. Raises SessionFull.

    One statement when the row exists: the conditional UPDATE. ``row_exists`` is what the
    caller read in this transaction (e.g. ``bookings.book``'s pre-check): True, an UPDATE
    that finds no free place means full; False, the row is made first (``ensure``: a
    concurrent transaction may have made it meanwhile, that is fine). None (not known): a
    miss may also mean that the row is not there yet: it is made and the UPDATE tried once
    more.
    Core statements on the table, not the ORM (no ORM session synchronisation to do:
    nothing loads BookingCapacity objects on the booking path)."""
    if row_exists is False:
        ensure(session, office_id, service_id, day, session_code, quota)
    taken = _increment(session, office_id, service_id, day, session_code)
    if taken is None and row_exists is None:
        ensure(session, office_id, service_id, day, session_code, quota)
        taken = _increment(session, office_id, service_id, day, session_code)
    if taken is None:
        raise SessionFull(key=FULL_KEY)
    return taken


def _increment(session: Session, office_id: int, service_id: int, day: date, session_code: str) -> int | None:
    """``taken + 1`` where a place is free; the new count, None when none is (or no row)."""
    table = cast(Table, BookingCapacity.__table__)  # declared tables are Tables (typed FromClause)
    session.flush()  # what the ORM would autoflush before an ORM-enabled statement (no-op when clean)
    return session.connection().execute(
        update(table).where(_row(office_id, service_id, day, session_code, table.c), table.c.taken < table.c.quota)
        .values(taken=table.c.taken + 1).returning(table.c.taken)
    ).scalar()


def release(session: Session, office_id: int, service_id: int, day: date, session_code: str) -> None:
    """Give one place back (a cancelled booking), at once."""
    session.execute(update(BookingCapacity).where(_row(office_id, service_id, day, session_code),
                                                  BookingCapacity.taken > 0)
                    .values(taken=BookingCapacity.taken - 1))


def remaining(session: Session, office_id: int, day: date) -> dict[tuple[int, str], int]:
    """{(service id, session code): places left} for the rows that exist on ``day``
    (a missing row means the full quota)."""
    rows = session.execute(select(BookingCapacity.service_id, BookingCapacity.session_code, BookingCapacity.quota,
                                  BookingCapacity.taken)
                           .where(BookingCapacity.office_id == office_id, BookingCapacity.day == day)).all()
    return {(r.service_id, r.session_code): max(0, r.quota - r.taken) for r in rows}
