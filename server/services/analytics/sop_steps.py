"""Kartu kendali report (issue 7, "Reports"): per SOP step, the time files spent in it
against its standard minutes (mutu baku, seed 002 / the catalog), the share late, the
slowest files; and the applications overdue in working days.

Source: the kartu kendali lines (``ControlCardEntry``): each line closes one stay of a
file in ``from_step`` with ``minutes_in_step`` against ``standard_minutes`` and ``late``
(``services.applications.records``). A stay belongs to the period when its line was
written (``at``) in it; stays whose time cannot be measured (``minutes_in_step`` None,
e.g. a document waiting on the shelf for the citizen) are left out. Filters: service
(the application's), officer (who closed the stay). Minutes are minutes, percentiles
nearest-rank (``services.reports.percentile``).

Overdue (working days, ``services.applications.deadlines.overdue_days``): files of the
office submitted in the period, and files still open (registered, in progress, returned)
whatever their submission day, with the working days past their due date: at ``now``
while open, when they became ready once they have.
"""
from __future__ import annotations

from collections import Counter as Tally, defaultdict
from typing import Any
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import Application, ApplicationStatus, ControlCardEntry, Service, utcnow
from ..applications.deadlines import overdue_days
from ..reports import percentile
from .filters import ReportQuery

SLOWEST_PER_STEP = 3
SLOWEST_FILES = 10
STILL_OPEN = (ApplicationStatus.REGISTERED.value, ApplicationStatus.IN_PROGRESS.value,
              ApplicationStatus.RETURNED.value)
FINISHED = (ApplicationStatus.READY.value, ApplicationStatus.COLLECTED.value)


def _round(v):
    return None if v is None else round(v, 2)


def step_times(session: Session, q: ReportQuery) -> dict:
    """Per (service, step): {"service", "step", "name_id", "name_en", "order", "count",
    "mean_min", "p50_min", "p90_min", "max_min", "standard_min", "late", "late_share"
    (0..1), "slowest": [{"resi_number", "minutes", "standard_min", "at"}]}; and the
    slowest files over the period by minutes over standard: [{"resi_number", "service",
    "minutes", "excess_min", "late_steps"}]. Returns {"steps": [...], "slowest_files": [...]}.
    """
    start, end = q.bounds
    cond = [Application.office_id == q.office.id, ControlCardEntry.at >= start, ControlCardEntry.at < end,
            ControlCardEntry.minutes_in_step.is_not(None), ControlCardEntry.from_step.is_not(None)]
    if q.service_id is not None:
        cond.append(Application.service_id == q.service_id)
    if q.officer_id is not None:
        cond.append(ControlCardEntry.actor_id == q.officer_id)
    rows = session.execute(
        select(ControlCardEntry, Application.id, Application.resi_number, Application.steps, Service.code)
        .join(Application, Application.id == ControlCardEntry.application_id)
        .join(Service, Service.id == Application.service_id).where(*cond).order_by(ControlCardEntry.at)
    ).all()
    groups: dict[tuple, dict] = {}
    files: dict[int, dict] = {}
    for entry, app_id, resi, steps, service in rows:
        key = (service, entry.from_step)
        g = groups.get(key)
        if g is None:
            order = next((i for i, s in enumerate(steps or []) if s.get("code") == entry.from_step), 999)
            step = steps[order] if order < len(steps or []) else {}
            g = groups[key] = {"service": service, "step": entry.from_step, "name_id": step.get("name_id", ""),
                               "name_en": step.get("name_en", ""), "order": order, "minutes": [], "standards": Tally(),
                               "late": 0, "stays": []}
        minutes, standard = float(entry.minutes_in_step), entry.standard_minutes
        g["minutes"].append(minutes)
        g["standards"][standard] += 1
        g["late"] += bool(entry.late)
        g["stays"].append({"resi_number": resi, "minutes": _round(minutes), "standard_min": standard,
                           "at": entry.at.isoformat()})
        f = files.setdefault(app_id, {"resi_number": resi, "service": service, "minutes": 0.0, "excess_min": 0.0,
                                      "late_steps": 0})
        f["minutes"] += minutes
        f["excess_min"] += max(0.0, minutes - (standard or 0.0)) if standard is not None else 0.0
        f["late_steps"] += bool(entry.late)
    steps_out = []
    for g in sorted(groups.values(), key=lambda g: (g["service"], g["order"], g["step"])):
        m = g["minutes"]
        steps_out.append({
            "service": g["service"], "step": g["step"], "name_id": g["name_id"], "name_en": g["name_en"],
            "order": g["order"], "count": len(m), "mean_min": _round(sum(m) / len(m)),
            "p50_min": _round(percentile(m, 50)), "p90_min": _round(percentile(m, 90)), "max_min": _round(max(m)),
            "standard_min": g["standards"].most_common(1)[0][0], "late": g["late"],
            "late_share": round(g["late"] / len(m), 4),
            "slowest": sorted(g["stays"], key=lambda s: -s["minutes"])[:SLOWEST_PER_STEP],
        })
    slowest = sorted(files.values(), key=lambda f: (-f["excess_min"], -f["minutes"], f["resi_number"]))
    slowest = [{**f, "minutes": _round(f["minutes"]), "excess_min": _round(f["excess_min"])}
               for f in slowest[:SLOWEST_FILES] if f["excess_min"] > 0 or f["late_steps"]]
    return {"steps": steps_out, "slowest_files": slowest}


