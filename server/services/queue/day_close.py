"""End of the office day: tickets still waiting are closed as not served."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import ACTIVE_STATUSES, Office, Ticket, TicketStatus, utcnow
from .. import audit, events
from ..actors import SYSTEM
from ..clock import past_closing, queue_day

REASON_CLOSED = "office closed: not served"


def close_day(session: Session, office: Office, *, now: datetime | None = None) -> int:
    """Close what the day left open; returns the number of tickets closed.

    Tickets of earlier days still waiting, called or serving are closed; today's waiting
    tickets too once closing time has passed (tickets at a counter then are left for the
    officer to finish). Closed tickets keep every timestamp, with status ``cancelled`` and
    ``end_reason`` "office closed: not served". Idempotent; safe from several processes.
    Numbering restarts by itself: numbers are per office-local day.
    """
    now = now or utcnow()
    today = queue_day(office, now)
    cond = [(Ticket.day < today) & Ticket.status.in_(ACTIVE_STATUSES)]
    if past_closing(office, now):
        cond.append((Ticket.day == today) & (Ticket.status == TicketStatus.WAITING.value))
    stale = session.scalars(
        select(Ticket).where(Ticket.office_id == office.id, or_(*cond)).with_for_update(skip_locked=True)
    ).all()
    for ticket in stale:
        before = ticket.status
        ticket.status = TicketStatus.CANCELLED.value
        ticket.finished_at = now
        ticket.end_reason = REASON_CLOSED
        audit.record(session, SYSTEM, "ticket.close_day", "ticket", ticket.id, office_id=office.id,
                     from_state=before, to_state=ticket.status, at=now, data={"number": ticket.display_number})
    if stale:
        events.publish_after_commit(session, events.DomainEvent(events.OFFICE_CHANGED, office.id, {"reason": "day_closed"}))
    return len(stale)
