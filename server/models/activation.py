"""KTP-el cards bound at print, the card on each reader, and activation sessions (issue 5).

The KTP-el chip is contactless ISO 14443; without the SAM that only Dukcapil issues, only
its UID and ATR are readable. Loket treats the UID as a key that says "this is the card
printed for this application", never as proof of who holds it.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base

#: Failed fingerprint verifications after which an activation is blocked until a section
#: head releases it (issue 5).
MAX_FINGERPRINT_FAILURES = 4


class CardBinding(Base):
    """The card printed for an application: recorded when the printing operator taps the
    new card on a reader at the print step (one card per application, one application per
    card). ``fingerprint_failures`` counts failed verifications since the last release;
    ``blocked_at`` is set when they reach MAX_FINGERPRINT_FAILURES."""

    __tablename__ = "card_bindings"
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # upper-case hex
    atr: Mapped[str] = mapped_column(String(100))
    nik: Mapped[str] = mapped_column(String(16))
    reader: Mapped[str] = mapped_column(String(80))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    bound_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    bound_at: Mapped[datetime]
    activated_at: Mapped[datetime | None] = mapped_column(nullable=True)
    fingerprint_failures: Mapped[int] = mapped_column(Integer, default=0)
    blocked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class StationCard(Base):
    """The card lying on a card-reader station's reader right now (from its agent's
    ``card`` events): ``present`` False after ``removed`` or when the reader is gone."""

    __tablename__ = "station_cards"
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    present: Mapped[bool] = mapped_column(default=False)
    uid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    atr: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reader: Mapped[str | None] = mapped_column(String(80), nullable=True)
    at: Mapped[datetime]


class ActivationStatus(str, enum.Enum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Activation(Base):
    """One activation session at a station: opened by the officer for an application,
    fed by card taps and the officer's fingerprint results, closed as completed (the
    activation record: officer, counter, reader, time, UID, attempts) or cancelled.

    ``card_state``: waiting, match, mismatch or removed; ``card_refusal``: why a tapped card
    is not this application's (unknown_card, bound_elsewhere, already_activated).
    At most one open session per station (enforced by the service).
    """

    __tablename__ = "activations"
    __table_args__ = (Index("ix_activations_device_status", "device_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id", ondelete="SET NULL"), nullable=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    status: Mapped[str] = mapped_column(String(16), default=ActivationStatus.OPEN.value)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    card_state: Mapped[str] = mapped_column(String(16), default="waiting")
    card_refusal: Mapped[str | None] = mapped_column(String(24), nullable=True)
    card_uid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    card_atr: Mapped[str | None] = mapped_column(String(100), nullable=True)
    card_reader: Mapped[str | None] = mapped_column(String(80), nullable=True)
    card_at: Mapped[datetime | None] = mapped_column(nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint_ok: Mapped[bool] = mapped_column(default=False)
    in_person: Mapped[bool] = mapped_column(default=False)
    identity_checked: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
