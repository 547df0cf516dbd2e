"""Due dates and overdue counts of applications, in the office's working days."""
from __future__ import annotations

from datetime import date, datetime

from ...models import Application, Office
from ..workdays import WorkCalendar


def work_calendar(office: Office) -> WorkCalendar:
    """The office's working-day calendar (its settings: closure days, extra working days)."""
    return WorkCalendar(office.settings, tz=office.timezone)


def due_date(office: Office, submitted_at: datetime, completion_days: int) -> date:
    """The date a file submitted at ``submitted_at`` is due (after closing time: next day)."""
    return work_calendar(office).add_working_days(submitted_at, completion_days, office.closing_time)


def overdue_days(office: Office, app: Application, now: datetime) -> int:
    """Working days ``app`` is past its due date: measured at ``now`` while the office is
    still working on it, at the time it became ready (or was delivered) once it has."""
    finished = app.ready_at or app.collected_at
    return work_calendar(office).overdue_working_days(
        app.submitted_at, app.completion_working_days, finished or now, office.closing_time
    )
