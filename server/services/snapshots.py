"""Full-state snapshots each kind of screen loads on connect, reconnect or after a gap.

Every snapshot is a dict without personal data: numbers, services, counters, calls.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..models import AT_COUNTER_STATUSES, Call, Counter, Device, Office, Ticket, TicketStatus, utcnow
from .clock import queue_day
from .queue.estimate import estimate_wait
from .booking import daily
from .queue.presenters import call_public, counter_public, service_public, ticket_public, ticket_stream

LAST_CALLS = 10
#: at most this many calls in a full state, however many the speaking window holds
MAX_CALLS = 100
#: seconds: a TV speaks a call it has not spoken yet only while it is this fresh
#: (office setting ``display.speak_window_s``; drivers/stream/announcer.py)
SPEAK_WINDOW_S = 120


def speak_window_s(office: Office) -> float:
    """The office's speaking window in seconds (``settings["display"]["speak_window_s"]``,
    default :data:`SPEAK_WINDOW_S`; a bad value falls back to the default)."""
    value = ((office.settings or {}).get("display") or {}).get("speak_window_s", SPEAK_WINDOW_S)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 \
        else float(SPEAK_WINDOW_S)


def office_public(office: Office) -> dict:
    """Office header for screens: code, name, running text, hours, time zone."""
    return {
        "id": office.id,
        "code": office.code,
        "name": office.name,
        "address": office.address,
        "running_text": office.running_text,
        "timezone": office.timezone,
        "opening_time": office.opening_time.strftime("%H:%M"),
        "closing_time": office.closing_time.strftime("%H:%M"),
        "speak_window_s": speak_window_s(office),
    }


def _counters(session: Session, office: Office) -> list[dict]:
    current = {
        t.counter_id: t
        for t in session.scalars(
            select(Ticket).where(Ticket.office_id == office.id, Ticket.status.in_(AT_COUNTER_STATUSES))
        )
    }
    counters = session.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))
    return [counter_public(c, current.get(c.id)) for c in counters]


def _waiting(session: Session, office: Office, day) -> list[dict]:
    tickets = session.scalars(
        select(Ticket).where(
            Ticket.office_id == office.id, Ticket.day == day, Ticket.status == TicketStatus.WAITING.value
        ).order_by(Ticket.sort_key)
    )
    return [ticket_stream(t) for t in tickets]


def _last_calls(session: Session, office: Office, day, now: datetime) -> list[dict]:
    """Today's calls (office-local day), newest first: the last :data:`LAST_CALLS`, and every
    call of the speaking window (a TV speaks those it has not spoken yet), at most
    :data:`MAX_CALLS`. Yesterday's never show."""
    since = now - timedelta(seconds=speak_window_s(office))
    stmt = (
        select(Call).join(Ticket, Ticket.id == Call.ticket_id)
        .where(Call.office_id == office.id, Ticket.day == day)
        .order_by(Call.id.desc()).limit(MAX_CALLS)
        .options(joinedload(Call.ticket).joinedload(Ticket.service), joinedload(Call.counter))
    )
    calls: list[dict] = []
    for call in session.scalars(stmt):
        if len(calls) >= LAST_CALLS and call.at < since:
            break
        calls.append(call_public(call))
    return calls


def office_snapshot(session: Session, office: Office, audience: str, now: datetime | None = None) -> dict:
    """The full state for ``audience`` (display, kiosk, public or counter) of ``office``.

    Shape: {"office", "services", "counters", "waiting": [ticket], "calls": [call, newest
    first], "server_time"}. Displays get no waiting list (they show calls and counters);
    kiosks and consoles also get "devices" and "full_today" (service codes whose daily
    quota is used up, ``booking.daily``).
    """
    now = now or utcnow()
    day = queue_day(office, now)
    snap = {
        "audience": audience,
        "office": office_public(office),
        "services": [service_public(s) for s in office.services if s.active],
        "counters": _counters(session, office),
        "calls": _last_calls(session, office, day, now),
        "server_time": now.isoformat(),
        "day": day.isoformat(),
    }
    if audience != "display":
        snap["waiting"] = _waiting(session, office, day)
    if audience in ("counter", "kiosk"):  # staff see every station; a kiosk its printer state
        snap["devices"] = _devices(session, office, None if audience == "counter" else "kiosk")
        snap["full_today"] = daily.full_services(session, office, day)  # daily quotas used up
    return snap


def _devices(session: Session, office: Office, kind: str | None) -> list[dict]:
    from .devices import device_public

    stmt = select(Device).where(Device.office_id == office.id, Device.active.is_(True)).order_by(Device.kind, Device.name)
    if kind:
        stmt = stmt.where(Device.kind == kind)
    return [device_public(d) for d in session.scalars(stmt)]


def follow_transfers(session: Session, ticket: Ticket) -> Ticket:
    """The ticket a citizen's number lives on now (after transfers to other services)."""
    seen = 0
    while ticket.status == TicketStatus.TRANSFERRED.value and seen < 20:
        nxt = session.scalars(select(Ticket).where(Ticket.transferred_from_id == ticket.id)).first()
        if nxt is None:
            break
        ticket, seen = nxt, seen + 1
    return ticket


def ticket_status(session: Session, ticket: Ticket, now: datetime | None = None, estimate=None,
                  office: Office | None = None) -> dict:
    """A citizen's ticket with position and estimate: the public ticket status page's data.

    ``estimate``: an :class:`Estimate` of ``ticket`` the caller already computed (then no
    query is made for a waiting ticket). ``office``: the ticket's office when the caller
    has it (default ``ticket.service.office``; the kiosk issue passes its cached row).

    Adds {"people_ahead": int, "estimated_wait_s": int|None (seconds, rounded),
    "service": {...}, "office": {...}} to the ticket's public view.
    """
    ticket = follow_transfers(session, ticket)
    est = estimate or estimate_wait(session, ticket, now)
    return {
        **ticket_public(ticket),
        "people_ahead": est.people_ahead,
        "estimated_wait_s": None if est.wait_s is None else round(est.wait_s),
        "service": service_public(ticket.service),
        "office": office_public(office or ticket.service.office),
    }
