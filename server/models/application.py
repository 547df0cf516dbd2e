"""Applications (permohonan) and their kartu kendali (control card), issue 4.

An application is registered at the counter from a served ticket and then moves through
the service's SOP steps (the approval chain). The step list is copied from the catalog
onto the application at registration (``steps``), so a later catalog change never breaks
a file in flight. Every step done is one ``ControlCardEntry``: who, when, from which step
to which, and the time spent in the step against its standard minutes.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .office import Service


class ApplicationStatus(str, enum.Enum):
    """registered → in_progress → ready → collected; or returned (needs a correction or the
    citizen) and back to in_progress once the step it went back to is done again; or cancelled.

    ``registered`` is a file recorded at the counter but not yet forwarded; the counter
    forwards it at once today (services.applications.intake), so files start in_progress.
    """

    REGISTERED = "registered"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    COLLECTED = "collected"
    RETURNED = "returned"
    CANCELLED = "cancelled"


#: Statuses of a file some officer still has to act on (it is on a worklist).
OPEN_STATUSES = (
    ApplicationStatus.REGISTERED.value, ApplicationStatus.IN_PROGRESS.value,
    ApplicationStatus.RETURNED.value, ApplicationStatus.READY.value,
)


class Application(Base):
    """One application (permohonan, berkas), identified to the citizen by its resi number.

    ``steps``: the service's SOP steps as they were at registration
    ([{"code", "role", "minutes", "name_id", "name_en", "return_to"?}]); ``step_index``,
    ``step_code`` and ``step_role`` name the current one (None once the file is closed).
    ``requirements``: the checklist as presented, each item with ``applies`` and
    ``confirmed``. ``version`` is the optimistic lock: every update is
    ``UPDATE ... WHERE id = ? AND version = ?`` (SQLAlchemy ``version_id_col``).
    """

    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("resi_number", name="uq_applications_resi"),
        Index("ix_applications_worklist", "office_id", "status", "step_role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True, index=True
    )
    resi_number: Mapped[str] = mapped_column(String(48))
    applicant_nik: Mapped[str] = mapped_column(String(16), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    # The conditional-requirement cases that apply, e.g. ["renewal"] (catalog `when` keys).
    cases: Mapped[list] = mapped_column(default=list)
    requirements: Mapped[list] = mapped_column(default=list)
    steps: Mapped[list] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default=ApplicationStatus.IN_PROGRESS.value)
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    step_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The catalog role of the current step (e.g. "section_head"): what worklists filter on.
    step_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    step_entered_at: Mapped[datetime]
    submitted_at: Mapped[datetime]
    # The service's completion time, copied like ``steps``; ``due_date`` is what the resi shows.
    completion_working_days: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    shelf_location: Mapped[str | None] = mapped_column(String(60), nullable=True)
    ready_at: Mapped[datetime | None] = mapped_column(nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Who collected it: {"kind": "applicant"|"representative", "name", "nik", ...}.
    collector: Mapped[dict | None] = mapped_column(nullable=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    version: Mapped[int] = mapped_column(Integer)

    service: Mapped[Service] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def current_step(self) -> dict | None:
        """The current step's dict from ``steps``, or None once the file is closed."""
        return self.steps[self.step_index] if self.step_code is not None else None


class ApplicationSequence(Base):
    """The last resi sequence number given per office and office-local day (atomic upsert)."""

    __tablename__ = "application_sequences"
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ControlCardEntry(Base):
    """One line of the kartu kendali: step ``from_step`` done, the file moves to ``to_step``.

    ``action``: register (a counter step done at registration), approve, return,
    hand_over. ``minutes_in_step``: the time the file spent in ``from_step`` (None when it
    cannot be measured), against ``standard_minutes``; ``late`` when over it.
    ``reason``: why a file was returned. ``data``: extras (shelf location, collector).
    """

    __tablename__ = "control_card_entries"
    __table_args__ = (UniqueConstraint("application_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    from_step: Mapped[str | None] = mapped_column(String(40), nullable=True)
    to_step: Mapped[str | None] = mapped_column(String(40), nullable=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    minutes_in_step: Mapped[float | None] = mapped_column(nullable=True)
    standard_minutes: Mapped[float | None] = mapped_column(nullable=True)
    late: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict] = mapped_column(default=dict)
