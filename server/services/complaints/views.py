"""Reading AKAPELA contacts: the staff list per role ("what is waiting for me"), the staff
detail with its kartu kendali, and the public status (contact number + the last 4 digits
of the phone given: a guessed number alone shows nothing; never a name, NIK, phone or the
text on a public screen).

Times: ``first_answer_s`` = first answer − registration, ``resolution_s`` = closing −
registration, in seconds (None while not reached).
"""
from __future__ import annotations

import hmac
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Application, Complaint, ComplaintStatus, ComplaintStep, Office, Role, StaffUser, utcnow
from ..applications.resi_lookup import CheckThrottle, TooManyAttempts
from ..errors import NotFound, ValidationError
from ..nik import mask_nik
from ..queue.presenters import iso
from .registration import normalize_number, phone_digits
from .routing import OPEN

#: Roles that see every contact of their office (read only unless they hold the stage).
OVERSEERS = (Role.MANAGER.value, Role.ADMIN.value, Role.SYSTEM_ADMIN.value)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    """Seconds from ``start`` to ``end`` (None when either is missing)."""
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


def waiting_list(session: Session, office_id: int, role: str, *, view: str = "mine", limit: int = 200) -> list[Complaint]:
    """Contacts of the office, oldest in their stage first.

    ``view``: "mine" (open contacts held by ``role``; admins and managers: every open
    contact), "open" (every open contact), "closed" (the latest closed first). At most
    ``limit``. Raises ValidationError for another view.
    """
    stmt = select(Complaint).where(Complaint.office_id == office_id)
    if view == "closed":
        return list(session.scalars(stmt.where(Complaint.status == ComplaintStatus.CLOSED.value)
                                    .order_by(Complaint.closed_at.desc(), Complaint.id.desc()).limit(limit)))
    if view not in ("mine", "open"):
        raise ValidationError(key="error.complaint.view", field="view")
    stmt = stmt.where(Complaint.status.in_(OPEN))
    if view == "mine" and role not in OVERSEERS:
        stmt = stmt.where(Complaint.holder_role == role)
    return list(session.scalars(stmt.order_by(Complaint.stage_entered_at, Complaint.id).limit(limit)))


def staff_item(c: Complaint, now: datetime) -> dict:
    """A list line for staff: number, caller, kind, channel, stage and holder, times."""
    return {
        "id": c.id, "number": c.number, "version": c.version, "status": c.status, "stage": c.stage,
        "holder_role": c.holder_role, "kind": c.kind, "channel": c.channel, "name": c.name,
        "resi_number": c.resi_number, "created_at": iso(c.created_at), "stage_entered_at": iso(c.stage_entered_at),
        "waiting_s": None if c.stage is None else seconds_between(c.stage_entered_at, now),
        "first_answer_at": iso(c.first_answer_at), "closed_at": iso(c.closed_at), "outcome": c.outcome,
        "first_answer_s": seconds_between(c.created_at, c.first_answer_at),
        "resolution_s": seconds_between(c.created_at, c.closed_at),
    }


def staff_detail(session: Session, c: Complaint, now: datetime | None = None) -> dict:
    """The contact for staff: the list line plus phone, identity number (NIK or No. KK,
    masked like ``nik.mask_nik``), the text, the linked file and its current step, the latest public
    answer, and ``steps`` (the kartu kendali: seq, action, from/to stage, who (id, name,
    role), when, minutes since the line before, note, public, data)."""
    now = now or utcnow()
    item = staff_item(c, now)
    app = session.get(Application, c.application_id) if c.application_id else None
    rows = session.execute(
        select(ComplaintStep, StaffUser.full_name).outerjoin(StaffUser, StaffUser.id == ComplaintStep.actor_id)
        .where(ComplaintStep.complaint_id == c.id).order_by(ComplaintStep.seq)).all()
    steps, before = [], c.created_at
    for step, actor_name in rows:
        steps.append({
            "seq": step.seq, "action": step.action, "from_stage": step.from_stage, "to_stage": step.to_stage,
            "actor_type": step.actor_type, "actor_id": step.actor_id,
            "actor_name": actor_name if step.actor_type == "staff" else None, "actor_role": step.actor_role,
            "at": iso(step.at), "minutes": round((step.at - before).total_seconds() / 60, 2), "note": step.note,
            "public": step.public, "data": step.data,
        })
        before = step.at
    item.update({
        "phone": c.phone, "id_kind": c.id_kind,
        "id_number_masked": mask_nik(c.id_number),
        "text": c.text, "public_answer": c.public_answer,
        "application": None if app is None else {
            "id": app.id, "resi_number": app.resi_number, "status": app.status, "step_code": app.step_code,
            "step_role": app.step_role, "due_date": app.due_date.isoformat(),
        },
        "steps": steps,
    })
    return item


def public_view(office: Office, c: Complaint) -> dict:
    """What the citizen holding the number and the phone's last 4 digits sees: number,
    office, kind, channel, status, dates, and the latest answer. Nothing personal."""
    return {
        "number": c.number, "office": {"code": office.code, "name": office.name}, "kind": c.kind,
        "channel": c.channel, "status": c.status, "in_process": c.status != ComplaintStatus.CLOSED.value
        and c.stage != "officer", "received_at": iso(c.created_at), "answered_at": iso(c.first_answer_at),
        "closed_at": iso(c.closed_at), "answer": c.public_answer,
    }


_CHECK = re.compile(r"[0-9]{4}")


def _unknown() -> NotFound:
    return NotFound(key="error.complaint.lookup_unknown", reason="contact_unknown")


def lookup_status(session: Session, office: Office, number: str, check: str, *, throttle: CheckThrottle) -> Complaint:
    """The contact of ``office`` named by a typed ``number`` whose phone ends in ``check``
    (4 digits). An unknown number and a wrong check give the same NotFound, and both
    count as a failure for that number (``throttle``: 10 per 15 minutes, then
    TooManyAttempts, 429). Raises ValidationError (field "number" / "check") for input
    that is not a contact number / not 4 digits (not counted)."""
    canon = normalize_number(number)
    if canon is None:
        raise ValidationError(key="error.complaint.number_format", field="number")
    digits = (check or "").strip()
    if not _CHECK.fullmatch(digits):
        raise ValidationError(key="error.complaint.check_digits", field="check")
    key = f"complaint:{office.id}:{canon}"
    if throttle.blocked(key):
        raise TooManyAttempts(key="error.complaint.too_many_attempts")
    c = session.scalars(select(Complaint).where(Complaint.office_id == office.id, Complaint.number == canon)).first()
    expected = phone_digits(c.phone)[-4:] if c is not None else "----"
    if c is None or not hmac.compare_digest(expected.encode(), digits.encode()):
        throttle.fail(key)
        raise _unknown()
    return c
