"""Queue tickets, their daily numbering and the calls made for them."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .office import Counter, Service


class TicketStatus(str, enum.Enum):
    """Ticket states: waiting → called → serving → done, or no_show, transferred, cancelled."""

    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.SERVING.value)
AT_COUNTER_STATUSES = (TicketStatus.CALLED.value, TicketStatus.SERVING.value)


class PriorityKind(str, enum.Enum):
    """Priority citizens, UU 25/2009 art. 29 (lansia, disabilitas, ibu hamil)."""

    ELDERLY = "lansia"
    DISABILITY = "disabilitas"
    PREGNANT = "ibu_hamil"


class TicketSequence(Base):
    """The last number given per office, service and office-local day (row-locked on issue)."""

    __tablename__ = "ticket_sequences"
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    # Calls made for this service today: a skipped ticket returns after N more of them.
    call_count: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    """One queue ticket. ``display_number`` is what citizens see (e.g. "A012")."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("office_id", "day", "display_number", "transfer_seq", name="uq_tickets_number"),
        UniqueConstraint("office_id", "request_id", name="uq_tickets_request"),
        Index("ix_tickets_queue", "office_id", "service_id", "status", "sort_key"),
        # Reports (issue 7, migration 0009): the transfers made, from the ticket transferred.
        Index("ix_tickets_transferred_from", "transferred_from_id",
              postgresql_where=text("transferred_from_id IS NOT NULL"),
              sqlite_where=text("transferred_from_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    display_number: Mapped[str] = mapped_column(String(12))
    transfer_seq: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING.value)
    priority_kind: Mapped[str | None] = mapped_column(String(20), nullable=True)
    channel: Mapped[str] = mapped_column(String(16), default="kiosk")
    # Queue order within the service: issue time in ms; a transfer to the front goes lower.
    sort_key: Mapped[int] = mapped_column(BigInteger)
    skip_count: Mapped[int] = mapped_column(Integer, default=0)
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    # A skipped ticket is callable again once the service's call_count exceeds this.
    eligible_after_calls: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[datetime]
    waiting_since: Mapped[datetime]
    first_called_at: Mapped[datetime | None] = mapped_column(nullable=True)
    called_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), nullable=True)
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Idempotency key sent by the kiosk with each tap: a repeated request returns this ticket.
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The kiosk that issued it (its printer prints the ticket and reprints).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    # Print outcome on the kiosk: "printed", "failed: <reason>", or None (not printed).
    print_status: Mapped[str | None] = mapped_column(String(200), nullable=True)

    service: Mapped[Service] = relationship()
    counter: Mapped[Counter | None] = relationship()

    @property
    def is_priority(self) -> bool:
        return self.priority_kind is not None


class Call(Base):
    """One call (or recall) of a ticket to a counter: what the TV shows and speaks."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_calls_office_at", "office_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    counter_id: Mapped[int] = mapped_column(ForeignKey("counters.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16), default="call")  # call, recall, specific
    at: Mapped[datetime]

    ticket: Mapped[Ticket] = relationship()
    counter: Mapped[Counter] = relationship()
