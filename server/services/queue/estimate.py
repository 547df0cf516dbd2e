"""Estimated waiting time per ticket, from the live service rate of the counters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Counter, CounterState, Service, Ticket, TicketStatus, counter_services, utcnow
from .rules import QueueRules


@dataclass(frozen=True)
class Estimate:
    """``people_ahead`` (tickets), ``wait_s`` (seconds, None when no counter serves the
    service), ``service_s`` (mean service seconds used), ``counters`` (effective counters)."""

    people_ahead: int
    wait_s: float | None
    service_s: float
    counters: float


def mean_service_seconds(session: Session, service: Service, day, window: int) -> float:
    """Mean start→finish seconds of the last ``window`` tickets of ``service`` done today;
    the catalog's ``counter_minutes`` (standard time) until one has been served."""
    rows = session.execute(
        select(Ticket.started_at, Ticket.finished_at)
        .where(Ticket.service_id == service.id, Ticket.day == day,
               Ticket.status == TicketStatus.DONE.value, Ticket.started_at.is_not(None))
        .order_by(Ticket.finished_at.desc()).limit(window)
    ).all()
    spans = [(f - s).total_seconds() for s, f in rows if f and s and f >= s]
    return sum(spans) / len(spans) if spans else service.counter_minutes * 60.0


def effective_counters(session: Session, service: Service) -> tuple[float, bool]:
    """Counters working on ``service``, each counted as 1/(number of services it serves).

    Returns (count, live): open and paused counters when any exist (live=True); otherwise
    every counter configured for the service (live=False), assuming they will open.
    Two queries whatever the number of counters.
    """
    serving = session.execute(
        select(Counter.id, Counter.state)
        .join(counter_services, counter_services.c.counter_id == Counter.id)
        .where(counter_services.c.service_id == service.id)
    ).all()
    if not serving:
        return 0.0, False
    width = dict(session.execute(
        select(counter_services.c.counter_id, func.count())
        .where(counter_services.c.counter_id.in_([cid for cid, _ in serving]))
        .group_by(counter_services.c.counter_id)
    ).all())
    working = [cid for cid, state in serving if state in (CounterState.OPEN.value, CounterState.PAUSED.value)]
    chosen = working or [cid for cid, _ in serving]
    return sum(1.0 / max(1, width.get(cid, 1)) for cid in chosen), bool(working)


def estimate_wait(session: Session, ticket: Ticket, now: datetime | None = None) -> Estimate:
    """Estimate how long ``ticket`` still waits.

    wait_s = people_ahead × mean service seconds of its service ÷ effective counters, where
    people_ahead counts waiting tickets of the same service and day that sort before it
    (priority interleaving and skips make the real order differ a little; the figure is a
    guide shown to citizens, rounded by the screens). A ticket no longer waiting gets 0.
    """
    now = now or utcnow()
    if ticket.status != TicketStatus.WAITING.value:
        return Estimate(0, 0.0, 0.0, 0.0)
    rules = QueueRules.for_office(ticket.service.office)
    ahead = session.scalar(
        select(func.count()).select_from(Ticket).where(
            Ticket.office_id == ticket.office_id, Ticket.service_id == ticket.service_id,
            Ticket.day == ticket.day, Ticket.status == TicketStatus.WAITING.value,
            Ticket.sort_key < ticket.sort_key,
        )
    ) or 0
    service_s = mean_service_seconds(session, ticket.service, ticket.day, rules.estimate_window)
    counters, _live = effective_counters(session, ticket.service)
    if counters <= 0:
        return Estimate(ahead, None, service_s, 0.0)
    return Estimate(ahead, ahead * service_s / counters, service_s, counters)
