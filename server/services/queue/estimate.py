"""Estimated waiting time per ticket, from the live service rate of the counters.

wait_s = people_ahead × mean service seconds ÷ effective counters (README, "How the queue
works"). Two parts with different needs:

- ``people_ahead`` is exact: counted in the database at the moment of asking
  (:func:`count_ahead`, one statement built once with bind parameters).
- the per-service figures (mean service seconds of the last ``estimate_window`` tickets
  served today, effective counters) move slowly. :func:`service_figures` reads them (3
  statements); :class:`FiguresCache` keeps them per worker process for ``FIGURES_TTL_S``
  seconds (5), so issuing a ticket does not read them again on every tap. The cache is not
  emptied by commits: for up to 5 s after a counter opens, pauses or closes, or a ticket is
  finished, an estimate may use the figures from before. The estimate is a guide shown to
  citizens (rounded to minutes by the screens), so that is acceptable; the people ahead
  are never cached.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.orm import Session

from ...models import Counter, CounterState, Service, Ticket, TicketStatus, counter_services, utcnow
from .rules import QueueRules

if TYPE_CHECKING:
    from .issuing import NewTicket  # a just-inserted ticket as a plain object (the same attributes)

#: seconds the per-service figures of :class:`FiguresCache` are reused in one worker
FIGURES_TTL_S = 5.0
TICKETS = Ticket.__table__


@dataclass(frozen=True)
class Estimate:
    """``people_ahead`` (tickets), ``wait_s`` (seconds, None when no counter serves the
    service), ``service_s`` (mean service seconds used), ``counters`` (effective counters)."""

    people_ahead: int
    wait_s: float | None
    service_s: float
    counters: float


@dataclass(frozen=True)
class Figures:
    """A service's rate today: ``service_s`` (mean start→finish seconds) and ``counters``
    (effective counters working on it, 0.0 when none is configured)."""

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
    width: dict[int, int] = dict(session.execute(
        select(counter_services.c.counter_id, func.count())
        .where(counter_services.c.counter_id.in_([cid for cid, _ in serving]))
        .group_by(counter_services.c.counter_id)
    ).all())
    working = [cid for cid, state in serving if state in (CounterState.OPEN.value, CounterState.PAUSED.value)]
    chosen = working or [cid for cid, _ in serving]
    return sum(1.0 / max(1, width.get(cid, 1)) for cid in chosen), bool(working)


def service_figures(session: Session, service: Service, day: date, window: int) -> Figures:
    """The service's figures now (3 statements): :func:`mean_service_seconds` over the last
    ``window`` tickets done on ``day`` and :func:`effective_counters`. ``service`` may be a
    detached row (only ``id`` and ``counter_minutes`` are read)."""
    counters, _live = effective_counters(session, service)
    return Figures(mean_service_seconds(session, service, day, window), counters)


def from_figures(people_ahead: int, figures: Figures) -> Estimate:
    """The estimate for ``people_ahead`` tickets at the service's ``figures``."""
    if figures.counters <= 0:
        return Estimate(people_ahead, None, figures.service_s, 0.0)
    return Estimate(people_ahead, people_ahead * figures.service_s / figures.counters,
                    figures.service_s, figures.counters)


class FiguresCache:
    """Per-process :class:`Figures` by (service id, day, window), each reused for
    ``ttl_s`` seconds (default :data:`FIGURES_TTL_S`; the module docstring says what that
    costs). One per app (``server.api.tickets``); ``clock`` is monotonic seconds."""

    def __init__(self, ttl_s: float = FIGURES_TTL_S, clock=time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[tuple[int, date, int], tuple[float, Figures]] = {}

    def get(self, session: Session, service: Service, day: date, window: int) -> Figures:
        """The figures of ``service`` on ``day``: cached, or read in ``session`` (3 statements)."""
        key, now = (service.id, day, window), self._clock()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        figures = service_figures(session, service, day, window)
        if len(self._entries) > 1000:
            self._entries.clear()
        self._entries[key] = (now + self._ttl_s, figures)
        return figures

    def clear(self) -> None:
        """Forget every service's figures."""
        self._entries.clear()


def ahead_query():
    """SELECT count(*) of the waiting tickets of a service and day that sort before a
    ticket: bind parameters ``office_id``, ``service_id``, ``day`` (date), ``sort_key``
    (epoch ms). Shared by :func:`count_ahead` and the issue look-up
    (``issuing.look_ahead``), so both count the same tickets."""
    t = TICKETS
    return select(func.count()).select_from(t).where(
        t.c.office_id == bindparam("office_id"), t.c.service_id == bindparam("service_id"),
        t.c.day == bindparam("day"), t.c.status == literal(TicketStatus.WAITING.value),
        t.c.sort_key < bindparam("sort_key"))


@lru_cache(maxsize=None)
def _ahead_stmt():
    """:func:`ahead_query`, built once (the same statement on every dialect)."""
    return ahead_query()


def count_ahead(session: Session, office_id: int, service_id: int, day: date, sort_key: int) -> int:
    """Waiting tickets of the service and day that sort before ``sort_key``: people ahead."""
    return session.connection().execute(_ahead_stmt(), {
        "office_id": office_id, "service_id": service_id, "day": day, "sort_key": sort_key}).scalar() or 0


def estimate_wait(session: Session, ticket: Ticket | NewTicket, now: datetime | None = None) -> Estimate:
    """Estimate how long ``ticket`` still waits (exact: nothing cached).

    wait_s = people_ahead × mean service seconds of its service ÷ effective counters, where
    people_ahead counts waiting tickets of the same service and day that sort before it
    (priority interleaving and skips make the real order differ a little; the figure is a
    guide shown to citizens, rounded by the screens). A ticket no longer waiting gets 0.
    """
    now = now or utcnow()
    if ticket.status != TicketStatus.WAITING.value:
        return Estimate(0, 0.0, 0.0, 0.0)
    rules = QueueRules.for_office(ticket.service.office)
    session.flush()  # count what this transaction changed (an ORM query would autoflush)
    ahead = count_ahead(session, ticket.office_id, ticket.service_id, ticket.day, ticket.sort_key)
    return from_figures(ahead, service_figures(session, ticket.service, ticket.day, rules.estimate_window))
