"""The managers' AKAPELA report for a period (issue 7: "Report per period: counts by kind
and outcome, resolution times").

Contacts registered from ``first`` to ``last`` (office-local days, both included), counted
by kind, channel and outcome (where a closed contact was resolved; "open" while it is not
closed), and the time to first answer (registration → first answer given to the citizen)
and to resolution (registration → closing answer), in seconds: count, mean, median, max,
over the contacts that reached that point. Computed in Python from the rows (an office
registers tens of contacts a day, not thousands).
"""
from __future__ import annotations

import statistics
from collections import Counter as Tally
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Complaint, Office
from ..errors import ValidationError
from .registration import CHANNELS, KINDS
from .stages import OUTCOMES

MAX_DAYS = 366
OPEN_OUTCOME = "open"


def period_bounds(office: Office, first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) in aware datetimes of office-local midnight of ``first`` and of the day
    after ``last``. Raises ValidationError when ``last`` < ``first`` or over 366 days."""
    if last < first:
        raise ValidationError(key="error.complaint.period_reversed", field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(key="error.complaint.period_too_long", params={"days": MAX_DAYS}, field="to")
    zone = ZoneInfo(office.timezone)
    return datetime.combine(first, time.min, zone), datetime.combine(last + timedelta(days=1), time.min, zone)


def durations(values: list[float]) -> dict:
    """{"count", "mean_s", "median_s", "max_s"} of ``values`` (seconds; None when empty),
    rounded to 0.1 s."""
    if not values:
        return {"count": 0, "mean_s": None, "median_s": None, "max_s": None}
    return {"count": len(values), "mean_s": round(statistics.fmean(values), 1),
            "median_s": round(statistics.median(values), 1), "max_s": round(max(values), 1)}


def _figures(rows: list[Complaint]) -> dict:
    first = [(c.first_answer_at - c.created_at).total_seconds() for c in rows if c.first_answer_at]
    done = [(c.closed_at - c.created_at).total_seconds() for c in rows if c.closed_at]
    return {"contacts": len(rows), "closed": len(done), "first_answer": durations(first),
            "resolution": durations(done)}


def complaint_report(session: Session, office: Office, first: date, last: date) -> dict:
    """AKAPELA contacts of ``office`` registered from ``first`` to ``last``.

    Returns {"office": {"code", "name"}, "from", "to", "totals": {"contacts", "closed",
    "open", "first_answer": durations, "resolution": durations}, "by_kind": {kind: n},
    "by_channel": {channel: n}, "by_outcome": {outcome: n, "open": n}, "kinds": {kind:
    {"contacts", "closed", "first_answer", "resolution", "by_outcome"}}} with every kind,
    channel and outcome present (0 when none). Raises ValidationError (see
    :func:`period_bounds`).
    """
    start, end = period_bounds(office, first, last)
    rows = list(session.scalars(select(Complaint).where(
        Complaint.office_id == office.id, Complaint.created_at >= start, Complaint.created_at < end,
    ).order_by(Complaint.id)))

    def outcome(c: Complaint) -> str | None:  # a closed contact has its outcome
        return c.outcome if c.closed_at else OPEN_OUTCOME

    outcomes = (*OUTCOMES, OPEN_OUTCOME)
    totals = _figures(rows)
    totals["open"] = totals["contacts"] - totals["closed"]
    kinds = {}
    for kind in KINDS:
        of_kind = [c for c in rows if c.kind == kind]
        tally = Tally(outcome(c) for c in of_kind)
        kinds[kind] = {**_figures(of_kind), "by_outcome": {o: tally[o] for o in outcomes}}
    by_kind, by_channel, by_outcome = (Tally(c.kind for c in rows), Tally(c.channel for c in rows),
                                       Tally(outcome(c) for c in rows))
    return {
        "office": {"code": office.code, "name": office.name}, "from": first.isoformat(), "to": last.isoformat(),
        "totals": totals,
        "by_kind": {k: by_kind[k] for k in KINDS},
        "by_channel": {ch: by_channel[ch] for ch in CHANNELS},
        "by_outcome": {o: by_outcome[o] for o in outcomes},
        "kinds": kinds,
    }
