"""The survey tablet at a counter (device kind ``survey``).

A tablet serves the counters in its ``settings["counters"]`` (counter numbers, like a
counter printer; at least one). It learns that a ticket was finished at one of them from
the office's public stream (a ``ticket`` message with status ``done``: number, service and
counter only), then asks ``tablet_ticket`` which ticket to survey: the one finished last at
its counters within ``TABLET_WINDOW`` and not yet answered. It may answer only for such a
ticket (``tablet_submit``): a tablet cannot rate other counters' tickets or old ones.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Counter, Device, DeviceKind, Office, SurveyChannel, Ticket, TicketStatus, utcnow
from ..actors import Actor
from ..errors import Forbidden, InvalidState, NotFound
from ..queue.presenters import iso
from .responses import answered, submit_response

#: How long after the finish a tablet may still take the answers (30 minutes).
TABLET_WINDOW = timedelta(minutes=30)


class SurveyWrongCounter(Forbidden):
    """The ticket was finished at a counter this tablet does not serve."""

    code = "survey_wrong_counter"


class SurveyExpired(InvalidState):
    """The ticket was finished longer ago than ``TABLET_WINDOW``: the citizen has left."""

    code = "survey_expired"


def _device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.SURVEY.value or not device.active:
        raise Forbidden("only a survey tablet takes counter surveys")
    return device


def tablet_counters(session: Session, device: Device) -> list[Counter]:
    """The office's counters named in the tablet's ``settings["counters"]`` (by number)."""
    numbers = [n for n in (device.settings or {}).get("counters") or [] if isinstance(n, int)]
    if not numbers:
        return []
    return list(session.scalars(select(Counter).where(
        Counter.office_id == device.office_id, Counter.number.in_(numbers)).order_by(Counter.number)))


def _ticket_view(ticket: Ticket, lang: str) -> dict:
    counter = ticket.counter
    return {"id": ticket.id, "number": ticket.display_number, "service": ticket.service.name(lang),
            "counter_number": counter.number if counter else None, "counter_label": counter.label if counter else None,
            "finished_at": iso(ticket.finished_at)}


def tablet_ticket(session: Session, device_id: int, *, lang: str = "id", now: datetime | None = None) -> dict:
    """What tablet ``device_id`` shows now: {"office": {"code", "name"}, "counters": [{"number",
    "label"}], "ticket": {"id", "number", "service", "counter_number", "counter_label",
    "finished_at"} | None}. The ticket is the last one finished at its counters within
    ``TABLET_WINDOW`` without a response (None: the idle screen). Number and service only,
    never a name or NIK. Raises Forbidden for a device that is not a survey tablet."""
    now = now or utcnow()
    device = _device(session, device_id)
    office = session.get(Office, device.office_id)
    if office is None:
        raise NotFound(key="error.survey.office_not_found")
    counters = tablet_counters(session, device)
    ticket = None
    if counters:
        ticket = session.scalars(select(Ticket).where(
            Ticket.office_id == device.office_id, Ticket.status == TicketStatus.DONE.value,
            Ticket.counter_id.in_([c.id for c in counters]), Ticket.finished_at >= now - TABLET_WINDOW,
        ).order_by(Ticket.finished_at.desc(), Ticket.id.desc()).limit(1)).first()
        if ticket is not None and answered(session, ticket.id):
            ticket = None
    return {"office": {"code": office.code, "name": office.name},
            "counters": [{"number": c.number, "label": c.label} for c in counters],
            "ticket": _ticket_view(ticket, lang) if ticket else None}


def tablet_submit(session: Session, device_id: int, ticket_id, answers, comment=None, *,
                  now: datetime | None = None):
    """Store the answers tablet ``device_id`` took for ``ticket_id`` (channel "counter").

    Raises Forbidden (not a survey tablet), NotFound (no such ticket in its office),
    SurveyWrongCounter (403, another counter's ticket), SurveyExpired (409, finished more
    than ``TABLET_WINDOW`` ago), and the errors of ``submit_response`` (422 bad answers,
    409 not served / already answered). Returns the SurveyResponse.
    """
    now = now or utcnow()
    device = _device(session, device_id)
    ticket = session.get(Ticket, ticket_id) if isinstance(ticket_id, int) and not isinstance(ticket_id, bool) else None
    if ticket is None or ticket.office_id != device.office_id:
        raise NotFound(key="error.survey.ticket_not_found")
    if ticket.status == TicketStatus.DONE.value:
        if ticket.counter_id not in {c.id for c in tablet_counters(session, device)}:
            raise SurveyWrongCounter(key="error.survey.wrong_counter")
        if ticket.finished_at is None or ticket.finished_at < now - TABLET_WINDOW:
            raise SurveyExpired(key="error.survey.expired")
    actor = Actor("device", device.id, office_id=device.office_id, device_kind=device.kind)
    return submit_response(session, ticket, answers, comment, channel=SurveyChannel.COUNTER.value, actor=actor,
                           device_id=device.id, now=now)
