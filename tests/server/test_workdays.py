"""Working-day calendar (server/services/workdays.py): pure, no database.

Holiday dates are checked against the ``holidays`` package's own data, not hard-coded names.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from server.services.errors import ValidationError
from server.services.workdays import WorkCalendar, national_holidays

WIB = ZoneInfo("Asia/Jakarta")
CLOSING = time(16, 0)
PUBLIC_2026 = holidays.country_holidays("ID", years=2026)
CUTI_BERSAMA_2026 = holidays.country_holidays("ID", years=2026, categories=("government",))
INDEPENDENCE = date(2026, 8, 17)   # a Monday
ASCENSION = date(2026, 5, 14)      # a Thursday, followed by a cuti bersama Friday


def at(d: date, hh: int = 10, mm: int = 0, tz=WIB) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=tz)


def test_package_data_used_by_these_tests():
    assert INDEPENDENCE in PUBLIC_2026 and INDEPENDENCE.weekday() == 0
    assert ASCENSION in PUBLIC_2026 and ASCENSION.weekday() == 3
    assert date(2026, 5, 15) in CUTI_BERSAMA_2026 and date(2026, 5, 15) not in PUBLIC_2026
    for d in (date(2026, 8, 18), date(2026, 8, 19), date(2026, 8, 20), date(2026, 5, 18)):
        assert d not in PUBLIC_2026 and d not in CUTI_BERSAMA_2026


def test_weekends_and_public_holidays_are_not_working_days():
    cal = WorkCalendar({})
    assert cal.is_working_day(date(2026, 8, 14))          # Friday
    assert not cal.is_working_day(date(2026, 8, 15))      # Saturday
    assert not cal.is_working_day(date(2026, 8, 16))      # Sunday
    assert not cal.is_working_day(INDEPENDENCE)
    assert cal.holiday_name(INDEPENDENCE) == national_holidays(2026)[INDEPENDENCE]
    for d in PUBLIC_2026:
        assert not cal.is_working_day(d)


def test_due_date_across_a_weekend_and_a_public_holiday():
    cal = WorkCalendar({})
    # Thu 13 Aug submitted: Fri 14 (1), weekend, Mon 17 holiday, Tue 18 (2), Wed 19 (3).
    assert cal.add_working_days(at(date(2026, 8, 13)), 3, CLOSING) == date(2026, 8, 19)
    assert cal.working_days_between(date(2026, 8, 13), date(2026, 8, 19)) == 3


def test_zero_days_is_day_zero_and_negative_is_refused():
    cal = WorkCalendar({})
    assert cal.add_working_days(at(date(2026, 8, 13)), 0, CLOSING) == date(2026, 8, 13)
    assert cal.add_working_days(at(date(2026, 8, 16)), 0, CLOSING) == date(2026, 8, 18)
    with pytest.raises(ValueError):
        cal.add_working_days(at(date(2026, 8, 13)), -1)


def test_submission_after_closing_time_counts_from_the_next_working_day():
    cal = WorkCalendar({})
    before, after = at(date(2026, 8, 13), 15, 59), at(date(2026, 8, 13), 16, 0)
    assert cal.add_working_days(before, 3, CLOSING) == date(2026, 8, 19)
    assert cal.add_working_days(after, 3, CLOSING) == date(2026, 8, 20)
    assert cal.add_working_days(after, 3) == date(2026, 8, 19)  # no closing time: day counts
    # Friday evening: day 0 is Tuesday (Mon 17 is a holiday).
    assert cal.start_day(at(date(2026, 8, 14), 17), CLOSING) == date(2026, 8, 18)
    assert cal.add_working_days(at(date(2026, 8, 14), 17), 3, CLOSING) == date(2026, 8, 21)


def test_submission_on_a_non_working_day_starts_on_the_next_working_day():
    cal = WorkCalendar({})
    assert cal.start_day(at(date(2026, 8, 16)), CLOSING) == date(2026, 8, 18)
    assert cal.add_working_days(at(date(2026, 8, 16)), 1, CLOSING) == date(2026, 8, 19)


def test_time_zone_of_the_office():
    cal = WorkCalendar({})
    # 09:30 UTC is 16:30 WIB: after closing.
    utc = datetime(2026, 8, 13, 9, 30, tzinfo=timezone.utc)
    assert cal.add_working_days(utc, 3, CLOSING) == date(2026, 8, 20)
    # The same instant is 18:30 WIT in Jayapura and 08:30 local for naive input (wall time).
    assert WorkCalendar({}, tz="Asia/Jayapura").start_day(utc, CLOSING) == date(2026, 8, 14)
    assert cal.start_day(datetime(2026, 8, 13, 8, 30), CLOSING) == date(2026, 8, 13)


def test_closure_day():
    cal = WorkCalendar({"closure_days": ["2026-08-19"]})
    assert not cal.is_working_day(date(2026, 8, 19))
    assert cal.add_working_days(at(date(2026, 8, 13)), 3, CLOSING) == date(2026, 8, 20)


def test_extra_working_day():
    cal = WorkCalendar({"extra_working_days": ["2026-08-15"]})   # a Saturday service day
    assert cal.is_working_day(date(2026, 8, 15))
    assert cal.add_working_days(at(date(2026, 8, 13)), 3, CLOSING) == date(2026, 8, 18)
    # An extra working day may even fall on a public holiday.
    assert WorkCalendar({"extra_working_days": [INDEPENDENCE.isoformat()]}).is_working_day(INDEPENDENCE)


def test_cuti_bersama_is_a_working_day_unless_the_office_observes_it():
    submitted = at(date(2026, 5, 13))   # Wednesday before Ascension Day
    # Thu 14 holiday; Fri 15 cuti bersama works (1), Mon 18 (2), Tue 19 (3).
    assert WorkCalendar({}).add_working_days(submitted, 3, CLOSING) == date(2026, 5, 19)
    observing = WorkCalendar({"observe_cuti_bersama": True})
    assert not observing.is_working_day(date(2026, 5, 15))
    assert observing.holiday_name(date(2026, 5, 15)) == national_holidays(2026, "government")[date(2026, 5, 15)]
    assert observing.add_working_days(submitted, 3, CLOSING) == date(2026, 5, 20)
    for d in CUTI_BERSAMA_2026:
        assert not observing.is_working_day(d)
    # Closing on one cuti bersama day only: list it as a closure day.
    one = WorkCalendar({"closure_days": ["2026-05-15"]})
    assert one.add_working_days(submitted, 3, CLOSING) == date(2026, 5, 20)


def test_working_days_between():
    cal = WorkCalendar({})
    a, b = date(2026, 8, 13), date(2026, 8, 19)
    assert cal.working_days_between(a, b) == 3
    assert cal.working_days_between(b, a) == -3
    assert cal.working_days_between(a, a) == 0
    assert cal.working_days_between(date(2026, 8, 14), date(2026, 8, 17)) == 0
    assert cal.working_days_between(date(2025, 12, 31), date(2026, 1, 2)) == 1   # 1 Jan holiday


def test_due_date_and_between_agree():
    cal = WorkCalendar({"closure_days": ["2026-03-30"], "extra_working_days": ["2026-03-28"]})
    start = datetime(2026, 3, 1, 9, 0, tzinfo=WIB)
    for hours in range(0, 24 * 60, 7):
        t = start + timedelta(hours=hours)
        for n in range(0, 6):
            due = cal.add_working_days(t, n, CLOSING)
            assert cal.is_working_day(due)
            assert cal.working_days_between(cal.start_day(t, CLOSING), due) == n


def test_overdue_counts():
    cal = WorkCalendar({})
    submitted = at(date(2026, 8, 13))            # due Wed 19 Aug
    assert cal.overdue_working_days(submitted, 3, at(date(2026, 8, 14)), CLOSING) == 0
    assert cal.overdue_working_days(submitted, 3, at(date(2026, 8, 19), 23, 59), CLOSING) == 0
    assert cal.overdue_working_days(submitted, 3, at(date(2026, 8, 20), 0, 1), CLOSING) == 1
    assert cal.overdue_working_days(submitted, 3, at(date(2026, 8, 21)), CLOSING) == 2
    assert cal.overdue_working_days(submitted, 3, at(date(2026, 8, 22)), CLOSING) == 2   # Saturday
    assert cal.overdue_working_days(submitted, 3, at(date(2026, 8, 24)), CLOSING) == 3
    # Submitted after closing: due a day later, so one day less overdue.
    late = at(date(2026, 8, 13), 16, 30)
    assert cal.overdue_working_days(late, 3, at(date(2026, 8, 24)), CLOSING) == 2
    # A file due before a weekend + public holiday: Fri 14 due, Tue 18 is the first missed day.
    assert cal.overdue_working_days(at(date(2026, 8, 11)), 3, at(date(2026, 8, 17)), CLOSING) == 0
    assert cal.overdue_working_days(at(date(2026, 8, 11)), 3, at(date(2026, 8, 18)), CLOSING) == 1


def test_holiday_lookups_are_cached_per_year():
    national_holidays.cache_clear()
    cal = WorkCalendar({})
    for k in range(400):
        cal.is_working_day(date(2026, 1, 1) + timedelta(days=k))
    info = national_holidays.cache_info()
    assert info.misses == 2 and info.hits > 250   # 2026 and 2027 fetched once each; weekdays hit
    assert national_holidays(2026) is national_holidays(2026)
    with pytest.raises(TypeError):
        national_holidays(2026)[date(2026, 1, 2)] = "x"  # type: ignore[index]


@pytest.mark.parametrize("settings, field", [
    ({"closure_days": ["2026-02-30"]}, "closure_days"),
    ({"closure_days": "2026-02-03"}, "closure_days"),
    ({"extra_working_days": ["next saturday"]}, "extra_working_days"),
    ({"closure_days": ["2026-08-15"], "extra_working_days": ["2026-08-15"]}, "extra_working_days"),
])
def test_bad_settings_are_refused(settings, field):
    with pytest.raises(ValidationError) as err:
        WorkCalendar(settings)
    assert err.value.details["field"] == field


def test_no_settings():
    assert WorkCalendar(None).is_working_day(date(2026, 8, 18))
