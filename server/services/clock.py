"""Office-local time: the queue day and opening hours are in the office's time zone."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..models import Office


def local_now(office: Office, now: datetime) -> datetime:
    """``now`` (aware, any zone) as wall-clock time in the office's zone (WIB/WITA/WIT)."""
    return now.astimezone(ZoneInfo(office.timezone))


def queue_day(office: Office, now: datetime) -> date:
    """The office-local calendar day ``now`` falls on: ticket numbers restart each day."""
    return local_now(office, now).date()


def is_open(office: Office, now: datetime) -> bool:
    """True between the office's opening and closing time (office-local)."""
    t = local_now(office, now).time()
    return office.opening_time <= t < office.closing_time


def past_closing(office: Office, now: datetime) -> bool:
    """True once the office-local time has reached closing time."""
    return local_now(office, now).time() >= office.closing_time


def epoch_ms(now: datetime) -> int:
    """``now`` as integer milliseconds since the epoch (the queue's default sort key)."""
    return int(now.timestamp() * 1000)
