"""An office's booking rules (issue 6), read from ``office.settings["booking"]``.

Keys (all optional; defaults in brackets):

- ``horizon_days`` [7]: how many working days ahead can be booked, today included;
- ``opens_at`` ["07:00"]: office-local time at which the furthest day opens for booking
  (before it, the horizon ends one working day earlier): the burst of a new day comes at a
  known time, not at midnight;
- ``sessions`` [08:00-10:00, 10:00-12:00, 13:00-15:00]: the sesi of a day, each
  {"code", "start", "end"} (HH:MM, office-local);
- ``quotas`` [{}]: places per session per service code; ``default_quota`` [10] for a
  bookable service not listed; a quota of 0 makes the service not bookable;
- ``services`` [the active services of kind "application" or "activation"]: the bookable
  service codes (information desks and document pickup take walk-ins);
- ``checkin_before_min`` [30] / ``checkin_after_min`` [15]: the check-in window around
  the session start;
- ``no_show_limit`` [3] no-shows within ``no_show_days`` [30] block the confirmed
  *contact* that did not come (not the NIK: someone else may have booked in it; issue 13)
  from booking for ``no_show_block_days`` [14];
- ``max_niks_per_contact_per_day`` [2]: how many different NIKs one confirmed contact may
  hold active bookings for on one day (a family member or two; a broker needs many;
  0: no limit);
- ``code_ttl_min`` [10] / ``code_attempts`` [5]: how long the one-time code sent to the
  contact is valid, and how many wrong codes end the request;
- ``booked_ratio`` [2]: when booked (checked-in) and walk-in tickets both wait, a counter
  calls this many booked tickets, then one walk-in (0: queue order only;
  ``services.queue.calling``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ...models import Office, Service
from ..errors import ValidationError
from ..workdays import WorkCalendar

BOOKABLE_KINDS = ("application", "activation")
DEFAULT_SESSIONS = ({"code": "1", "start": "08:00", "end": "10:00"},
                    {"code": "2", "start": "10:00", "end": "12:00"},
                    {"code": "3", "start": "13:00", "end": "15:00"})


def _hhmm(value, field: str) -> time:
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(f"booking.{field}: {value!r} is not HH:MM", field=f"booking.{field}") from None


def booked_ratio(office: Office) -> int:
    """The office's ``booking.booked_ratio`` (booked tickets called per walk-in; default 2)."""
    raw = ((office.settings or {}).get("booking") or {}).get("booked_ratio", 2)
    try:
        return max(0, int(raw))
    except (TypeError, ValueError):
        raise ValidationError(f"booking.booked_ratio: {raw!r} is not a number", field="booking.booked_ratio") from None


@dataclass(frozen=True)
class Sesi:
    """One session of a booking day: ``code``, ``start`` and ``end`` (office-local)."""

    code: str
    start: time
    end: time

    def label(self) -> str:
        return f"{self.start:%H.%M}-{self.end:%H.%M}"


class BookingRules:
    """The booking rules of ``office`` (see the module docstring). Raises ValidationError
    for malformed settings."""

    def __init__(self, office: Office) -> None:
        raw = dict((office.settings or {}).get("booking") or {})
        self.office = office
        self.zone = ZoneInfo(office.timezone)
        self.calendar = WorkCalendar(office.settings, office.timezone)
        self.horizon_days = int(raw.get("horizon_days", 7))
        self.opens_at = _hhmm(raw.get("opens_at", "07:00"), "opens_at")
        self.sessions = tuple(Sesi(str(s["code"]), _hhmm(s["start"], "sessions"), _hhmm(s["end"], "sessions"))
                              for s in raw.get("sessions") or DEFAULT_SESSIONS)
        self.quotas = {str(k): int(v) for k, v in (raw.get("quotas") or {}).items()}
        self.default_quota = int(raw.get("default_quota", 10))
        self.service_codes = raw.get("services")
        self.checkin_before = timedelta(minutes=int(raw.get("checkin_before_min", 30)))
        self.checkin_after = timedelta(minutes=int(raw.get("checkin_after_min", 15)))
        self.no_show_limit = int(raw.get("no_show_limit", 3))
        self.no_show_days = int(raw.get("no_show_days", 30))
        self.no_show_block_days = int(raw.get("no_show_block_days", 14))
        self.max_niks_per_contact = int(raw.get("max_niks_per_contact_per_day", 2))
        self.code_ttl = timedelta(minutes=int(raw.get("code_ttl_min", 10)))
        self.code_attempts = max(1, int(raw.get("code_attempts", 5)))
        self.booked_ratio = booked_ratio(office)

    def bookable(self, service: Service) -> bool:
        """Whether citizens may book ``service`` (active, listed or of a bookable kind, quota > 0)."""
        if not service.active or self.quota(service) <= 0:
            return False
        if self.service_codes is not None:
            return service.code in self.service_codes
        return service.kind in BOOKABLE_KINDS

    def quota(self, service: Service) -> int:
        """Places per session for ``service``."""
        return self.quotas.get(service.code, self.default_quota)

    def sesi(self, code: str) -> Sesi:
        """The session ``code``; ValidationError when the office has none such."""
        for s in self.sessions:
            if s.code == str(code):
                return s
        raise ValidationError(key="error.booking.unknown_session", field="session")

    def at(self, day: date, t: time) -> datetime:
        """The aware moment of office-local ``t`` on ``day``."""
        return datetime.combine(day, t, self.zone)

    def days(self, now: datetime) -> list[date]:
        """The days open for booking at ``now``: working days from today, at most
        ``horizon_days`` of them, the last one only from ``opens_at``."""
        local = now.astimezone(self.zone)
        days: list[date] = []
        d = local.date()
        while len(days) < self.horizon_days:
            if self.calendar.is_working_day(d):
                days.append(d)
            d += timedelta(days=1)
        if days and local.time() < self.opens_at:
            days.pop()
        return days

    def checkin_window(self, day: date, sesi: Sesi) -> tuple[datetime, datetime]:
        """(from, until) of check-in for ``sesi`` on ``day``: start − before … start + after."""
        start = self.at(day, sesi.start)
        return start - self.checkin_before, start + self.checkin_after

    def session_open(self, day: date, sesi: Sesi, now: datetime) -> bool:
        """Whether ``sesi`` on ``day`` can still be booked at ``now`` (its check-in window has
        not ended)."""
        return now < self.checkin_window(day, sesi)[1]
