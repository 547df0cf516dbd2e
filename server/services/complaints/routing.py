"""Moving an AKAPELA contact along the SOP (seed 001): answer, escalate, route, reply, close.

Every action is taken by the staff role holding the contact's stage (admins: any), of the
contact's office, at the version the officer saw (``expected_version``); it writes a
kartu kendali line (who, when, from which stage to which, the note) and an audit row in
the caller's transaction. The update is a compare-and-set on ``version``: of two officers
acting at once exactly one succeeds, the other gets VersionConflict (409).

- ``answer`` (officer): an answer given to the citizen, who sees it on the status page;
  the first one sets ``first_answer_at``. The contact stays open.
- ``escalate`` (officer → Kasi, Kasi → Kabid; SOP steps 3-4), with the question.
- ``route`` (officer, SOP steps 5-7): ``editor`` (data-entry error; needs the linked file),
  ``approval_chain`` (unsigned / unissued document: the file must still be on its chain
  before the hand-over; held by the role of the file's current step) or ``pickup``
  (finished document: the file must be ready).
- ``reply`` (whoever holds an escalated or routed contact): what they found or did; the
  contact goes back to the officer, who tells the citizen (SOP step 8).
- ``close`` (officer): the closing answer, i.e. the service report (laporan pelayanan).
  ``outcome`` = the last stage it was escalated or routed to, ``officer`` when answered at once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, ApplicationStatus, Complaint, ComplaintStatus, ComplaintStep, utcnow
from ..actors import Actor
from ..errors import Forbidden, InvalidState, ValidationError
from .records import StepWriter, check_version, load, office_of, record_change, save
from .stages import APPROVAL_CHAIN, ESCALATES_TO, OFFICER, PICKUP, ROUTE_TARGETS, holder_role

MAX_NOTE = 2000
OPEN = (ComplaintStatus.OPEN.value, ComplaintStatus.ANSWERED.value)
_CHAIN_OPEN = (ApplicationStatus.REGISTERED.value, ApplicationStatus.IN_PROGRESS.value,
               ApplicationStatus.RETURNED.value)


def _note(note: str | None, field: str = "note") -> str:
    text = (note or "").strip()
    if not 1 <= len(text) <= MAX_NOTE:
        raise ValidationError(key="error.complaint.note_required", params={"max": MAX_NOTE}, field=field)
    return text


def _require_holder(actor: Actor, complaint: Complaint) -> None:
    """Staff of the contact's office holding its stage's role (admins: any). Raises Forbidden."""
    if actor.type != "staff":
        raise Forbidden(key="error.complaint.staff_only")
    if not actor.may_access(complaint.office_id):
        raise Forbidden(key="error.complaint.other_office")
    if not actor.is_admin and actor.role != complaint.holder_role:
        raise Forbidden(key="error.complaint.held_by", params={"role": complaint.holder_role},
                        holder_role=complaint.holder_role)


def _open_contact(session: Session, complaint_id: int, actor: Actor, expected_version: int,
                  stages: tuple[str, ...] | None) -> Complaint:
    """Load the contact for an action: at ``expected_version``, not closed, at one of
    ``stages`` (None: any), held by the actor. Raises NotFound, VersionConflict,
    InvalidState, Forbidden."""
    complaint = load(session, complaint_id)
    check_version(complaint, expected_version)
    if complaint.status not in OPEN:
        raise InvalidState(key="error.complaint.closed")
    if stages is not None and complaint.stage not in stages:
        raise InvalidState(key="error.complaint.wrong_stage", params={"stage": complaint.stage}, stage=complaint.stage)
    _require_holder(actor, complaint)
    return complaint


def _move(complaint: Complaint, stage: str | None, role: str | None, now: datetime) -> str | None:
    old = complaint.stage
    complaint.stage, complaint.holder_role, complaint.stage_entered_at = stage, role, now
    return old


def answer(session: Session, complaint_id: int, text: str, *, actor: Actor, expected_version: int,
           now: datetime | None = None) -> Complaint:
    """The officer gives the citizen an answer (shown on the status page); the first one
    sets ``first_answer_at``. Raises NotFound, VersionConflict, InvalidState, Forbidden,
    ValidationError (field "note")."""
    now = now or utcnow()
    text = _note(text)
    c = _open_contact(session, complaint_id, actor, expected_version, (OFFICER,))
    from_status = c.status
    c.status, c.public_answer = ComplaintStatus.ANSWERED.value, text
    c.first_answer_at = c.first_answer_at or now
    save(session, c, expected_version)
    StepWriter(session, c, actor).write("answer", OFFICER, OFFICER, now, text, public=True)
    record_change(session, c, actor, "answer", from_status, now, {})
    return c


def escalate(session: Session, complaint_id: int, note: str, *, actor: Actor, expected_version: int,
             now: datetime | None = None) -> Complaint:
    """Consult the next level (officer → section head → division head, SOP steps 3-4) with
    ``note`` (the question). Raises InvalidState at the division head (the top) or at a
    routed stage, and what :func:`answer` raises."""
    now = now or utcnow()
    note = _note(note)
    c = _open_contact(session, complaint_id, actor, expected_version, tuple(ESCALATES_TO))
    office = office_of(session, c)
    if c.stage is None:  # _open_contact let only an open contact at an escalating stage through
        raise InvalidState(key="error.complaint.closed")
    target = ESCALATES_TO[c.stage]
    from_status = c.status
    old = _move(c, target, holder_role(office, target), now)
    save(session, c, expected_version)
    StepWriter(session, c, actor).write("escalate", old, target, now, note)
    record_change(session, c, actor, "escalate", from_status, now, {"from_stage": old, "to_stage": target})
    return c


def _route_file(session: Session, c: Complaint, target: str) -> tuple[Application, dict]:
    """The linked file, checked for ``target``; returns it and the kartu kendali extras."""
    app = session.get(Application, c.application_id) if c.application_id else None
    if app is None:
        raise ValidationError(key="error.complaint.no_file", field="resi_number")
    data = {"application_id": app.id, "resi_number": app.resi_number, "application_status": app.status,
            "step_code": app.step_code, "step_role": app.step_role}
    if target == APPROVAL_CHAIN and not (app.status in _CHAIN_OPEN and app.step_code is not None):
        raise InvalidState(key="error.complaint.file_not_on_chain", params={"status": app.status},
                           application_status=app.status)
    if target == PICKUP and app.status != ApplicationStatus.READY.value:
        raise InvalidState(key="error.complaint.document_not_finished", params={"status": app.status},
                           application_status=app.status)
    return app, data


def route(session: Session, complaint_id: int, target: str, note: str, *, actor: Actor, expected_version: int,
          now: datetime | None = None) -> Complaint:
    """The officer hands the contact to ``target`` ("editor", "approval_chain", "pickup";
    SOP steps 5-7) with ``note``. The linked file is required and checked (see the module
    docstring); for the chain the holder is the staff role of the file's current step, and
    the step code and role are written on the kartu kendali line. Raises ValidationError
    (field "target", "note" or "resi_number"), InvalidState, and what :func:`answer` raises."""
    now = now or utcnow()
    if target not in ROUTE_TARGETS:
        raise ValidationError(key="error.complaint.target", field="target")
    note = _note(note)
    c = _open_contact(session, complaint_id, actor, expected_version, (OFFICER,))
    office = office_of(session, c)
    app, data = _route_file(session, c, target)
    role = holder_role(office, target, app)
    data["holder_role"] = role
    from_status = c.status
    old = _move(c, target, role, now)
    save(session, c, expected_version)
    StepWriter(session, c, actor).write("route", old, target, now, note, data=data)
    record_change(session, c, actor, "route", from_status, now, {"from_stage": old, "to_stage": target, **data})
    return c


def reply(session: Session, complaint_id: int, note: str, *, actor: Actor, expected_version: int,
          now: datetime | None = None) -> Complaint:
    """Whoever holds an escalated or routed contact answers the officer with ``note``
    (what they found, corrected, signed or handed over); it goes back to the officer.
    Raises InvalidState at the officer's stage, and what :func:`answer` raises."""
    now = now or utcnow()
    note = _note(note)
    c = _open_contact(session, complaint_id, actor, expected_version, None)
    if c.stage == OFFICER:
        raise InvalidState(key="error.complaint.with_officer", stage=c.stage)
    office = office_of(session, c)
    from_status = c.status
    old = _move(c, OFFICER, holder_role(office, OFFICER), now)
    save(session, c, expected_version)
    StepWriter(session, c, actor).write("reply", old, OFFICER, now, note)
    record_change(session, c, actor, "reply", from_status, now, {"from_stage": old, "to_stage": OFFICER})
    return c


