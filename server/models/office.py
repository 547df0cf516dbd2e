"""Offices, their services (the catalog in the database) and counters."""
from __future__ import annotations

import enum
from datetime import time
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base

if TYPE_CHECKING:
    from .staff import StaffUser

counter_services = Table(
    "counter_services",
    Base.metadata,
    Column("counter_id", ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
)


class Office(Base):
    """A Dukcapil office or an MPP booth; every queue, counter and device belongs to one."""

    __tablename__ = "offices"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    opening_time: Mapped[time] = mapped_column(Time, default=time(7, 30))
    closing_time: Mapped[time] = mapped_column(Time, default=time(16, 0))
    # Queue rules (DEVELOPERS.md / issue 2): see services.queue.rules.QueueRules.
    settings: Mapped[dict] = mapped_column(default=dict)
    running_text: Mapped[str] = mapped_column(Text, default="")

    services: Mapped[list["Service"]] = relationship(
        back_populates="office", order_by="Service.sort_order"
    )
    counters: Mapped[list["Counter"]] = relationship(
        back_populates="office", order_by="Counter.number"
    )


class Service(Base):
    """A service (layanan) of an office's catalog, with its ticket letter and SOP data."""

    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("office_id", "code"),
        UniqueConstraint("office_id", "letter", name="uq_services_letter"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    letter: Mapped[str] = mapped_column(String(2))
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    description_id: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # [{"id": "...", "en": "...", "when": "first-time"|None}], from the catalog file.
    requirements: Mapped[list] = mapped_column(default=list)
    # [{"code", "name_id", "name_en", "role", "minutes"}], the SOP steps with standard minutes.
    steps: Mapped[list] = mapped_column(default=list)
    completion_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    counter_minutes: Mapped[float] = mapped_column(default=10.0)
    fee: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20), default="application")
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(default=True)

    office: Mapped[Office] = relationship(back_populates="services")

    def name(self, lang: str) -> str:
        """The service name in ``lang`` ("id" or "en"), Indonesian by default."""
        return self.name_en if lang == "en" else self.name_id


class CounterState(str, enum.Enum):
    """Whether a counter (loket) takes calls."""

    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Counter(Base):
    """A counter (loket) serving one or more services; one officer at a time."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("office_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(12), default=CounterState.CLOSED.value)
    pause_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    officer_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True
    )
    # Regular tickets called since this counter last called a priority ticket.
    regular_since_priority: Mapped[int] = mapped_column(Integer, default=0)

    office: Mapped[Office] = relationship(back_populates="counters")
    services: Mapped[list[Service]] = relationship(secondary=counter_services, order_by="Service.sort_order")
    officer: Mapped["StaffUser | None"] = relationship()

    @property
    def label(self) -> str:
        """What the screens show: the name, or "Loket <number>"."""
        return self.name or f"Loket {self.number}"
