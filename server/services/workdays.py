"""Working days (hari kerja) of one office: due dates and overdue counts of applications.

Source: ../shared/domain.md "Service standard times": completion times are in working
days, Monday-Friday, public holidays excluded; issue 4 adds office-declared closure days.

A day is a working day when it is listed in ``extra_working_days`` (e.g. a Saturday
service day), or else when it is Monday-Friday, not an Indonesian public holiday (the
``holidays`` package, category "public") and not in ``closure_days``. Closure days win
over extra working days: listing one date in both is refused.

Cuti bersama (collective leave, SKB 3 Menteri) is in the ``holidays`` package as the
"government" category ("... Joint Holiday"). It is ASN annual leave, not a public holiday,
and Ditjen Dukcapil instructs Disdukcapil offices to keep serving on those days (e.g.
Surat 400.8/3995/Dukcapil, 20 March 2025), so by default they are working days. An office
that closes on all of them sets ``office_settings["observe_cuti_bersama"] = True``; one
that closes on some lists those in ``closure_days``.

Due-date reading of "3 hari kerja": the due date is the n-th working day after the
submission day. The submission day is day 0 when it is a working day and the file came in
before closing time; otherwise day 0 is the next working day. So a file submitted on
Monday 10:00 with n=3 is due Thursday; at 16:30 (after a 16:00 closing) it is due Friday.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays

from .errors import ValidationError

COUNTRY = "ID"
SATURDAY = 5
_MAX_SCAN_DAYS = 3660  # a search for a working day gives up after ten years


@lru_cache(maxsize=256)
def national_holidays(year: int, category: str = "public") -> Mapping[date, str]:
    """Indonesian holidays of ``year`` in one ``holidays`` category ("public" or
    "government" = cuti bersama) as {date: English name}; cached per (year, category)."""
    found = holidays.country_holidays(COUNTRY, years=year, categories=(category,), language="en_US")
    return MappingProxyType(dict(found.items()))


def _dates(office_settings: dict, key: str) -> frozenset[date]:
    values = office_settings.get(key) or []
    if not isinstance(values, (list, tuple)):
        raise ValidationError(key="error.workdays.dates", params={"setting": key}, field=key)
    out = set()
    for value in values:
        try:
            out.add(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            raise ValidationError(key="error.workdays.bad_date", params={"setting": key, "value": repr(value)},
                                  field=key) from None
    return frozenset(out)


class WorkCalendar:
    """The working-day calendar of one office.

    ``office_settings``: the office's ``settings`` JSON; reads ``closure_days`` and
    ``extra_working_days`` (lists of ISO dates "YYYY-MM-DD") and ``observe_cuti_bersama``
    (bool, default False). ``tz``: the office's IANA zone (Office.timezone); aware
    datetimes are converted to it, naive ones are taken as office-local wall time.

    Raises ``ValidationError`` (field = the settings key) for a malformed date list or a
    date listed both as closure and extra working day.
    """

    def __init__(self, office_settings: dict | None = None, tz: str = "Asia/Jakarta") -> None:
        settings = office_settings or {}
        self.tz = ZoneInfo(tz)
        self.closure_days = _dates(settings, "closure_days")
        self.extra_working_days = _dates(settings, "extra_working_days")
        self.observe_cuti_bersama = bool(settings.get("observe_cuti_bersama", False))
        both = self.closure_days & self.extra_working_days
        if both:
            shown = ", ".join(sorted(d.isoformat() for d in both))
            raise ValidationError(key="error.workdays.also_closure", params={"dates": shown}, field="extra_working_days")

    def holiday_name(self, d: date) -> str | None:
        """The public holiday (or observed cuti bersama) name on ``d``, else None."""
        name = national_holidays(d.year).get(d)
        if name is None and self.observe_cuti_bersama:
            name = national_holidays(d.year, "government").get(d)
        return name

    def is_working_day(self, d: date) -> bool:
        """True when the office works on calendar day ``d`` (rules in the module docstring)."""
        if d in self.extra_working_days:
            return True
        if d.weekday() >= SATURDAY or d in self.closure_days:
            return False
        return self.holiday_name(d) is None

    def local(self, moment: datetime) -> datetime:
        """``moment`` as office-local wall time (naive input is taken as already local)."""
        return moment.astimezone(self.tz) if moment.tzinfo else moment.replace(tzinfo=self.tz)

    def next_working_day(self, d: date, include: bool = False) -> date:
        """The first working day after ``d`` (or ``d`` itself when ``include`` and it works)."""
        day = d if include else d + timedelta(days=1)
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValidationError(key="error.workdays.no_working_day")

    def start_day(self, submitted_at: datetime, closing_time: time | None = None) -> date:
        """Day 0 of the count: the office-local submission day when it is a working day and
        the local time is before ``closing_time`` (None: any time counts), else the next
        working day."""
        local = self.local(submitted_at)
        day = local.date()
        if closing_time is not None and local.time() >= closing_time:
            return self.next_working_day(day)
        return self.next_working_day(day, include=True)

    def add_working_days(self, start: datetime, n: int, closing_time: time | None = None) -> date:
        """The due date: the ``n``-th working day after day 0 (see ``start_day``); ``n`` = 0
        gives day 0 itself. ``n`` is in working days and must be >= 0 (ValueError otherwise)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = self.start_day(start, closing_time)
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (``a`` excluded, ``b`` included); negative with
        the same magnitude when b < a; 0 when equal. Thus
        ``working_days_between(start_day(t), add_working_days(t, n)) == n``."""
        if b < a:
            return -self.working_days_between(b, a)
        return sum(1 for k in range(1, (b - a).days + 1) if self.is_working_day(a + timedelta(days=k)))

    def overdue_working_days(self, submitted_at: datetime, completion_days: int, now: datetime,
                             closing_time: time | None = None) -> int:
        """How many working days an unfinished application is past its due date.

        ``submitted_at``, ``now``: datetimes (see ``local``); ``completion_days``: the
        service's completion time in working days; ``closing_time``: the office's closing
        time for the submission cut-off. The count is the working days after the due date
        up to and including ``now``'s local day, so a file due Friday is 1 day overdue on
        Monday, and 0 on the weekend between (no working day has been missed yet).
        Returns 0 when not overdue.
        """
        due = self.add_working_days(submitted_at, completion_days, closing_time)
        return max(0, self.working_days_between(due, self.local(now).date()))

