"""A daily quota per service shared by walk-in tickets and bookings (issue 6: "Walk-in
tickets and booked tickets share one daily quota per service where the office sets one
(e.g. blank KTP-el card stock), and the kiosk says when a service is full today").

``office.settings["booking"]["daily_quota"] = {"ktp_el": 120}``: at most 120 KTP-el
numbers a day, bookings for that day and walk-in tickets together. The count is a
``booking_capacity`` row with session code "day", taken with the same atomic conditional
update as a session's places (``capacity.take``): a walk-in ticket takes one when it is
issued, a booking when it is made (its check-in ticket does not take another), a
cancelled booking gives its place back. Services without a daily quota cost nothing.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from ...models import Office, Service
from ..errors import LoketError
from . import capacity

DAY_ROW = "day"


class ServiceFullToday(LoketError):
    """The service's daily quota is used up for that day."""

    code = "service_full_today"
    http_status = 409


def daily_quota(office: Office, service_code: str) -> int | None:
    """The daily quota the office sets for ``service_code``, or None."""
    quotas = ((office.settings or {}).get("booking") or {}).get("daily_quota") or {}
    value = quotas.get(service_code)
    return int(value) if value is not None else None


def take(session: Session, office: Office, service: Service, day: date) -> None:
    """Take one of the day's places of ``service`` (no-op without a daily quota).
    Raises ServiceFullToday."""
    quota = daily_quota(office, service.code)
    if quota is None:
        return
    try:
        capacity.take(session, office.id, service.id, day, DAY_ROW, quota)
    except capacity.SessionFull:
        raise ServiceFullToday(key="error.booking.service_full_today", params={"service": service.name_id},
                               service=service.code, day=day.isoformat()) from None


def release(session: Session, office: Office, service: Service, day: date) -> None:
    """Give one of the day's places of ``service`` back (no-op without a daily quota)."""
    if daily_quota(office, service.code) is not None:
        capacity.release(session, office.id, service.id, day, DAY_ROW)


def full_services(session: Session, office: Office, day: date) -> list[str]:
    """Codes of the services whose daily quota is used up on ``day``."""
    quotas = ((office.settings or {}).get("booking") or {}).get("daily_quota") or {}
    if not quotas:
        return []
    left = capacity.remaining(session, office.id, day)
    return sorted(s.code for s in office.services
                  if s.code in quotas and left.get((s.id, DAY_ROW), int(quotas[s.code])) <= 0)
