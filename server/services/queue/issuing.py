"""Issuing and cancelling tickets."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..booking import daily
from ...models import Office, PriorityKind, Service, Ticket, TicketStatus, utcnow
from .. import audit, events
from ..actors import Actor
from ..clock import epoch_ms, is_open, queue_day
from ..errors import InvalidState, NotFound, OfficeClosed, ServiceUnavailable, ValidationError
from .locking import next_number
from .presenters import ticket_stream
from .rules import QueueRules

CHANNELS = ("kiosk", "web", "staff", "booking")


def format_number(letter: str, number: int) -> str:
    """The citizen-facing number: service letter + at least 3 digits (A001 ... A999, A1000)."""
    return f"{letter}{number:03d}"


def issue_ticket(
    session: Session,
    office: Office,
    service_code: str,
    *,
    actor: Actor,
    priority_kind: str | None = None,
    channel: str = "kiosk",
    request_id: str | None = None,
    device_id: int | None = None,
    sort_key: int | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Give the next number of ``service_code`` today and put the ticket in the queue.

    ``device_id``: the kiosk issuing it (its printer prints and reprints the ticket).
    ``request_id`` (1-64 chars, optional) makes the call idempotent: a repeated request
    with the same id (a double tap, a retry after a lost answer) returns the ticket already
    issued instead of a second one (see :func:`find_by_request`).

    The number is the service letter plus the day's counter for that service and office,
    taken with one atomic upsert (row lock on PostgreSQL, write lock on SQLite), so it is
    never duplicated however many processes issue at once.

    ``priority_kind``: None or one of :class:`PriorityKind` values (lansia, disabilitas,
    ibu_hamil). ``channel``: kiosk, web, staff or booking. ``sort_key``: the ticket's
    place in queue order (epoch ms; default: now): a booking checked in is placed by its
    slot's start (``services.booking.checkin``).
    Raises NotFound (unknown service), ServiceUnavailable (inactive), OfficeClosed (outside
    opening hours when the office enforces them), ValidationError (bad priority/channel),
    ServiceFullToday (the office's daily quota of the service is used up:
    ``services.booking.daily``).
    """
    now = now or utcnow()
    if request_id is not None:
        if not (1 <= len(request_id) <= 64):
            raise ValidationError("request_id must have 1-64 characters", field="request_id")
        existing = find_by_request(session, office.id, request_id)
        if existing is not None:
            return existing
    if priority_kind is not None and priority_kind not in {p.value for p in PriorityKind}:
        raise ValidationError(f"unknown priority kind {priority_kind!r}", field="priority_kind")
    if channel not in CHANNELS:
        raise ValidationError(f"unknown channel {channel!r}", field="channel")
    service = session.scalars(
        select(Service).where(Service.office_id == office.id, Service.code == service_code)
    ).first()
    if service is None:
        raise NotFound(f"service {service_code!r} not found", field="service")
    if not service.active:
        raise ServiceUnavailable(f"service {service_code!r} is not available")
    if QueueRules.for_office(office).enforce_hours and not is_open(office, now):
        raise OfficeClosed("the office is closed")

    day = queue_day(office, now)
    if channel != "booking":  # a booking took its place in the daily quota when it was made
        daily.take(session, office, service, day)
    number = next_number(session, office.id, service.id, day)
    ticket = Ticket(
        public_id=secrets.token_urlsafe(12),
        office_id=office.id,
        service_id=service.id,
        service=service,
        day=day,
        number=number,
        display_number=format_number(service.letter, number),
        status=TicketStatus.WAITING.value,
        priority_kind=priority_kind,
        channel=channel,
        sort_key=epoch_ms(now) if sort_key is None else int(sort_key),
        issued_at=now,
        waiting_since=now,
        request_id=request_id,
        device_id=device_id,
    )
    session.add(ticket)
    session.flush()
    audit.record(
        session, actor, "ticket.issue", "ticket", ticket.id, office_id=office.id,
        to_state=ticket.status, at=now,
        data={"number": ticket.display_number, "service": service.code, "priority": priority_kind, "channel": channel},
    )
    events.publish_after_commit(
        session, events.DomainEvent(events.TICKET_ISSUED, office.id, {"ticket": ticket_stream(ticket)})
    )
    return ticket


def find_by_request(session: Session, office_id: int, request_id: str) -> Ticket | None:
    """The ticket issued earlier for ``request_id`` in this office, or None."""
    return session.scalars(
        select(Ticket).where(Ticket.office_id == office_id, Ticket.request_id == request_id)
    ).first()


def cancel_ticket(
    session: Session, ticket_id: int, *, actor: Actor, reason: str = "cancelled", now: datetime | None = None
) -> Ticket:
    """Cancel a waiting ticket (citizen left, issued by mistake). Raises NotFound, InvalidState."""
    now = now or utcnow()
    ticket = session.get(Ticket, ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound("ticket not found")
    if ticket.status != TicketStatus.WAITING.value:
        raise InvalidState(f"ticket is {ticket.status}, only a waiting ticket can be cancelled")
    ticket.status = TicketStatus.CANCELLED.value
    ticket.finished_at = now
    ticket.end_reason = reason
    audit.record(session, actor, "ticket.cancel", "ticket", ticket.id, office_id=ticket.office_id,
                 from_state="waiting", to_state=ticket.status, data={"reason": reason}, at=now)
    events.publish_after_commit(
        session, events.DomainEvent(events.TICKET_CHANGED, ticket.office_id, {"ticket": ticket_stream(ticket)})
    )
    return ticket
