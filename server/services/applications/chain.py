"""The approval chain: worklists per role, approve, return for correction, hand over.

Each transition acts on the application's current step, by an officer whose role the step
maps to (see ``roles``; admins act on any step), at the version the officer saw
(``expected_version``). It writes the kartu kendali (time in the step against its
standard), an audit row and an ``application.changed`` event after commit, all in the
caller's transaction; the update is a compare-and-set on ``version``, so of two officers
acting at once exactly one succeeds and the other gets InvalidState.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import ADMIN_ROLES, OPEN_STATUSES, Application, ApplicationStatus, Office, utcnow
from ..actors import Actor
from ..errors import InvalidState, NotFound, ValidationError
from .card_gate import require_activation_counter, require_bound_card
from .records import ControlCard, check_version, load, minutes_between, office_of, record_transition, save
from .roles import require_step_role, step_roles_of
from .steps import end_index, handover_index, return_target

READY, IN_PROGRESS = ApplicationStatus.READY.value, ApplicationStatus.IN_PROGRESS.value


def worklist(session: Session, office_id: int, role: str) -> list[Application]:
    """Open applications of the office whose current step is for staff ``role`` (admin:
    all of them), most urgent first: due date, then the longest in its step."""
    office = session.get(Office, office_id)
    if office is None:
        raise NotFound(key="error.application.office_not_found")
    stmt = select(Application).where(Application.office_id == office_id, Application.status.in_(OPEN_STATUSES))
    if role not in ADMIN_ROLES:
        stmt = stmt.where(Application.step_role.in_(sorted(step_roles_of(office, role))))
    return list(session.scalars(stmt.order_by(Application.due_date, Application.step_entered_at, Application.id)))


def _open_file(
    session: Session, application_id: int, actor: Actor, expected_version: int, *, must_be_ready: bool = False
) -> Application:
    """Load the application for a transition: at ``expected_version``, not closed, ready
    when ``must_be_ready``, and its current step the actor's (checked last, so a pickup
    officer hears "not ready yet" rather than "not your step").
    Raises NotFound, InvalidState, Forbidden."""
    app = load(session, application_id)
    check_version(app, expected_version)
    if app.step_code is None:
        raise InvalidState(key="error.application.closed", params={"status": app.status})
    if must_be_ready and app.status != READY:
        raise InvalidState(key="error.application.not_ready", params={"due": app.due_date},
                           due_date=app.due_date.isoformat())
    require_step_role(actor, office_of(session, app), app.step_role)
    return app


def _move(app: Application, index: int | None, now: datetime) -> None:
    """Put ``app`` at step ``index`` (None: past the last step, the file is closed)."""
    step = app.steps[index] if index is not None else None
    app.step_index = index if index is not None else len(app.steps)
    app.step_code = step["code"] if step else None
    app.step_role = step["role"] if step else None
    app.step_entered_at = now


def _shelf(shelf_location: str | None) -> str | None:
    text = (shelf_location or "").strip()
    if len(text) > 60:
        raise ValidationError(key="error.application.shelf_too_long", field="shelf_location")
    return text or None


def approve(
    session: Session,
    application_id: int,
    *,
    actor: Actor,
    expected_version: int,
    shelf_location: str | None = None,
    now: datetime | None = None,
    via_activation: bool = False,
) -> Application:
    """The current step is done: the file moves to the next step.

    Two steps are not done with a plain approval (issue 5): the ``print`` step of a file
    with an ``activate`` step needs the printed card bound first (InvalidState
    ``card_not_bound``), and the ``activate`` step is completed only by the activation
    counter (``services.activation.sessions.complete``, which passes ``via_activation``).

    When the next step is the hand-over, the file is ``ready`` (``ready_at`` set) and
    ``shelf_location`` (optional, where the finished document is filed) is recorded; it is
    refused at any other step. A service without a hand-over step (PELITA 1: delivered by
    e-mail) is closed as ``collected`` when its last step is approved. A returned file is
    ``in_progress`` again. The hand-over step itself is done with :func:`hand_over`.
    Raises NotFound, Forbidden, InvalidState, ValidationError.
    """
    now = now or utcnow()
    app = _open_file(session, application_id, actor, expected_version)
    steps, index, hand = app.steps, app.step_index, handover_index(app.steps)
    if index == hand:
        raise InvalidState(key="error.application.ready_hand_over")
    require_activation_counter(app, via_activation)
    require_bound_card(session, app)
    shelf = _shelf(shelf_location)
    if shelf and index + 1 != hand:
        raise ValidationError(key="error.application.shelf_when_ready", field="shelf_location")
    from_status, minutes = app.status, minutes_between(app.step_entered_at, now)
    closes = index + 1 >= end_index(steps)
    if index + 1 == hand:
        app.status, app.ready_at, app.shelf_location = READY, now, shelf
    elif closes:
        app.status, app.collected_at = ApplicationStatus.COLLECTED.value, now
    else:
        app.status = IN_PROGRESS
    _move(app, None if closes else index + 1, now)
    save(session, app)
    card = ControlCard(session, app, actor)
    if closes:
        card.write_to_end("approve", steps, index, now, minutes)
    else:
        card.write("approve", steps[index], steps[index + 1], now, minutes,
                   data={"shelf_location": shelf} if shelf else None)
    record_transition(session, app, actor, "approve", from_status, now,
                      {"from_step": steps[index]["code"], "to_step": app.step_code, "shelf_location": shelf})
    return app


def return_for_correction(
    session: Session,
    application_id: int,
    reason: str,
    *,
    actor: Actor,
    expected_version: int,
    now: datetime | None = None,
) -> Application:
    """Send the file back for correction, with ``reason`` (1-300 characters), to the step
    the SOP says (``steps.return_target``: Kabid → Kasi, Kasi → the front office's
    register step, or the step's ``return_to``). The file is ``returned`` until that step
    is approved again; a ready file loses its ready time and shelf location.
    Raises NotFound, Forbidden, InvalidState, ValidationError.
    """
    now = now or utcnow()
    text = (reason or "").strip()
    if not 1 <= len(text) <= 300:
        raise ValidationError(key="error.application.reason_required", field="reason")
    app = _open_file(session, application_id, actor, expected_version)
    steps, index = app.steps, app.step_index
    target = return_target(steps, index)
    from_status, minutes = app.status, minutes_between(app.step_entered_at, now)
    app.status, app.ready_at, app.shelf_location = ApplicationStatus.RETURNED.value, None, None
    _move(app, target, now)
    save(session, app)
    ControlCard(session, app, actor).write("return", steps[index], steps[target], now, minutes, reason=text)
    record_transition(session, app, actor, "return", from_status, now,
                      {"from_step": steps[index]["code"], "to_step": app.step_code, "reason": text})
    return app


def hand_over(
    session: Session,
    application_id: int,
    *,
    collector: dict,
    actor: Actor,
    expected_version: int,
    arrived_at: datetime | None = None,
    now: datetime | None = None,
) -> Application:
    """The finished document is handed over against the resi: the file is ``collected``.

    ``collector``: who collected it, at least {"name": ...} (e.g. "kind": "applicant" or
    "representative", "nik", "relation", "letter_number"); the checks of who may collect
    belong to the pickup station. ``arrived_at``: when the collector came to the counter or
    window; the hand-over step's minutes run from it (None: not measured, since the time
    on the shelf is the citizen's, not the office's). The citizen's trailing steps (signing
    the proof of collection) are written with it. Raises NotFound, Forbidden, InvalidState
    (not ready), ValidationError.
    """
    now = now or utcnow()
    if not isinstance(collector, dict) or not str(collector.get("name") or "").strip():
        raise ValidationError(key="error.application.collector_name_required", field="collector")
    app = _open_file(session, application_id, actor, expected_version, must_be_ready=True)
    steps, index = app.steps, app.step_index
    from_status = app.status
    app.status, app.collected_at, app.collector = ApplicationStatus.COLLECTED.value, now, dict(collector)
    _move(app, None, now)
    save(session, app)
    ControlCard(session, app, actor).write_to_end("hand_over", steps, index, now, minutes_between(arrived_at, now),
                                                  data={"collector": dict(collector)})
    record_transition(session, app, actor, "hand_over", from_status, now, {"from_step": steps[index]["code"]})
    return app
