"""Opening, pausing and closing counters."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import ADMIN_ROLES, COUNTER_ROLES, Counter, CounterState, StaffUser, utcnow
from .. import audit
from ..actors import Actor
from ..errors import CounterBusy, Forbidden, InvalidState, NotFound, ValidationError
from .access import counter_for_action, current_ticket, publish_counter
from .locking import lock_counter

OPEN, PAUSED, CLOSED = CounterState.OPEN.value, CounterState.PAUSED.value, CounterState.CLOSED.value


def _set_state(session: Session, counter: Counter, actor: Actor, state: str, now: datetime, **data) -> Counter:
    before = counter.state
    counter.state = state
    audit.record(session, actor, f"counter.{state}", "counter", counter.id, office_id=counter.office_id,
                 from_state=before, to_state=state, at=now, data={"counter": counter.number, **data})
    publish_counter(session, counter, current_ticket(session, counter))
    return counter


def open_counter(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Counter:
    """``actor`` (a staff user with a counter role) takes the counter and opens it.

    An officer holds one counter at a time: opening another closes (and frees) the one
    held before, unless a ticket is still there (CounterBusy). Raises NotFound, Forbidden,
    InvalidState (another officer holds this counter).
    """
    now = now or utcnow()
    if actor.type != "staff":
        raise Forbidden(key="error.counter.staff_only")
    user = session.get(StaffUser, actor.id)
    if user is None or not user.active:
        raise Forbidden(key="error.user.inactive")
    if user.role not in {r.value for r in COUNTER_ROLES}:
        raise Forbidden(key="error.counter.role")
    counter = lock_counter(session, counter_id)
    if counter is None:
        raise NotFound(key="error.counter.not_found")
    if user.office_id not in (None, counter.office_id):
        raise Forbidden(key="error.counter.other_office")
    if counter.officer_id not in (None, user.id) and counter.state != CLOSED:
        raise InvalidState(key="error.counter.held", params={"number": counter.number})
    for other in session.scalars(select(Counter).where(Counter.officer_id == user.id, Counter.id != counter.id)):
        if current_ticket(session, other) is not None:
            raise CounterBusy(key="error.counter.finish_other_first", params={"number": other.number})
        other.officer_id = None
        _set_state(session, other, actor, CLOSED, now)
    counter.officer_id = user.id
    counter.pause_reason = None
    return _set_state(session, counter, actor, OPEN, now, officer=user.username)


def pause_counter(session: Session, counter_id: int, reason: str, *, actor: Actor, now: datetime | None = None) -> Counter:
    """Pause calling (break, prayer, system down) with a reason shown to staff; 1-200 chars."""
    now = now or utcnow()
    reason = (reason or "").strip()
    if not reason or len(reason) > 200:
        raise ValidationError(key="error.counter.pause_reason", field="reason")
    counter = counter_for_action(session, counter_id, actor)
    counter.pause_reason = reason
    return _set_state(session, counter, actor, PAUSED, now, reason=reason)


def resume_counter(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Counter:
    """Resume a paused counter. Raises InvalidState when it is not paused."""
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor, must_be_open=False)
    if counter.state != PAUSED:
        raise InvalidState(key="error.counter.not_paused", params={"number": counter.number, "state": counter.state})
    counter.pause_reason = None
    return _set_state(session, counter, actor, OPEN, now)


def close_counter(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Counter:
    """Close the counter and free it; refused (CounterBusy) while a ticket is there."""
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor, must_be_open=False)
    if current_ticket(session, counter) is not None:
        raise CounterBusy(key="error.counter.finish_first")
    counter.officer_id = None
    counter.pause_reason = None
    return _set_state(session, counter, actor, CLOSED, now)


def is_counter_role(role: str) -> bool:
    """True when ``role`` may operate a counter console."""
    return role in {r.value for r in COUNTER_ROLES} or role in ADMIN_ROLES
