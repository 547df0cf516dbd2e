"""The managers' activation figures (issue 5, "Managers see activations per day, failures
by reason, and waiting and service time of the activation queue with the other services").

Computed from the audit log the activation counter writes (``activation.completed``,
``activation.refused``, ``activation.card_refused``, ``activation.fingerprint``,
``activation.blocked``) and from the tickets (``services.reports.period_report``).
"""
from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import AuditEntry, Office
from ..errors import ValidationError
from ..reports import period_report

ACTIONS = ("activation.completed", "activation.refused", "activation.card_refused", "activation.fingerprint",
           "activation.blocked", "activation.released")
MAX_DAYS = 366
COUNTS = ("activations", "fingerprint_failures", "blocked", "released")


@dataclass
class _Day:
    """One day's figures: ``counts`` (each of :data:`COUNTS`) and refusals by reason."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    refusals: Tally[str] = field(default_factory=Tally)


def _utc_bounds(office: Office, first: date, last: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(office.timezone)
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    return start, end


def activation_figures(session: Session, office: Office, first: date, last: date) -> dict:
    """The activation counter's figures of ``office`` from ``first`` to ``last`` (office-local
    days, both included; at most 366 days, else ValidationError), from the audit log only
    (no tickets read: the pickups report uses this part).

    Returns {"office", "from", "to", "days": [{"date", "activations", "fingerprint_failures",
    "blocked", "released", "refusals": {reason: n}}] (every day of the period, oldest
    first), "totals": same without "date", "refusals_by_reason": [{"reason", "count"}]
    (most frequent first; counter refusals and refused card taps together)}.
    """
    if last < first:
        raise ValidationError("to must not be before from", field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days", field="to")
    zone = ZoneInfo(office.timezone)
    start, end = _utc_bounds(office, first, last)
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.office_id == office.id, AuditEntry.action.in_(ACTIONS), AuditEntry.at >= start, AuditEntry.at < end,
    ).order_by(AuditEntry.id)).all()
    days = {first + timedelta(days=i): _Day() for i in range((last - first).days + 1)}
    for e in entries:
        day = days.get(e.at.astimezone(zone).date())
        if day is None:
            continue
        data = e.data or {}
        if e.action == "activation.completed":
            day.counts["activations"] += 1
        elif e.action in ("activation.refused", "activation.card_refused"):
            day.refusals[str(data.get("reason"))] += 1
        elif e.action == "activation.fingerprint" and data.get("result") == "no_match":
            day.counts["fingerprint_failures"] += 1
        elif e.action == "activation.blocked":
            day.counts["blocked"] += 1
        elif e.action == "activation.released":
            day.counts["released"] += 1
    totals: Tally[str] = Tally()
    reasons: Tally[str] = Tally()
    for row in days.values():
        for key in COUNTS:
            totals[key] += row.counts[key]
        reasons.update(row.refusals)
    return {
        "office": office.code, "from": first.isoformat(), "to": last.isoformat(),
        "days": [{"date": d.isoformat(), **row.counts, "refusals": dict(row.refusals)} for d, row in days.items()],
        "totals": {**{k: totals[k] for k in ("activations", "fingerprint_failures", "blocked", "released")},
                   "refusals": dict(reasons)},
        "refusals_by_reason": [{"reason": r, "count": n} for r, n in reasons.most_common()],
    }


def activation_queues(session: Session, office: Office, first: date, last: date) -> list[dict]:
    """``period_report`` rows of ``office``'s services from ``first`` to ``last`` (waiting
    time issue → first call and service time start → finish, in s), the activation
    services first. Reads every ticket of the period: only the activation report shows it."""
    queue = period_report(session, office, first, last)["services"]
    queue.sort(key=lambda r: r.get("kind") != "activation")
    return queue


def activation_report(session: Session, office: Office, first: date, last: date) -> dict:
    """Activations of ``office`` from ``first`` to ``last`` (office-local days, both
    included; at most 366 days, else ValidationError): :func:`activation_figures` plus
    "queue": :func:`activation_queues` (the activation services first, then the others).
    """
    report = activation_figures(session, office, first, last)
    report["queue"] = activation_queues(session, office, first, last)
    return report