def overdue(session: Session, q: ReportQuery, now: datetime) -> dict:
    """Applications and working days overdue (see the module docstring). Returns
    {"submitted", "finished_on_time", "finished_late", "open", "open_overdue", "by_days":
    {"1", "2", "3-5", ">5"} (overdue files, open or finished), "files": [{"resi_number",
    "service", "status", "step", "submitted_at", "due_date", "overdue_working_days"}]
    (overdue ones, most overdue first)}."""
    start, end = q.bounds
    cond = [Application.office_id == q.office.id, Application.submitted_at < end,
            or_(Application.submitted_at >= start, Application.status.in_(STILL_OPEN))]
    if q.service_id is not None:
        cond.append(Application.service_id == q.service_id)
    apps = session.execute(select(Application, Service.code).join(Service, Service.id == Application.service_id)
                           .where(*cond)).all()
    out: dict[str, Any] = {"submitted": 0, "finished_on_time": 0, "finished_late": 0, "open": 0, "open_overdue": 0,
           "by_days": {"1": 0, "2": 0, "3-5": 0, ">5": 0}, "files": []}
    buckets: defaultdict[str, int] = defaultdict(int)
    for app, service in apps:
        if app.status == ApplicationStatus.CANCELLED.value:
            continue
        out["submitted"] += app.submitted_at >= start
        days = overdue_days(q.office, app, now)
        if app.status in FINISHED:
            out["finished_late" if days else "finished_on_time"] += 1
        else:
            out["open"] += 1
            out["open_overdue"] += bool(days)
        if days:
            buckets["1" if days == 1 else "2" if days == 2 else "3-5" if days <= 5 else ">5"] += 1
            out["files"].append({"resi_number": app.resi_number, "service": service, "status": app.status,
                                 "step": app.step_code, "submitted_at": app.submitted_at.isoformat(),
                                 "due_date": app.due_date.isoformat(), "overdue_working_days": days})
    out["by_days"].update(buckets)
    out["files"].sort(key=lambda f: (-f["overdue_working_days"], f["resi_number"]))
    return out


def control_card_report(session: Session, q: ReportQuery, *, now: datetime | None = None) -> dict:
    """The kartu kendali report of ``q``: {"office", "from", "to", "filters", "steps",
    "slowest_files", "overdue"} (:func:`step_times`, :func:`overdue`)."""
    now = now or utcnow()
    return {"office": q.office.code, "from": q.first.isoformat(), "to": q.last.isoformat(), "filters": q.filters(),
            **step_times(session, q), "overdue": overdue(session, q, now)}
