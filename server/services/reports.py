"""The day report: tickets issued, served, no-show; waiting and service time percentiles."""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Office, Service, Ticket, TicketStatus


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of ``values``; None for an empty list."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _stats(values: list[float]) -> dict:
    return {
        "count": len(values),
        "mean_s": round(sum(values) / len(values), 1) if values else None,
        "p50_s": percentile(values, 50),
        "p90_s": percentile(values, 90),
        "max_s": max(values) if values else None,
    }


def day_report(session: Session, office: Office, day: date) -> dict:
    """:func:`period_report` of one office-local ``day``, as {"office", "day", "total",
    "services"}."""
    report = period_report(session, office, day, day)
    return {"office": report["office"], "day": day.isoformat(), "total": report["total"],
            "services": report["services"]}


def period_report(session: Session, office: Office, first: date, last: date) -> dict:
    """Per service and in total for ``office`` from ``first`` to ``last`` (office-local
    queue days, both included):

    issued (tickets, transfers excluded), served (done), no_show, cancelled (incl. closed
    unserved), transferred, ``wait_time`` (issue → first call, s) and ``service_time``
    (start → finish of done tickets, s) as {count, mean_s, p50_s, p90_s, max_s}; each
    service row also names its ``service`` code and ``letter``.
    """
    services = {s.id: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
    tickets = session.scalars(select(Ticket).where(Ticket.office_id == office.id, Ticket.day >= first,
                                                   Ticket.day <= last)).all()
    rows: dict[int, list[Ticket]] = {}
    for t in tickets:
        rows.setdefault(t.service_id, []).append(t)

    def summarize(ts: Sequence[Ticket]) -> dict:
        waits = [(t.first_called_at - t.issued_at).total_seconds()
                 for t in ts if t.first_called_at and t.transfer_seq == 0]
        services_s = [(t.finished_at - t.started_at).total_seconds()
                      for t in ts if t.status == TicketStatus.DONE.value and t.started_at and t.finished_at]
        count = lambda st: sum(1 for t in ts if t.status == st)  # noqa: E731
        return {
            "issued": sum(1 for t in ts if t.transfer_seq == 0),
            "served": count(TicketStatus.DONE.value),
            "no_show": count(TicketStatus.NO_SHOW.value),
            "cancelled": count(TicketStatus.CANCELLED.value),
            "transferred": count(TicketStatus.TRANSFERRED.value),
            "waiting": count(TicketStatus.WAITING.value),
            "priority": sum(1 for t in ts if t.priority_kind and t.transfer_seq == 0),
            "wait_time": _stats(waits),
            "service_time": _stats(services_s),
        }

    per_service = []
    for sid, svc in sorted(services.items(), key=lambda kv: kv[1].sort_order):
        if sid in rows:
            per_service.append({"service": svc.code, "letter": svc.letter, "name_id": svc.name_id, "kind": svc.kind,
                                **summarize(rows[sid])})
    return {"office": office.code, "from": first.isoformat(), "to": last.isoformat(), "total": summarize(tickets),
            "services": per_service}