def outcome_of(session: Session, complaint_id: int) -> str:
    """Where the contact was resolved: the last stage it was escalated or routed to, or
    ``officer`` when it never left the officer (answered at once)."""
    last = session.scalars(select(ComplaintStep.to_stage).where(
        ComplaintStep.complaint_id == complaint_id, ComplaintStep.action.in_(("escalate", "route")),
    ).order_by(ComplaintStep.seq.desc())).first()
    return last or OFFICER


def close(session: Session, complaint_id: int, text: str, *, actor: Actor, expected_version: int,
          now: datetime | None = None) -> Complaint:
    """The officer closes the contact with the closing answer (the service report of SOP
    step 8), which the citizen sees; ``first_answer_at`` is set now if no answer was given
    before, ``outcome`` from :func:`outcome_of`. Raises what :func:`answer` raises."""
    now = now or utcnow()
    text = _note(text)
    c = _open_contact(session, complaint_id, actor, expected_version, (OFFICER,))
    from_status = c.status
    c.outcome = outcome_of(session, c.id)
    c.status, c.public_answer, c.closed_at = ComplaintStatus.CLOSED.value, text, now
    c.first_answer_at = c.first_answer_at or now
    old = _move(c, None, None, now)
    save(session, c, expected_version)
    StepWriter(session, c, actor).write("close", old, None, now, text, public=True, data={"outcome": c.outcome})
    record_change(session, c, actor, "close", from_status, now, {"outcome": c.outcome})
    return c
