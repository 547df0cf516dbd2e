"""Plain-dict views of tickets and counters for the API, screens and events.

Public shapes never hold a name or NIK (DEVELOPERS.md): only numbers, services, counters.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ...models import Call, Counter, Service, Ticket

if TYPE_CHECKING:
    from .issuing import NewTicket  # a just-inserted ticket as a plain object (the same attributes)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a "Z"-free offset, or None."""
    return value.isoformat() if value else None


def service_public(service: Service) -> dict:
    """A service as kiosks and displays see it."""
    return {
        "id": service.id,
        "code": service.code,
        "letter": service.letter,
        "name_id": service.name_id,
        "name_en": service.name_en,
        "description_id": service.description_id,
        "description_en": service.description_en,
        "requirements": service.requirements,
        "kind": service.kind,
        "counter_minutes": service.counter_minutes,
        "active": service.active,
    }


def ticket_public(ticket: Ticket | NewTicket) -> dict:
    """A ticket as public screens see it: number, service, state, counter; no personal data."""
    counter = ticket.counter
    return {
        "id": ticket.id,
        "public_id": ticket.public_id,
        "number": ticket.display_number,
        "service_id": ticket.service_id,
        "service_code": ticket.service.code,
        "service_letter": ticket.service.letter,
        "status": ticket.status,
        "priority": ticket.is_priority,
        "priority_kind": ticket.priority_kind,
        "day": ticket.day.isoformat(),
        "sort_key": ticket.sort_key,
        "eligible_after_calls": ticket.eligible_after_calls,
        "skip_count": ticket.skip_count,
        "issued_at": iso(ticket.issued_at),
        "waiting_since": iso(ticket.waiting_since),
        "called_at": iso(ticket.called_at),
        "started_at": iso(ticket.started_at),
        "finished_at": iso(ticket.finished_at),
        "counter_id": ticket.counter_id,
        "counter_number": counter.number if counter else None,
        "counter_label": counter.label if counter else None,
        "end_reason": ticket.end_reason,
        "print_status": ticket.print_status,
    }


def ticket_stream(ticket: Ticket | NewTicket) -> dict:
    """A ticket as broadcast on the office streams: the public view without ``public_id``
    (the secret in the ticket's QR link must not reach other citizens' screens)."""
    view = ticket_public(ticket)
    del view["public_id"]
    return view


def counter_public(counter: Counter, current: Ticket | None = None) -> dict:
    """A counter with its state and the ticket it is serving (number only)."""
    return {
        "id": counter.id,
        "number": counter.number,
        "label": counter.label,
        "state": counter.state,
        "pause_reason": counter.pause_reason,
        "service_ids": [s.id for s in counter.services],
        "officer_id": counter.officer_id,
        "current": (
            {"id": current.id, "number": current.display_number, "status": current.status}
            if current
            else None
        ),
    }


def call_public(call: Call) -> dict:
    """One call as the TV shows and speaks it."""
    return {
        "id": call.id,
        "ticket_id": call.ticket_id,
        "number": call.ticket.display_number,
        "service_letter": call.ticket.service.letter,
        "counter_id": call.counter_id,
        "counter_number": call.counter.number,
        "counter_label": call.counter.label,
        "kind": call.kind,
        "at": iso(call.at),
    }
