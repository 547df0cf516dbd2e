"""Which waiting ticket a counter calls next, read in one query and locked in a second.

The rules (:func:`pick_next`) need the head of up to four lines of the counter's queue:
the longest-waiting ticket past the aging limit, the first priority ticket, the first
booked and the first walk-in regular ticket. One ``UNION ALL`` of four ``LIMIT 1`` reads
returns them (:func:`_heads`); the rules choose one in Python; then that ticket alone is
loaded ``FOR UPDATE SKIP LOCKED`` while still waiting (PostgreSQL; SQLite's write lock
already serialises callers). When another counter holds or has just called it, it is left
out and the heads are read again, so two counters can never call the same ticket and
neither waits for the other.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import and_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from ...db import is_postgres
from ...models import Call, Counter, Ticket, TicketSequence, TicketStatus
from ..booking.settings import booked_ratio
from ..clock import epoch_ms, queue_day
from .rules import QueueRules

W = TicketStatus.WAITING.value
#: a ticket taken by another counter meanwhile is skipped; after this many, give up (None)
MAX_RETRIES = 20


@lru_cache(maxsize=None)
def _heads_statement():
    """The four-line read (built once; bind parameters: office_id, services (list), day,
    aged_before, skipped (list)). A ticket is callable when it waits today in one of the
    counter's services and is past its skip delay: never skipped (``eligible_after_calls``
    0), or its service has had that many calls today (read only for skipped tickets)."""
    calls_today = (select(func.coalesce(func.max(TicketSequence.call_count), 0))
                   .where(TicketSequence.office_id == Ticket.office_id, TicketSequence.service_id == Ticket.service_id,
                          TicketSequence.day == Ticket.day)
                   .scalar_subquery())
    callable_ = (
        Ticket.office_id == bindparam("office_id"),
        Ticket.service_id.in_(bindparam("services", expanding=True)),
        Ticket.day == bindparam("day"),
        Ticket.status == W,
        or_(Ticket.eligible_after_calls == 0, Ticket.eligible_after_calls <= calls_today),
        Ticket.id.not_in(bindparam("skipped", expanding=True)),
    )
    regular = Ticket.priority_kind.is_(None)
    lines = (
        ("aged", Ticket.waiting_since <= bindparam("aged_before"), (Ticket.waiting_since, Ticket.sort_key)),
        ("priority", Ticket.priority_kind.is_not(None), (Ticket.sort_key, Ticket.id)),
        ("booked", and_(regular, Ticket.channel == "booking"), (Ticket.sort_key, Ticket.id)),
        ("walkin", and_(regular, Ticket.channel != "booking"), (Ticket.sort_key, Ticket.id)),
    )
    parts = []
    for tag, extra, order in lines:
        sub = (select(literal(tag).label("line"), Ticket.id, Ticket.sort_key, Ticket.channel)
               .where(*callable_, extra).order_by(*order).limit(1).subquery())
        parts.append(select(sub))
    return union_all(*parts)


def _heads(session: Session, counter: Counter, day, rules: QueueRules, now: datetime, skipped: set[int]) -> dict:
    """{"aged"|"priority"|"booked"|"walkin": (id, sort_key, channel)} of the first ticket of
    each line (missing keys: that line is empty), in one query."""
    rows = session.execute(_heads_statement(), {
        "office_id": counter.office_id, "services": [s.id for s in counter.services if s.active], "day": day,
        "aged_before": now - timedelta(minutes=rules.aging_limit_minutes), "skipped": sorted(skipped)})
    return {line: (tid, sort_key, channel) for line, tid, sort_key, channel in rows}


def _choose(session: Session, counter: Counter, heads: dict, rules: QueueRules, now: datetime) -> int | None:
    """The id to call (see :func:`pick_next`), or None when nothing waits."""
    if "aged" in heads:
        return heads["aged"][0]
    priority = heads.get("priority")
    if priority is not None and counter.regular_since_priority >= rules.priority_regular_ratio:
        return priority[0]
    booked, walkin = heads.get("booked"), heads.get("walkin")
    first = min((h for h in (booked, walkin) if h is not None), key=lambda h: (h[1], h[0]), default=None)
    if first is None:
        return priority[0] if priority is not None else None
    ratio = booked_ratio(counter.office)
    if ratio <= 0 or booked is None or walkin is None or booked[1] > epoch_ms(now) or walkin[1] < booked[1]:
        return first[0]  # one kind waits, the slot has not begun, or the walk-in came before the slot
    recent = session.scalars(
        select(Ticket.channel).join(Call, Call.ticket_id == Ticket.id)
        .where(Call.office_id == counter.office_id, Call.counter_id == counter.id, Call.kind != "recall",
               Ticket.priority_kind.is_(None))
        .order_by(Call.id.desc()).limit(ratio)
    ).all()
    streak = len(recent) == ratio and all(ch == "booking" for ch in recent)
    return walkin[0] if streak else booked[0]


@lru_cache(maxsize=None)
def _chosen_statement(postgres: bool):
    """The chosen ticket while still waiting (bind parameter ``ticket_id``), built once:
    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's write lock serialises callers)."""
    stmt = select(Ticket).where(Ticket.id == bindparam("ticket_id"), Ticket.status == W)
    return stmt.with_for_update(skip_locked=True) if postgres else stmt


def pick_next(session: Session, counter: Counter, rules: QueueRules, now: datetime) -> Ticket | None:
    """Choose the ticket ``counter`` calls next, locking it; None when nothing is callable.

    Order: (1) a ticket waiting longer than ``aging_limit_minutes`` (longest first);
    (2) a priority ticket once the counter has called ``priority_regular_ratio`` regular
    ones since its last priority call, or when no regular ticket waits; (3) the regular
    ticket first in queue order (``sort_key``: issue time; transfers to the front sort lower;
    a checked-in booking sorts at its slot's start), but when a checked-in booking (placed
    at its slot's start) and a walk-in who came after the slot began both wait, booked
    tickets go first, ``booked_ratio`` of them (office booking setting, default 2), then one
    walk-in, so walk-ins are never starved (the streak is read from this counter's latest
    calls, so it needs no stored state, unlike ``regular_since_priority``).
    """
    day = queue_day(counter.office, now)
    skipped: set[int] = set()
    for _ in range(MAX_RETRIES):
        chosen = _choose(session, counter, _heads(session, counter, day, rules, now, skipped), rules, now)
        if chosen is None:
            return None
        ticket = session.scalars(_chosen_statement(is_postgres(session)), {"ticket_id": chosen}).first()
        if ticket is not None:
            return ticket
        skipped.add(chosen)  # another counter holds it or has just called it
    return None
