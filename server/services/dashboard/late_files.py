"""Open applications against their standard times, for the dashboard (issue 7).

Two readings, both from the SOPs' service standards (seed 002, ../shared/domain.md
"Service standard times"):

- **late at its step**: the file has been in its current SOP step longer than the step's
  standard minutes (the same rule as the worklist and the kartu kendali,
  ``services.applications.control_card``);
- **overdue**: the file is past its completion time in the office's working days
  (``services.workdays``: weekends, public holidays and closure days excluded).

Only files the office still has to act on count: registered, in progress or returned. A
*ready* file waits for the citizen on the shelf (never late at its step, and its overdue
count was frozen when it became ready), so it is left out; so are collected and
cancelled ones.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...models import Application, ApplicationStatus, Office
from ..applications.deadlines import work_calendar
from ..applications.records import minutes_between
from ..applications.steps import standard_minutes

#: Statuses of files the office still works on (READY waits for the citizen).
WORKED_STATUSES = (ApplicationStatus.REGISTERED.value, ApplicationStatus.IN_PROGRESS.value,
                   ApplicationStatus.RETURNED.value)
LIST_LIMIT = 10


def late_files(session: Session, office: Office, now: datetime) -> dict:
    """The office's open files against their standards at ``now`` (aware).

    Returns {"open": n, "late_steps": n, "overdue": n,
    "by_step": [{"service", "letter", "step", "name_id", "name_en", "open", "late",
    "standard_minutes"}] (steps holding files, in service and step order),
    "worst": [{"id", "resi_number", "service", "letter", "step", "name_id", "name_en",
    "minutes_in_step", "standard_minutes", "late", "overdue_working_days", "due_date"}]
    (at most LIST_LIMIT late or overdue files, most overdue first, then most over their
    step's standard)}. No applicant names or NIK: the dashboard may hang on a wall.
    """
    apps = session.scalars(
        select(Application).options(selectinload(Application.service))
        .where(Application.office_id == office.id, Application.status.in_(WORKED_STATUSES))
        .order_by(Application.id)
    ).all()
    calendar = work_calendar(office)
    steps: dict[tuple, dict] = {}
    worst, late_count, overdue_count = [], 0, 0
    for app in apps:
        step = app.current_step
        if step is None:
            continue
        standard = standard_minutes(step)
        in_step = minutes_between(app.step_entered_at, now) or 0.0
        late = in_step > standard
        overdue = calendar.overdue_working_days(app.submitted_at, app.completion_working_days, now,
                                                office.closing_time)
        late_count += late
        overdue_count += overdue > 0
        service = app.service
        row = steps.setdefault((service.sort_order, service.code, app.step_index, step["code"]), {
            "service": service.code, "letter": service.letter, "step": step["code"],
            "name_id": step.get("name_id") or step["code"], "name_en": step.get("name_en") or step["code"],
            "open": 0, "late": 0, "standard_minutes": standard,
        })
        row["open"] += 1
        row["late"] += late
        if late or overdue:
            worst.append({
                "id": app.id, "resi_number": app.resi_number, "service": service.code, "letter": service.letter,
                "step": step["code"], "name_id": row["name_id"], "name_en": row["name_en"],
                "minutes_in_step": round(in_step, 1), "standard_minutes": standard, "late": late,
                "overdue_working_days": overdue, "due_date": app.due_date.isoformat(),
            })
    worst.sort(key=lambda f: (-f["overdue_working_days"], -(f["minutes_in_step"] - f["standard_minutes"])))
    return {
        "open": len(apps), "late_steps": late_count, "overdue": overdue_count,
        "by_step": [steps[k] for k in sorted(steps)],
        "worst": worst[:LIST_LIMIT],
    }
