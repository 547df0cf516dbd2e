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
    check-in), name and the confirmed contact (``phone`` or ``email``: only the one the code
    went to, and its ``contact_hash``); a short ``code`` to type and a signed QR."""

    __tablename__ = "bookings"
    __table_args__ = (
        # One active booking per NIK per service per day *per confirmed contact* (issue 6,
        # "Fairness"; issue 13: a booking in someone else's NIK from another contact does
        # not block the NIK's owner, whose own contact still books).
        Index("uq_bookings_active_nik_contact", "office_id", "service_id", "day", "nik", "contact_hash", unique=True,
              postgresql_where=text("status IN ('booked', 'checked_in')"),
              sqlite_where=text("status IN ('booked', 'checked_in')")),
        Index("ix_bookings_day_status", "office_id", "day", "status"),
        # A contact's bookings of a day (the broker limit) and its no-shows (the penalty).
        Index("ix_bookings_contact_day", "office_id", "contact_hash", "day"),
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
    #: HMAC of the confirmed contact (``services.booking.contacts``): what the one-per-NIK
    #: rule, the broker limit and the no-show penalty count by; "legacy:<id>" for bookings
    #: made before contacts were confirmed (migration 0012).
    contact_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default=BookingStatus.BOOKED.value)
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(nullable=True)
    expired_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True)

    service: Mapped[Service] = relationship()


class BookingRequestStatus(str, enum.Enum):
    PENDING = "pending"  # the code was sent; waiting for it
    CONFIRMED = "confirmed"  # the code was entered: the outcome went to the contact
    LOCKED = "locked"  # too many wrong codes
    EXPIRED = "expired"  # the code's time ran out


class BookingRequest(Base):
    """A booking asked for and not yet bound to a contact (issue 13): the choices, the NIK
    and name, the contact the one-time code was sent to (``channel``, ``recipient``: what
    delivery needs; ``contact_hash`` for matching), the code's HMAC (never the code), its
    expiry and the attempts made. Personal fields are emptied once the request is
    confirmed, locked or expired (``services.booking.requests``)."""

    __tablename__ = "booking_requests"
    __table_args__ = (Index("ix_booking_requests_status_expires", "status", "expires_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(32), unique=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    session_code: Mapped[str] = mapped_column(String(8))
    nik: Mapped[str] = mapped_column(String(16), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200), default="")
    contact_hash: Mapped[str] = mapped_column(String(64))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=BookingRequestStatus.PENDING.value)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"), nullable=True)
