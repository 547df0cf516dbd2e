"""Counter console actions: open, pause, resume, close, call next, recall, call a number,
skip, start, finish, transfer. Every action answers the counter and its current ticket."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..models import COUNTER_ROLES, Call, Counter
from ..security import current_actor, require
from ..services import queue
from ..services.errors import ValidationError
from ..services.queue.access import current_ticket, current_tickets
from ..services.queue.presenters import counter_public
from ..services.snapshots import ticket_status
from . import bp
from .helpers import body, get_for_staff, get_office, transaction


def _answer(s, counter_id: int, **extra):
    counter = s.get(Counter, counter_id)
    current = current_ticket(s, counter)
    return jsonify(counter=counter_public(counter, current),
                   ticket=ticket_status(s, current) if current else None, **extra)


#: actions after which the counter has no ticket; after the others the answer's ticket is
#: the one the action returned (call-next, call, recall: a Call; start: the Ticket)
_FREED = ("finish", "skip", "transfer")
_STATE = ("open", "pause", "resume", "close")


def _answer_after(s, counter_id: int, action: str, result) -> dict:
    """The answer to ``action``, built in its transaction from what it loaded: the counter
    is in the session already (no query), the ticket at it is known from the result (looked
    up only after open, pause, resume and close)."""
    counter = s.get(Counter, counter_id)
    if action in _STATE:
        current = current_ticket(s, counter)
    elif action in _FREED or result is None:
        current = None
    else:
        current = result.ticket if isinstance(result, Call) else result
    return {"counter": counter_public(counter, current), "ticket": ticket_status(s, current) if current else None}


def _check_office(s, counter_id: int) -> None:
    get_for_staff(s, Counter, counter_id, "counter not found")


@bp.get("/offices/<code>/counters")
@require(roles=tuple(COUNTER_ROLES) + ("manager",))
def list_counters(code: str):
    """The office's counters with state, officer and current number.
    ---
    get:
      tags: [counters]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"counters": [...]}'}
    """
    with transaction() as s:
        office = get_office(s, code)
        counters = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number)
                             .options(selectinload(Counter.services))).all()
        current = current_tickets(s, [c.id for c in counters])  # one query, no row lock (a read)
        return jsonify(counters=[counter_public(c, current.get(c.id)) for c in counters])


@bp.get("/counters/<int:counter_id>")
@require(roles=tuple(COUNTER_ROLES) + ("manager",))
def get_counter(counter_id: int):
    """One counter and its current ticket.
    ---
    get:
      tags: [counters]
      parameters: [{in: path, name: counter_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"counter", "ticket"}'}
    """
    with transaction() as s:
        _check_office(s, counter_id)
        return _answer(s, counter_id)


def _number(d: dict) -> str:
    number = str(d.get("number", "")).strip().upper()
    if not number or len(number) > 12:
        raise ValidationError("give the ticket number, e.g. A012", field="number")
    return number


def _position(d: dict) -> str:
    position = d.get("position", "front")
    if position not in ("front", "back"):
        raise ValidationError("position is front or back", field="position")
    return position


def _act(counter_id: int, action: str, fn):
    """Run ``fn(session, counter_id, actor, body)`` (one console action) in one transaction
    and answer {"counter", "ticket"} after it. The office scope is checked by the service
    (``queue.access.counter_for_action``: the caller must operate this counter)."""
    data = body()
    with transaction() as s:
        result = fn(s, counter_id, current_actor(), data)
        answer = _answer_after(s, counter_id, action, result)
    return jsonify(answer)


#: The OpenAPI block shared by every console action (each adds its own summary and body).
_ANSWERS = """
      responses:
        200: {description: '{"counter", "ticket"}'}
        403: {description: not the officer of this counter}
        404: {description: queue empty or unknown number}
        409: {description: counter busy, closed, or ticket in another state}
"""


def _console_action(action: str, summary: str, fn, body_schema: str = "") -> None:
    """Register ``POST /counters/<id>/<action>``: one operation per console action, with its
    own request body (``body_schema``: the OpenAPI YAML of the JSON body, or none) and the
    counter roles' permission."""
    def view(counter_id: int):
        return _act(counter_id, action, fn)

    name = "counter_" + action.replace("-", "_")
    view.__name__ = view.__qualname__ = name
    request_body = ("      requestBody:\n        content:\n          application/json:\n            schema:\n"
                    + "\n".join("              " + line for line in body_schema.strip().splitlines()) + "\n"
                    if body_schema else "")
    view.__doc__ = (f"{summary}\n\nAnswers {{\"counter\", \"ticket\"}} after the action.\n---\npost:\n"
                    f"      summary: {summary.split(';')[0].rstrip('.')!r}\n      tags: [counters]\n"
                    f"      parameters: [{{in: path, name: counter_id, required: true, schema: {{type: integer}}}}]\n"
                    + request_body + _ANSWERS.lstrip("\n"))
    bp.post(f"/counters/<int:counter_id>/{action}", endpoint=name)(require(roles=tuple(COUNTER_ROLES))(view))


_console_action("open", "Open the counter (the officer signs in at it).",
                lambda s, cid, a, d: queue.open_counter(s, cid, actor=a))
_console_action("pause", "Pause the counter; body {\"reason\"}.",
                lambda s, cid, a, d: queue.pause_counter(s, cid, str(d.get("reason", "")), actor=a),
                "type: object\nproperties: {reason: {type: string, maxLength: 200}}")
_console_action("resume", "Resume a paused counter.", lambda s, cid, a, d: queue.resume_counter(s, cid, actor=a))
_console_action("close", "Close the counter.", lambda s, cid, a, d: queue.close_counter(s, cid, actor=a))
_console_action("call-next", "Call the next ticket by the queue rules; body {\"finish_current\": true} first "
                "finishes the ticket being served.",
                lambda s, cid, a, d: queue.call_next(s, cid, actor=a, finish_current=bool(d.get("finish_current"))),
                "type: object\nproperties: {finish_current: {type: boolean}}")
_console_action("recall", "Call the current ticket again (the TV speaks it again).",
                lambda s, cid, a, d: queue.recall(s, cid, actor=a))
_console_action("call", "Call one waiting ticket by its number; body {\"number\": \"A012\"}.",
                lambda s, cid, a, d: queue.call_specific(s, cid, _number(d), actor=a),
                "type: object\nrequired: [number]\nproperties: {number: {type: string, maxLength: 12}}")
_console_action("skip", "Skip the called ticket (the citizen did not come).",
                lambda s, cid, a, d: queue.skip(s, cid, actor=a))
_console_action("start", "Start serving the called ticket.", lambda s, cid, a, d: queue.start(s, cid, actor=a))
_console_action("finish", "Finish the ticket being served.", lambda s, cid, a, d: queue.finish(s, cid, actor=a))
_console_action("transfer", "Transfer the current ticket to another service's line; body {\"service\": code, "
                "\"position\": \"front\" | \"back\"}.",
                lambda s, cid, a, d: queue.transfer(s, cid, str(d.get("service", "")), actor=a,
                                                    to_front=_position(d) == "front"),
                "type: object\nrequired: [service]\nproperties:\n  service: {type: string, maxLength: 200}\n"
                "  position: {type: string, enum: [front, back]}")
