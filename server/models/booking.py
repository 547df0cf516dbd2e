"""Online queue bookings (issue 6): the capacity of each service's session (sesi) per day,
and the bookings themselves."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .office import Service


class BookingStatus(str, enum.Enum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # not checked in by the end of its window: a no-show


#: Statuses that hold a place (and count for "one booking per NIK per service per day").
ACTIVE_BOOKING_STATUSES = (BookingStatus.BOOKED.value, BookingStatus.CHECKED_IN.value)


class BookingCapacity(Base):
    """Places of one service's session on one day: ``quota`` set from the office's booking
    settings when the row is first needed, ``taken`` moved only by a conditional UPDATE
    (``taken < quota``), so a place is never given twice, whatever the concurrency."""

    __tablename__ = "booking_capacity"
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    session_code: Mapped[str] = mapped_column(String(8), primary_key=True)
    quota: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)


class Booking(Base):
    """A citizen's booked place: office, service, day and session; the NIK (checked again at
    check-in), name and WhatsApp number; a short ``code`` to type and a signed QR."""

    __tablename__ = "bookings"
    __table_args__ = (
        # One active booking per NIK per service per day (issue 6, "Fairness").
        Index("uq_bookings_active_nik", "office_id", "service_id", "day", "nik", unique=True,
              postgresql_where=text("status IN ('booked', 'checked_in')"),
              sqlite_where=text("status IN ('booked', 'checked_in')")),
        Index("ix_bookings_day_status", "office_id", "day", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)
    session_code: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    nik: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.BOOKED.value)
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expired_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True)

    service: Mapped[Service] = relationship()
