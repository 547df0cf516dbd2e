"""End of the office day: tickets still waiting are closed as not served.

The rules, run by the scheduler (``server.scheduler``) every ``DAY_CLOSE_CHECK_S`` seconds
for each office in its own transaction:

1. **Waiting tickets** of today are closed once the office is past closing time, and
   those of an earlier day always: their queue is over (numbers restart each day and
   ``call_next`` only calls today's tickets). An office closing at 23:59 is never past
   closing (``services.clock``), so its waiting tickets close just after midnight.
2. **A ticket at a counter** (``called`` or ``serving``) is left for its officer to finish,
   also across office-local midnight: the citizen is standing at the counter, and closing
   the ticket under the officer would turn a service into "not served" and make the
   officer's finish fail. Finish, start, recall and "finish and call next" work after
   midnight as before (they find the counter's ticket by counter, whatever its day; the
   next ticket called is today's). A skip sends it back to its own day's queue, which is
   over, so the next check closes it (rule 1); a transfer is refused (``calling.transfer``).
3. **An earlier day's ticket still at a counter** is closed all the same when nobody will
   finish it: its counter was closed or has no officer (only the counter's officer may
   finish it, ``access.counter_for_action``), or nothing has happened to it (call, recall,
   start) for ``AT_COUNTER_GRACE`` (4 h), far longer than any service. So a ticket left
   called when the officer went home stops holding the counter by the next morning (a
   16:00 office: at the first check after midnight), and a ticket served across midnight
   in an office open until 23:59 is not touched while it is being served.

Closed tickets keep every timestamp, with status ``cancelled``, ``finished_at`` = now and
``end_reason`` :data:`REASON_CLOSED` (rule 1) or :data:`REASON_NOT_FINISHED` (rule 3);
each gets a ``ticket.close_day`` audit row in the same transaction. Idempotent, and safe
from several processes at once (rows are read ``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ...models import AT_COUNTER_STATUSES, Counter, CounterState, Office, Ticket, TicketStatus, utcnow
from .. import audit, events
from ..actors import SYSTEM
from ..clock import past_closing, queue_day

REASON_CLOSED = "office closed: not served"
REASON_NOT_FINISHED = "office closed: left at the counter, not finished"
#: An earlier day's ticket at a counter is closed after this long without a call or start.
AT_COUNTER_GRACE = timedelta(hours=4)


def close_day(session: Session, office: Office, *, now: datetime | None = None) -> int:
    """Close what the office's days left open (rules in the module docstring), in the
    caller's transaction; ``now``: aware datetime (default: the clock).

    Returns the number of tickets closed. Raises ``ZoneInfoNotFoundError`` when the office's
    time zone is unknown (the scheduler logs it and goes on with the other offices).
    """
    now = now or utcnow()
    today = queue_day(office, now)
    earlier = Ticket.day < today
    waiting = Ticket.status == TicketStatus.WAITING.value
    unattended_counters = select(Counter.id).where(
        Counter.office_id == office.id,
        or_(Counter.state == CounterState.CLOSED.value, Counter.officer_id.is_(None)),
    )
    last_activity = func.coalesce(Ticket.started_at, Ticket.called_at, Ticket.issued_at)
    left_at_counter = earlier & Ticket.status.in_(AT_COUNTER_STATUSES) & or_(
        Ticket.counter_id.is_(None), Ticket.counter_id.in_(unattended_counters), last_activity <= now - AT_COUNTER_GRACE,
    )
    cond = [earlier & waiting, left_at_counter]
    if past_closing(office, now):
        cond.append((Ticket.day == today) & waiting)
    stale = session.scalars(
        select(Ticket).where(Ticket.office_id == office.id, or_(*cond)).order_by(Ticket.id)
        .with_for_update(skip_locked=True)
    ).all()
    for ticket in stale:
        before = ticket.status
        ticket.status = TicketStatus.CANCELLED.value
        ticket.finished_at = now
        ticket.end_reason = REASON_CLOSED if before == TicketStatus.WAITING.value else REASON_NOT_FINISHED
        audit.record(session, SYSTEM, "ticket.close_day", "ticket", ticket.id, office_id=office.id,
                     from_state=before, to_state=ticket.status, at=now, data={"number": ticket.display_number})
    if stale:
        events.publish_after_commit(session, events.DomainEvent(events.OFFICE_CHANGED, office.id, {"reason": "day_closed"}))
    return len(stale)
