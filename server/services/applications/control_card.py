"""The kartu kendali view: each step's time against its standard, so a manager sees where
a late file lost its time (the seeds' stated purpose of the control card)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, ApplicationStatus, ControlCardEntry, utcnow
from ..errors import NotFound
from ..queue.presenters import iso
from .deadlines import overdue_days
from .records import minutes_between, office_of
from .roles import step_roles
from .steps import standard_minutes


def _visits(entries: Sequence[ControlCardEntry]) -> dict[str | None, list[dict]]:
    """{step code: [visit]}: each line of the card is one stay in its ``from_step``; the
    stay began when the line before moved the file into that step."""
    entered: dict[str | None, datetime] = {}
    out: dict[str | None, list[dict]] = {}
    for e in entries:
        start = entered.get(e.from_step)
        if start is None and e.minutes_in_step is not None:
            start = e.at - timedelta(minutes=e.minutes_in_step)
        out.setdefault(e.from_step, []).append({
            "seq": e.seq, "action": e.action, "to_step": e.to_step, "entered_at": iso(start), "left_at": iso(e.at),
            "minutes": e.minutes_in_step, "standard_minutes": e.standard_minutes, "late": e.late,
            "actor_id": e.actor_id, "actor_role": e.actor_role, "reason": e.reason, "data": e.data,
        })
        if e.to_step:
            entered[e.to_step] = e.at
    return out


def control_card(session: Session, application_id: int, *, now: datetime | None = None) -> dict:
    """The control card of one application, for staff.

    Returns {"application": summary, "due_date", "overdue_working_days", "steps": [...],
    "current": {...} or None, "delays": [...]}. Each step has its code, names, catalog role
    and the staff role that acts on it, standard minutes, ``state`` (done, current,
    pending), its ``visits`` (one per stay: entered/left times, minutes, late, who; a
    returned file visits steps again), ``minutes`` (all stays) and ``late`` (any stay).
    ``current`` is the step the file waits at, with the time so far against the standard
    (a ready file waits for the citizen, which is never late). ``delays``: the steps over
    their standard, the largest excess first. ``overdue_working_days``: working days past
    the due date, at ``now`` or when the file became ready. Raises NotFound.
    """
    now = now or utcnow()
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(key="error.application.not_found")
    office = office_of(session, app)
    entries = session.scalars(
        select(ControlCardEntry).where(ControlCardEntry.application_id == app.id).order_by(ControlCardEntry.seq)
    ).all()
    visits, roles = _visits(entries), step_roles(office)
    current = None
    if app.step_code is not None:
        step = app.steps[app.step_index]
        so_far = minutes_between(app.step_entered_at, now)
        waits_for_citizen = app.status == ApplicationStatus.READY.value
        current = {
            "index": app.step_index, "code": step["code"], "role": step["role"], "entered_at": iso(app.step_entered_at),
            "minutes_so_far": round(so_far, 2), "standard_minutes": standard_minutes(step),
            "late": not waits_for_citizen and so_far > standard_minutes(step), "waits_for_citizen": waits_for_citizen,
        }

    steps, delays = [], []
    for i, step in enumerate(app.steps):
        stays = visits.get(step["code"], [])
        standard = standard_minutes(step)
        measured = [v["minutes"] for v in stays if v["minutes"] is not None]
        late = any(v["late"] for v in stays)
        if current and i == app.step_index:
            state = "current"
            if not current["waits_for_citizen"]:
                measured.append(current["minutes_so_far"])
                late = late or current["late"]
        else:  # a step after the current one is still to do, even if a returned file passed it before
            state = "pending" if (current and i > app.step_index) or not stays else "done"
        over = sum(max(0.0, m - standard) for m in measured)
        if over > 0:
            delays.append({"code": step["code"], "minutes_over": round(over, 2)})
        steps.append({
            "index": i, "code": step["code"], "name_id": step.get("name_id"), "name_en": step.get("name_en"),
            "role": step["role"], "staff_role": roles.get(step["role"]), "standard_minutes": standard,
            "state": state,
            "entered_at": stays[0]["entered_at"] if stays else current["entered_at"] if current and state == "current" else None,
            "left_at": stays[-1]["left_at"] if stays else None,
            "minutes": round(sum(measured), 2) if measured else None, "late": late, "visits": stays,
        })

    service = app.service
    return {
        "application": {
            "id": app.id, "resi_number": app.resi_number, "service_code": service.code,
            "service_name_id": service.name_id, "service_name_en": service.name_en,
            "applicant_name": app.applicant_name, "status": app.status, "version": app.version,
            "submitted_at": iso(app.submitted_at), "ready_at": iso(app.ready_at), "collected_at": iso(app.collected_at),
            "shelf_location": app.shelf_location, "completion_working_days": app.completion_working_days,
        },
        "due_date": app.due_date.isoformat(),
        "overdue_working_days": overdue_days(office, app, now),
        "steps": steps,
        "current": current,
        "delays": sorted(delays, key=lambda d: -d["minutes_over"]),
    }
