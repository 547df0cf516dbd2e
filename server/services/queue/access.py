"""Shared look-ups and checks of the queue engine: the counter's current ticket, who may act."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ...models import AT_COUNTER_STATUSES, Counter, CounterState, Ticket
from .. import events
from ..actors import Actor
from ..errors import CounterNotOpen, Forbidden, InvalidState, NotFound
from .locking import lock_counter
from .presenters import counter_public, ticket_stream


def counter_for_action(session: Session, counter_id: int, actor: Actor, *, must_be_open: bool = True) -> Counter:
    """Lock and return the counter, checking that ``actor`` operates it.

    Staff and devices must be of the counter's office (``Actor.may_access``); staff must be
    the counter's current officer (admins may act on any counter of their office, a
    system-wide admin on any). Raises NotFound, Forbidden, CounterNotOpen.
    """
    counter = lock_counter(session, counter_id)
    if counter is None:
        raise NotFound(key="error.counter.not_found")
    if actor.type in ("staff", "device") and not actor.may_access(counter.office_id):
        raise Forbidden(key="error.counter.other_office")
    if actor.type == "staff":
        if not actor.is_admin and counter.officer_id != actor.id:
            raise Forbidden(key="error.counter.not_your_counter")
    elif actor.type not in ("device", "system"):
        raise Forbidden(key="error.not_allowed")
    if must_be_open and counter.state != CounterState.OPEN.value:
        raise CounterNotOpen(key="error.counter.not_open", params={"number": counter.number, "state": counter.state})
    return counter


@lru_cache(maxsize=None)
def _current_statement():
    return (select(Ticket).where(Ticket.counter_id == bindparam("counter_id"), Ticket.status.in_(AT_COUNTER_STATUSES))
            .order_by(Ticket.called_at.desc()).with_for_update())


def current_ticket(session: Session, counter: Counter) -> Ticket | None:
    """The ticket called to or being served at ``counter`` (at most one), locked on PostgreSQL."""
    return session.scalars(_current_statement(), {"counter_id": counter.id}).first()


def current_tickets(session: Session, counter_ids: list[int]) -> dict[int, Ticket]:
    """For reading only (nothing locked): the ticket called to or being served at each of
    ``counter_ids``, one query for all; {counter id: Ticket}, counters without one absent
    (of two at a counter, which never happens, the last called, as :func:`current_ticket`)."""
    if not counter_ids:
        return {}
    rows = session.scalars(select(Ticket).where(Ticket.counter_id.in_(counter_ids),
                                                Ticket.status.in_(AT_COUNTER_STATUSES))
                           .order_by(Ticket.called_at)).all()
    return {t.counter_id: t for t in rows if t.counter_id is not None}  # always: selected by counter_id


def require_current(session: Session, counter: Counter, *statuses: str) -> Ticket:
    """The counter's current ticket, which must be in one of ``statuses``.

    Raises InvalidState when the counter has no ticket or it is in another state.
    """
    ticket = current_ticket(session, counter)
    if ticket is None:
        raise InvalidState(key="error.counter.no_ticket", params={"number": counter.number})
    if statuses and ticket.status not in statuses:
        raise InvalidState(key="error.ticket.in_state",
                           params={"number": ticket.display_number, "status": ticket.status})
    return ticket


def publish_ticket(session: Session, ticket: Ticket, name: str = events.TICKET_CHANGED, **extra) -> None:
    """Publish a ticket event after commit with the ticket's public view."""
    events.publish_after_commit(
        session, events.DomainEvent(name, ticket.office_id, {"ticket": ticket_stream(ticket), **extra})
    )


def publish_counter(session: Session, counter: Counter, current: Ticket | None) -> None:
    """Publish the counter's state (and current number) after commit."""
    events.publish_after_commit(
        session,
        events.DomainEvent(events.COUNTER_CHANGED, counter.office_id, {"counter": counter_public(counter, current)}),
    )
