"""Notices to citizens (pemberitahuan): the outbox of WhatsApp, SMS and e-mail messages, issue 4.

A notice is written in the same transaction as what it tells about and delivered later by
``services.notices.deliver_due``, so a provider that is down loses nothing: the row waits,
with its attempts, the time of the next one and the last error, for staff to see.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class NoticeChannel(str, enum.Enum):
    """How a notice travels, in the order they are tried when queueing (WhatsApp first)."""

    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"


class NoticeStatus(str, enum.Enum):
    """pending → sending → sent; a failed attempt goes back to pending with a later
    ``next_attempt_at``; ``failed``: the provider refused it for good (bad number or
    address); ``gave_up``: still undelivered 24 hours after it was queued.

    ``sending`` is a lease: a notice left in it past ``next_attempt_at`` (its process died
    during the attempt) is due again.
    """

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    GAVE_UP = "gave_up"


#: Statuses that are final: nothing more will be tried.
FINAL_NOTICE_STATUSES = (NoticeStatus.SENT.value, NoticeStatus.FAILED.value, NoticeStatus.GAVE_UP.value)


class Notice(Base):
    """One message to one recipient on one channel.

    ``kind``: what it tells ("ready", "returned"). ``dedupe_key``: unique, so the same
    notice is never queued twice (e.g. "app12:ready:v5": application 12 became ready at
    version 5). ``attempts``: delivery attempts so far; ``next_attempt_at``: when the next
    one is due (while ``sending``: when the attempt's lease runs out).
    """

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_notices_dedupe_key"),
        Index("ix_notices_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    dedupe_key: Mapped[str] = mapped_column(String(120))
