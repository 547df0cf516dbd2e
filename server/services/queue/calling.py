"""Calling and serving: call next, recall, call a number, skip, start, finish, transfer.

Every action locks the counter row first, so one counter's actions are serial; a ticket
moves out of ``waiting`` only through a row-locked read (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, the write lock on SQLite), so two counters can never call the same ticket.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ...models import Call, Counter, Service, Ticket, TicketStatus, utcnow
from .. import audit, events
from ..actors import Actor
from ..clock import epoch_ms, queue_day
from ..errors import CounterBusy, InvalidState, NotFound, QueueEmpty, ValidationError
from . import writes
from .access import counter_for_action, current_ticket, publish_counter, publish_ticket, require_current
from .locking import calls_so_far
from .picking import pick_next
from .presenters import call_public
from .rules import QueueRules

W, C, S = TicketStatus.WAITING.value, TicketStatus.CALLED.value, TicketStatus.SERVING.value


def _call(session: Session, counter: Counter, ticket: Ticket, actor: Actor, now: datetime, kind: str,
          audit_rows: Sequence[dict] = (), batch: writes.Batch | None = None) -> Call:
    """Call ``ticket`` (locked) to ``counter`` (locked): the ticket, the counter's priority
    streak, the service's call count, the call and the audit rows (``audit_rows`` first,
    e.g. a finish's, in the same INSERT) written through Core (``writes.Batch``, given or
    new: one statement on PostgreSQL, with what ``batch`` already holds, e.g. the finish)."""
    batch = batch or writes.Batch(session)
    from_state = ticket.status
    officer_id = actor.staff_id or counter.officer_id  # a keypad acts for the officer
    batch.update(ticket, status=C, counter_id=counter.id, officer_id=officer_id, called_at=now,
                 first_called_at=ticket.first_called_at or now)
    set_committed_value(ticket, "counter", counter)
    batch.update(counter, regular_since_priority=0 if ticket.is_priority else counter.regular_since_priority + 1)
    batch.count_call(ticket.office_id, ticket.service_id, ticket.day)
    batch.insert_call(ticket, counter, officer_id, kind, now)
    batch.audit([*audit_rows, audit.row(
        actor, f"ticket.{kind}", "ticket", ticket.id, office_id=ticket.office_id, from_state=from_state, to_state=C,
        at=now, data={"number": ticket.display_number, "counter": counter.number})])
    call = batch.run().call
    assert call is not None  # the batch inserted a call (insert_call above)
    publish_ticket(session, ticket, events.TICKET_CALLED, call=call_public(call), recall=False)
    publish_counter(session, counter, ticket)
    return call


def call_next(
    session: Session, counter_id: int, *, actor: Actor, finish_current: bool = False, now: datetime | None = None
) -> Call | None:
    """Call the next ticket to ``counter_id`` over every service it serves (see pick_next).

    With ``finish_current``, the ticket at the counter (called or serving) is finished
    first: the console's "finish and call next", and a call keypad's NEXT key.
    Returns the new Call, or None when a ticket was finished and nobody waits. Raises CounterBusy (a ticket is still at the counter),
    QueueEmpty, CounterNotOpen, Forbidden, NotFound.
    """
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor)
    current = current_ticket(session, counter)
    finished = []
    batch = writes.Batch(session)  # PostgreSQL: the finish is written with the call, in one statement
    if current is not None:
        if not finish_current:
            raise CounterBusy(key="error.counter.busy_with",
                              params={"number": current.display_number, "status": current.status})
        finished.append(_finish(session, counter, current, actor, now, batch))
    ticket = pick_next(session, counter, QueueRules.for_office(counter.office), now)
    if ticket is None:
        if finished:
            batch.audit(finished)
            batch.run()
            return None  # the finish stands; nobody is waiting
        raise QueueEmpty(key="error.queue.empty")
    return _call(session, counter, ticket, actor, now, "call", audit_rows=finished, batch=batch)


def call_specific(
    session: Session, counter_id: int, number: str, *, actor: Actor, now: datetime | None = None
) -> Call:
    """Call ticket ``number`` (e.g. "A012") of today to the counter, out of queue order.

    A waiting ticket, or a no-show coming back late, of a service the counter serves.
    Raises NotFound, CounterBusy, InvalidState, CounterNotOpen, Forbidden.
    """
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor)
    if current_ticket(session, counter) is not None:
        raise CounterBusy(key="error.counter.finish_or_skip_first")
    day = queue_day(counter.office, now)
    ticket = session.scalars(
        select(Ticket).where(
            Ticket.office_id == counter.office_id, Ticket.day == day,
            Ticket.display_number == number.strip().upper(),
        ).order_by(Ticket.transfer_seq.desc()).limit(1).with_for_update()
    ).first()
    if ticket is None:
        raise NotFound(key="error.ticket.not_found_today", params={"number": number})
    if ticket.service_id not in {s.id for s in counter.services}:
        raise InvalidState(key="error.ticket.other_counter", params={"number": ticket.display_number})
    if ticket.status not in (W, TicketStatus.NO_SHOW.value):
        raise InvalidState(key="error.ticket.in_state",
                           params={"number": ticket.display_number, "status": ticket.status})
    if ticket.status == TicketStatus.NO_SHOW.value:
        ticket.finished_at = None
        ticket.end_reason = None
    return _call(session, counter, ticket, actor, now, "specific")


def recall(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Call:
    """Call the counter's current ticket again; the TV shows and speaks it again.

    Only a ticket still in ``called`` (the citizen has not come); raises InvalidState
    when the counter has no such ticket.
    """
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor)
    ticket = require_current(session, counter, C)
    ticket.recall_count += 1
    ticket.called_at = now
    call = Call(office_id=ticket.office_id, ticket=ticket, counter=counter,
                officer_id=actor.staff_id or counter.officer_id, kind="recall", at=now)
    session.add(call)
    session.flush()
    audit.record(session, actor, "ticket.recall", "ticket", ticket.id, office_id=ticket.office_id,
                 from_state=ticket.status, to_state=ticket.status, at=now,
                 data={"number": ticket.display_number, "counter": counter.number, "recalls": ticket.recall_count})
    publish_ticket(session, ticket, events.TICKET_CALLED, call=call_public(call), recall=True)
    return call


def skip(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Ticket:
    """The called citizen did not come: send the ticket back, or mark it no-show.

    The ticket is callable again after ``skip_requeue_after_calls`` further calls of its
    service, ahead of later tickets (it keeps its place); the ``skip_limit``-th skip makes
    it ``no_show``. Raises InvalidState when the counter's ticket is not in ``called``.
    """
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor, must_be_open=False)
    ticket = require_current(session, counter, C)
    rules = QueueRules.for_office(counter.office)
    ticket.skip_count += 1
    if ticket.skip_count >= rules.skip_limit:
        ticket.status = TicketStatus.NO_SHOW.value
        ticket.finished_at = now
        ticket.end_reason = f"no show after {ticket.skip_count} calls"
    else:
        calls = calls_so_far(session, ticket.office_id, ticket.service_id, ticket.day)
        ticket.status = W
        ticket.eligible_after_calls = calls + rules.skip_requeue_after_calls
        ticket.counter_id = None
        ticket.counter = None
        ticket.waiting_since = now
    audit.record(session, actor, "ticket.skip", "ticket", ticket.id, office_id=ticket.office_id,
                 from_state=C, to_state=ticket.status, at=now,
                 data={"number": ticket.display_number, "counter": counter.number, "skips": ticket.skip_count})
    publish_ticket(session, ticket)
    publish_counter(session, counter, None)
    return ticket


def start(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Ticket:
    """The citizen has arrived at the counter: ``called`` → ``serving``."""
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor, must_be_open=False)
    ticket = require_current(session, counter, C)
    batch = writes.Batch(session)  # PostgreSQL: the update and the audit row in one statement
    batch.update(ticket, status=S, started_at=now)
    batch.audit([audit.row(actor, "ticket.start", "ticket", ticket.id, office_id=ticket.office_id,
                           from_state=C, to_state=S, at=now,
                           data={"number": ticket.display_number, "counter": counter.number})])
    batch.run()
    publish_ticket(session, ticket)
    publish_counter(session, counter, ticket)
    return ticket


def _finish(session: Session, counter: Counter, ticket: Ticket, actor: Actor, now: datetime,
            batch: writes.Batch) -> dict:
    """Mark ``ticket`` (locked, at ``counter``) done through ``batch`` (written now, or with
    the batch's other writes on PostgreSQL; the object has the values at once); returns its
    audit row for the caller to insert (alone, or with the next call's)."""
    from_state = ticket.status
    batch.update(ticket, status=TicketStatus.DONE.value, finished_at=now,
                 started_at=ticket.started_at or ticket.called_at or now)  # never started (a keypad): served since the call
    publish_ticket(session, ticket)
    publish_counter(session, counter, None)
    return audit.row(actor, "ticket.finish", "ticket", ticket.id, office_id=ticket.office_id,
                     from_state=from_state, to_state=ticket.status, at=now,
                     data={"number": ticket.display_number, "counter": counter.number})


def finish(session: Session, counter_id: int, *, actor: Actor, now: datetime | None = None) -> Ticket:
    """Service is over: the counter's ticket (serving, or called) becomes ``done``."""
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor, must_be_open=False)
    ticket = require_current(session, counter, C, S)
    batch = writes.Batch(session)  # PostgreSQL: the update and the audit row in one statement
    batch.audit([_finish(session, counter, ticket, actor, now, batch)])
    batch.run()
    return ticket


def transfer(
    session: Session,
    counter_id: int,
    service_code: str,
    *,
    actor: Actor,
    to_front: bool = True,
    now: datetime | None = None,
) -> Ticket:
    """Send the counter's ticket to another service's queue, keeping its number.

    The ticket ends as ``transferred``; a new ticket with the same number waits in
    ``service_code``'s queue, at the front (``to_front``) or the back. Returns the new ticket.
    Raises NotFound (service), ValidationError (same service), InvalidState (also for a
    ticket of an earlier day, served across midnight: its day's queue is over, day_close).
    """
    now = now or utcnow()
    counter = counter_for_action(session, counter_id, actor, must_be_open=False)
    ticket = require_current(session, counter, C, S)
    target = session.scalars(
        select(Service).where(Service.office_id == counter.office_id, Service.code == service_code)
    ).first()
    if target is None or not target.active:
        raise NotFound(key="error.service.not_found", params={"service": service_code}, field="service")
    if target.id == ticket.service_id:
        raise ValidationError(key="error.ticket.same_service", field="service")
    if ticket.day != queue_day(counter.office, now):
        raise InvalidState(key="error.ticket.past_day", params={"number": ticket.display_number, "day": ticket.day})
    if to_front:
        front = session.scalar(
            select(func.min(Ticket.sort_key)).where(
                Ticket.office_id == ticket.office_id, Ticket.service_id == target.id,
                Ticket.day == ticket.day, Ticket.status == W,
            )
        )
        sort_key = min(front - 1, epoch_ms(now)) if front is not None else epoch_ms(now)
    else:
        sort_key = epoch_ms(now)
    from_state = ticket.status
    ticket.status = TicketStatus.TRANSFERRED.value
    ticket.finished_at = now
    ticket.end_reason = f"transferred to {target.code}"
    moved = Ticket(
        public_id=ticket.public_id + f"-{ticket.transfer_seq + 1}",
        office_id=ticket.office_id, service_id=target.id, service=target, day=ticket.day,
        number=ticket.number, display_number=ticket.display_number,
        transfer_seq=ticket.transfer_seq + 1, status=W, priority_kind=ticket.priority_kind,
        channel=ticket.channel, sort_key=sort_key, issued_at=ticket.issued_at,
        waiting_since=now, transferred_from_id=ticket.id,
    )
    session.add(moved)
    session.flush()
    audit.record(session, actor, "ticket.transfer", "ticket", ticket.id, office_id=ticket.office_id,
                 from_state=from_state, to_state=ticket.status, at=now,
                 data={"number": ticket.display_number, "to_service": target.code,
                       "new_ticket_id": moved.id, "to_front": to_front})
    publish_ticket(session, ticket, transferred_to=moved.id)
    publish_ticket(session, moved, events.TICKET_ISSUED)
    publish_counter(session, counter, None)
    return moved
