"""AKAPELA contacts: information requests and complaints (seed 001), issue 7.

A contact is registered by an officer (phone, WhatsApp, walk-in) or by the citizen on the
public web form. It is held at one ``stage`` at a time (the officer, the section head, the
division head, the editor, the approval chain of a linked application, the pickup
officer); ``holder_role`` is the staff role that acts on it there. Every move is one
``ComplaintStep`` (who, when, from which stage to which, the note): the contact's kartu
kendali. ``version`` is the optimistic lock (``UPDATE ... WHERE id = ? AND version = ?``).
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class ComplaintStatus(str, enum.Enum):
    """open (nobody has answered the citizen yet) → answered (an answer was given, the
    contact is still being handled) → closed (the service report, with the closing answer)."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Complaint(Base):
    """One AKAPELA contact, known to the citizen by ``number`` (e.g. ``AKP-20261205-0012``).

    ``id_kind``: "nik" or "kk"; ``id_number`` its 16 digits (staff only, never public).
    ``channel``: phone, whatsapp, walk_in, web_form; ``kind``: information, complaint.
    ``application_id`` / ``resi_number``: the file it concerns, if any. ``stage`` and
    ``holder_role``: who holds it now (None once closed). ``public_answer``: the latest
    answer given to the citizen (what the status page shows); ``outcome``: where it was
    resolved (set at closing). Times are UTC.
    """

    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("office_id", "number", name="uq_complaints_office_number"),
        Index("ix_complaints_waiting", "office_id", "status", "holder_role"),
        Index("ix_complaints_office_created", "office_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    id_kind: Mapped[str] = mapped_column(String(3))
    id_number: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="SET NULL"), nullable=True, index=True
    )
    resi_number: Mapped[str | None] = mapped_column(String(48), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.OPEN.value)
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    holder_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    stage_entered_at: Mapped[datetime]
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    first_answer_at: Mapped[datetime | None] = mapped_column(nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    public_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class ComplaintSequence(Base):
    """The last contact number given per office and office-local day (atomic upsert)."""

    __tablename__ = "complaint_sequences"
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ComplaintStep(Base):
    """One line of a contact's kartu kendali: ``action`` by whom, when, from ``from_stage``
    to ``to_stage``, with the ``note`` (the answer, the question asked, the reply).

    ``action``: register, answer, escalate, route, reply, close. ``public``: the note was
    an answer to the citizen (shown on the status page). ``data``: extras (the linked
    application's step code and holder role when pushed up the chain).
    """

    __tablename__ = "complaint_steps"
    __table_args__ = (UniqueConstraint("complaint_id", "seq", name="uq_complaint_steps_complaint_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    from_stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_role: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    public: Mapped[bool] = mapped_column(default=False)
    data: Mapped[dict] = mapped_column(default=dict)
