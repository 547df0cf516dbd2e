"""Office-local time: the queue day and opening hours are in the office's time zone.

**Closing time 23:59 means "until the end of the day".** A ``time`` column cannot say
24:00, so an office open all evening stores 23:59 (``loket simulate-day``, the test
catalogs) or 23:59:59 (``loket demo``). Read literally, such an office would refuse
numbers during its last minute (or second) and the day close would close that day's
waiting tickets a minute before midnight. So any closing time from 23:59:00 on means the
office is open until office-local midnight: :func:`is_open` is true through 23:59:59.999…,
:func:`past_closing` is never true on that day, and the day's tickets still waiting are
closed just after midnight as an earlier day's tickets (``queue.day_close``). Every other
closing time is exact to the second: an office closing at 16:00 takes its last number at
15:59:59 and is past closing from 16:00:00.
"""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from ..models import Office

#: A closing time at or after this means "until the end of the day" (see the module docstring).
END_OF_DAY = time(23, 59)


def local_now(office: Office, now: datetime) -> datetime:
    """``now`` (aware, any zone) as wall-clock time in the office's zone (WIB/WITA/WIT)."""
    return now.astimezone(ZoneInfo(office.timezone))


def queue_day(office: Office, now: datetime) -> date:
    """The office-local calendar day ``now`` falls on: ticket numbers restart each day."""
    return local_now(office, now).date()


def closes_at_end_of_day(office: Office) -> bool:
    """True when the office's closing time (23:59 or later) means office-local midnight."""
    return office.closing_time >= END_OF_DAY


def is_open(office: Office, now: datetime) -> bool:
    """True from the office's opening time until (not including) its closing time,
    office-local; through the end of the day when it closes at 23:59 (module docstring)."""
    t = local_now(office, now).time()
    return office.opening_time <= t and (closes_at_end_of_day(office) or t < office.closing_time)


def past_closing(office: Office, now: datetime) -> bool:
    """True once the office-local time has reached closing time; never for an office
    closing at 23:59 (its day ends at midnight, see the module docstring)."""
    return not closes_at_end_of_day(office) and local_now(office, now).time() >= office.closing_time


def epoch_ms(now: datetime) -> int:
    """``now`` as integer milliseconds since the epoch (the queue's default sort key)."""
    return int(now.timestamp() * 1000)
