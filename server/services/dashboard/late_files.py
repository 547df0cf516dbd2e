"""Open applications against their standard times, for the dashboard (issue 7).

Two readings, both from the SOPs' service standards (seed 002, ../shared/domain.md
"Service standard times"):

- **late at its step**: the file has been in its current SOP step longer than the step's
  standard minutes (the same rule as the worklist and the kartu kendali,
  ``services.applications.control_card``); the standard is read from the file's own copy
  of its steps (``Application.steps``), so a later catalog change does not move it;
- **overdue**: the file is past its completion time in the office's working days
  (``services.workdays``: weekends, public holidays and closure days excluded).

Only files the office still has to act on count: registered, in progress or returned. A
*ready* file waits for the citizen on the shelf (never late at its step, and its overdue
count was frozen when it became ready), so it is left out; so are collected and
cancelled ones.

Cost: one query of plain columns (the current step's minutes extracted by the database
from the JSON step list, not the whole list per file) and working-day counts computed once
per submission day; bench/dashboard_snapshot.py measures it on 3000 open files.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Float, cast, func, literal, select
from sqlalchemy.orm import Session

from ...db import is_postgres
from ...models import Application, ApplicationStatus, Office, Service
from ..applications.deadlines import work_calendar

#: Statuses of files the office still works on (READY waits for the citizen).
WORKED_STATUSES = (ApplicationStatus.REGISTERED.value, ApplicationStatus.IN_PROGRESS.value,
                   ApplicationStatus.RETURNED.value)
LIST_LIMIT = 10


def _step_minutes(session: Session):
    """SQL for the standard minutes of the file's current step: ``steps[step_index].minutes``."""
    if is_postgres(session):
        return cast(Application.steps.op("->")(Application.step_index).op("->>")(literal("minutes")), Float)
    return func.json_extract(Application.steps, func.printf("$[%d].minutes", Application.step_index))


class _Deadlines:
    """Overdue working days of files, computed once per (submission day, cut-off, days)."""

    def __init__(self, office: Office, now: datetime) -> None:
        self.calendar = work_calendar(office)
        self.closing: time = office.closing_time
        self.today: date = self.calendar.local(now).date()
        self._due: dict[tuple, date] = {}
        self._over: dict[date, int] = {}

    def overdue(self, submitted_at: datetime, days: int) -> int:
        local = self.calendar.local(submitted_at)
        key = (local.date(), local.time() >= self.closing, days)
        due = self._due.get(key)
        if due is None:
            due = self._due[key] = self.calendar.add_working_days(submitted_at, days, self.closing)
        if due not in self._over:
            self._over[due] = max(0, self.calendar.working_days_between(due, self.today))
        return self._over[due]


def late_files(session: Session, office: Office, now: datetime) -> dict:
    """The office's open files against their standards at ``now`` (aware).

    Returns {"open": n, "late_steps": n, "overdue": n,
    "by_step": [{"service", "letter", "step", "name_id", "name_en", "open", "late",
    "standard_minutes"}] (steps holding files, in service and step order),
    "worst": [{"id", "resi_number", "service", "letter", "step", "name_id", "name_en",
    "minutes_in_step", "standard_minutes", "late", "overdue_working_days", "due_date"}]
    (at most LIST_LIMIT late or overdue files, most overdue first, then most over their
    step's standard)}. Step names come from the service's catalog (the file's step code),
    minutes from the file. No applicant names or NIK: the dashboard may hang on a wall.
    """
    rows = session.execute(
        select(Application.id, Application.service_id, Application.resi_number, Application.step_index,
               Application.step_code, Application.step_entered_at, Application.submitted_at,
               Application.completion_working_days, Application.due_date, _step_minutes(session))
        .where(Application.office_id == office.id, Application.status.in_(WORKED_STATUSES),
               Application.step_code.is_not(None))
        .order_by(Application.id)
    ).all()
    services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    deadlines = _Deadlines(office, now)
    steps: dict[tuple, dict] = {}
    worst, late_count, overdue_count = [], 0, 0
    for app_id, service_id, resi, index, code, entered, submitted, days, due, minutes in rows:
        service = services[service_id]
        standard = float(minutes) if minutes is not None else 0.0
        in_step = max(0.0, (now - entered).total_seconds() / 60)
        late = in_step > standard
        overdue = deadlines.overdue(submitted, days)
        late_count += late
        overdue_count += overdue > 0
        row = steps.get((service.sort_order, service.code, index, code))
        if row is None:
            named: dict = next((st for st in service.steps or [] if st.get("code") == code), {})
            row = steps[(service.sort_order, service.code, index, code)] = {
                "service": service.code, "letter": service.letter, "step": code,
                "name_id": named.get("name_id") or code, "name_en": named.get("name_en") or code,
                "open": 0, "late": 0, "standard_minutes": standard,
            }
        row["open"] += 1
        row["late"] += late
        if late or overdue:
            worst.append({
                "id": app_id, "resi_number": resi, "service": service.code, "letter": service.letter,
                "step": code, "name_id": row["name_id"], "name_en": row["name_en"],
                "minutes_in_step": round(in_step, 1), "standard_minutes": standard, "late": late,
                "overdue_working_days": overdue, "due_date": due.isoformat(),
            })
    worst.sort(key=lambda f: (-f["overdue_working_days"], -(f["minutes_in_step"] - f["standard_minutes"])))
    return {
        "open": len(rows), "late_steps": late_count, "overdue": overdue_count,
        "by_step": [steps[k] for k in sorted(steps)],
        "worst": worst[:LIST_LIMIT],
    }
