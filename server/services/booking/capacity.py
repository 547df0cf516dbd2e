"""Places per service, session and day, never given twice (issue 6, "never oversold even
under a burst of simultaneous requests on PostgreSQL with several workers").

:func:`take` makes sure the capacity row exists (``INSERT … ON CONFLICT DO NOTHING`` with
the office's quota) and then takes a place with one conditional statement,
``UPDATE … SET taken = taken + 1 WHERE … AND taken < quota RETURNING taken``: PostgreSQL
serialises concurrent updates of the row (row lock), SQLite transactions are all
``BEGIN IMMEDIATE``. No read-then-write, so no race.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ...models import BookingCapacity
from ..errors import LoketError


class SessionFull(LoketError):
    """No place left in this session."""

    code = "session_full"
    http_status = 409


def _row(office_id: int, service_id: int, day: date, session_code: str):
    c = BookingCapacity
    return and_(c.office_id == office_id, c.service_id == service_id, c.day == day, c.session_code == session_code)


def ensure(session: Session, office_id: int, service_id: int, day: date, session_code: str, quota: int) -> None:
    """Create the capacity row with ``quota`` places if it does not exist yet."""
    values = {"office_id": office_id, "service_id": service_id, "day": day, "session_code": session_code,
              "quota": quota, "taken": 0}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(BookingCapacity).values(**values).on_conflict_do_nothing())


def take(session: Session, office_id: int, service_id: int, day: date, session_code: str, quota: int) -> int:
    """Take one place; returns how many are taken now. Raises SessionFull."""
    ensure(session, office_id, service_id, day, session_code, quota)
    taken = session.execute(
        update(BookingCapacity).where(_row(office_id, service_id, day, session_code),
                                      BookingCapacity.taken < BookingCapacity.quota)
        .values(taken=BookingCapacity.taken + 1).returning(BookingCapacity.taken)
    ).scalar()
    if taken is None:
        raise SessionFull("Kuota sesi ini sudah habis; pilih sesi atau hari lain / this session is full: "
                          "choose another session or day")
    return taken


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
