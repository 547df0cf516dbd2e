"""Devices that talk to the server with a token: kiosks, displays, stations."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DeviceKind(str, enum.Enum):
    """What a device token allows (see services.auth.DEVICE_SCOPES)."""

    KIOSK = "kiosk"
    DISPLAY = "display"
    PICKUP = "pickup"
    ACTIVATION = "activation"
    PRINTER = "printer"
    """A counter's receipt printer: a PC at the counters running ``loket agent printer``
    (the kiosk agent's program); ``settings["counters"]``: the counter numbers it prints
    for (none: any counter of the office). Prints resi jobs (issue 4, "The resi")."""
    SURVEY = "survey"
    """A satisfaction-survey tablet at the counters (issue 7, IKM); ``settings["counters"]``:
    the counter numbers whose finished tickets it asks about (``services.survey.tablet``)."""


class Device(Base):
    """A kiosk, TV display or station; authenticates with a bearer token (stored hashed)."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Health reported by the device's agent: {"printer": {"kind", "state", "detail", "last_answer_at"}}
    health: Mapped[dict] = mapped_column(default=dict)
    # Since when some device of this station is not "ok" (None while all are ok).
    unhealthy_since: Mapped[datetime | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Admin settings, e.g. {"keypad_counters": [1, 2]}: counters whose call keypads this
    # display agent may operate (a display without it can read but never change state).
    settings: Mapped[dict] = mapped_column(default=dict)
