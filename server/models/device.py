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
    # Health reported by the device: {"printer": {"state": "ok", ...}, ...}
    health: Mapped[dict] = mapped_column(default=dict)
