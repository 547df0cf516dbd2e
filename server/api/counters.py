"""Counter console actions: open, pause, resume, close, call next, recall, call a number,
skip, start, finish, transfer, each its own operation (issue 14) with its own body.
Every action answers the counter and its current ticket."""
from __future__ import annotations

from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import COUNTER_ROLES, Call, Counter, Role
from ..security import current_actor
from ..services import queue
from ..services.queue.access import current_ticket, current_tickets
from ..services.queue.presenters import counter_public
from ..services.snapshots import ticket_status
from . import bp
from .contract import access, errors
from .helpers import get_for_staff, get_office, transaction
from .schemas.counters import CallBody, CallNextBody, CounterListAnswer, CounterStateAnswer, PauseBody, TransferBody

#: Who may read an office's counters; the actions are for the counter roles only.
READERS = tuple(COUNTER_ROLES) + (Role.MANAGER,)

#: actions after which the counter has no ticket; after the others the answer's ticket is
#: the one the action returned (call-next, call, recall: a Call; start: the Ticket)
_FREED = ("finish", "skip", "transfer")
_STATE = ("open", "pause", "resume", "close")


def _answer_after(s, counter_id: int, action: str | None, result=None) -> dict:
    """``{"counter", "ticket"}`` after ``action`` (None: a plain read), built in its
    transaction from what it loaded: the counter is in the session already (no query), the
    ticket at it is known from the result (looked up only after open, pause, resume and
    close, or for a read)."""
    counter = s.get(Counter, counter_id)
    if action is None or action in _STATE:
        current = current_ticket(s, counter)
    elif action in _FREED or result is None:
        current = None
    else:
        current = result.ticket if isinstance(result, Call) else result
    return {"counter": counter_public(counter, current), "ticket": ticket_status(s, current) if current else None}


@bp.get("/offices/<code>/counters")
@access(roles=READERS)
@bp.response(200, CounterListAnswer)
@errors(404)
def list_counters(code: str):
    """The office's counters with state, officer and current number (``{"counters": [...]}``);
    404 unknown office."""
    with transaction() as s:
        office = get_office(s, code)
        counters = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number)
                             .options(selectinload(Counter.services))).all()
        current = current_tickets(s, [c.id for c in counters])  # one query, no row lock (a read)
        return {"counters": [counter_public(c, current.get(c.id)) for c in counters]}


@bp.get("/counters/<int:counter_id>")
@access(roles=READERS)
@bp.response(200, CounterStateAnswer)
@errors(404)
def get_counter(counter_id: int):
    """One counter and its current ticket (``{"counter", "ticket"}``); 404 unknown counter."""
    with transaction() as s:
        get_for_staff(s, Counter, counter_id, "counter")
        return _answer_after(s, counter_id, None)


def _act(counter_id: int, action: str, fn: Callable, *args, **kwargs) -> dict:
    """Run the service ``fn(session, counter_id, *args, actor=, **kwargs)`` (one console
    action) in one transaction and answer ``{"counter", "ticket"}`` after it. The office
    scope is checked by the service (``queue.access.counter_for_action``: the caller must
    operate this counter)."""
    with transaction() as s:
        result = fn(s, counter_id, *args, actor=current_actor(), **kwargs)
        return _answer_after(s, counter_id, action, result)


#: The errors every console action may answer (in each operation's description).
_ERRORS = ("403 not the officer of this counter; 404 unknown counter, queue empty or unknown number; 409 counter "
           "busy, closed, or the ticket in another state.")


def _action(action: str, body=None):
    """The route, permission (the counter roles), body and answers of a console action."""
    def wrap(view):
        view.__doc__ = f"{view.__doc__}\n\n{_ERRORS}"
        view = errors(404, 409)(view)
        view = bp.response(200, CounterStateAnswer)(view)
        if body is not None:
            required = any(f.required for f in body._declared_fields.values())
            view = bp.arguments(body, required=required)(view)
        view = access(roles=COUNTER_ROLES)(view)
        return bp.post(f"/counters/<int:counter_id>/{action}", endpoint="counter_" + action.replace("-", "_"))(view)
    return wrap


@_action("open")
def counter_open(counter_id: int):
    """Open the counter (the officer signs in at it). Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "open", queue.open_counter)


@_action("pause", PauseBody)
def counter_pause(data: dict, counter_id: int):
    """Pause the counter with a ``reason`` shown to staff. Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "pause", queue.pause_counter, data["reason"])


@_action("resume")
def counter_resume(counter_id: int):
    """Resume a paused counter. Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "resume", queue.resume_counter)


@_action("close")
def counter_close(counter_id: int):
    """Close the counter. Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "close", queue.close_counter)


@_action("call-next", CallNextBody)
def counter_call_next(data: dict, counter_id: int):
    """Call the next ticket by the queue rules; ``finish_current`` first finishes the ticket
    being served. Answers ``{"counter", "ticket"}`` (the ticket called)."""
    return _act(counter_id, "call-next", queue.call_next, finish_current=data["finish_current"])


@_action("recall")
def counter_recall(counter_id: int):
    """Call the current ticket again (the TV speaks it again). Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "recall", queue.recall)


@_action("call", CallBody)
def counter_call(data: dict, counter_id: int):
    """Call one waiting ticket by its ``number`` (e.g. A012). Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "call", queue.call_specific, data["number"].strip().upper())


@_action("skip")
def counter_skip(counter_id: int):
    """Skip the called ticket (the citizen did not come). Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "skip", queue.skip)


@_action("start")
def counter_start(counter_id: int):
    """Start serving the called ticket. Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "start", queue.start)


@_action("finish")
def counter_finish(counter_id: int):
    """Finish the ticket being served. Answers ``{"counter", "ticket"}``."""
    return _act(counter_id, "finish", queue.finish)


@_action("transfer", TransferBody)
def counter_transfer(data: dict, counter_id: int):
    """Transfer the current ticket to another ``service``'s line, at the ``position`` front
    (default) or back. Answers ``{"counter", "ticket"}`` (no ticket: it left the counter)."""
    return _act(counter_id, "transfer", queue.transfer, data["service"], to_front=data["position"] == "front")
