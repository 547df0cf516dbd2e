"""AKAPELA information requests and complaints (seed 001, issue 7): staff registration,
the list per role, a contact's kartu kendali, its moves (answer, escalate, route, reply,
close); the public registration and status look-up. The managers' report
(``/offices/<code>/reports/complaints``) is served with the other reports (``report_requests``).

Rules are in ``server.services.complaints``. Errors: 422 ``validation_error`` (a bad field;
registration lists every bad field in ``details.errors``), 403 (not the holder's role or
another office), 404, 409 ``invalid_state`` / ``version_conflict`` (another officer acted
first: reload), 429 ``too_many_requests`` / ``too_many_attempts``. Bodies and answers are
the schemas of ``server.api.schemas.complaints``; each move of a contact is its own
operation with its own body.
"""
from __future__ import annotations

from ..models import Complaint, utcnow
from ..ratelimit import rate_limited
from ..security import current_actor, require_office
from ..services.applications.resi_lookup import CheckThrottle
from ..services.complaints import answer, close, escalate, register_contact, reply, route
from ..services.complaints.views import lookup_status, public_view, staff_detail, staff_item, waiting_list
from ..services.errors import NotFound
from . import bp
from .contract import access, errors, public
from .helpers import get_office, transaction
from .resi import resi_signer
from .schemas.complaints import (
    ComplaintActionBody,
    ComplaintAnswer,
    ComplaintBody,
    ComplaintListAnswer,
    ComplaintListQuery,
    ComplaintNumberAnswer,
    ComplaintPublicBody,
    ComplaintRouteBody,
    ComplaintStatusAnswer,
    ComplaintStatusBody,
)

_FIELDS = ("name", "phone", "id_kind", "id_number", "channel", "kind", "resi_number", "text")
_THROTTLE = CheckThrottle()  # failed public status checks per contact number (per process)


def contact_fields(data: dict) -> dict:
    """The registration fields of a JSON body or form, as strings."""
    return {k: data.get(k) if isinstance(data.get(k), str) else "" for k in _FIELDS}


def status_throttle() -> CheckThrottle:
    """The process's throttle of failed public status checks (shared by the API and the page)."""
    return _THROTTLE


def _complaint_for_staff(s, complaint_id: int) -> Complaint:
    """The contact ``complaint_id``: 404 when unknown, 403 when of another office."""
    complaint = s.get(Complaint, complaint_id)
    if complaint is None:
        raise NotFound(key="error.api.complaint.not_found")
    require_office(complaint.office_id)
    return complaint


@bp.post("/offices/<code>/complaints")
@access(roles=())
@bp.arguments(ComplaintBody)
@bp.response(201, ComplaintAnswer)
@errors(404)
def complaint_register(data: dict, code: str):
    """Register an AKAPELA contact taken by an officer: name, phone, NIK or No. KK,
    channel, kind, optional resi (typed number or scanned resi QR) and the text. Nothing is
    saved when a field is wrong: 422 with ``details.errors`` = {field: message} for every
    wrong field (``services.complaints.registration``). Answers 201 with the staff detail
    (number "AKP-YYYYMMDD-NNNN", version, stage, holder_role, steps, ...)."""
    now = utcnow()
    with transaction() as s:
        office = get_office(s, code)
        c = register_contact(s, office, contact_fields(data), actor=current_actor(), now=now, signer=resi_signer())
        return {"complaint": staff_detail(s, c, now)}, 201


@bp.get("/offices/<code>/complaints")
@access(roles=())
@bp.arguments(ComplaintListQuery, location="query")
@bp.response(200, ComplaintListAnswer)
@errors(404)
def complaint_list(query: dict, code: str):
    """Contacts waiting for the caller's role (``?view=mine``, default; managers and admins:
    every open one), every open one (``open``) or the latest closed (``closed``), oldest in
    their stage first; each with its waiting time in the stage (s)."""
    now = utcnow()
    with transaction() as s:
        office = get_office(s, code)
        rows = waiting_list(s, office.id, current_actor().role or "", view=query["view"])
        return {"complaints": [staff_item(c, now) for c in rows]}


@bp.get("/complaints/<int:complaint_id>")
@access(roles=())
@bp.response(200, ComplaintAnswer)
@errors(404)
def complaint_detail(complaint_id: int):
    """One contact with its kartu kendali (every step: who, when, from and to which stage,
    the note) and the linked file. 403 another office; 404 unknown contact."""
    with transaction() as s:
        return {"complaint": staff_detail(s, _complaint_for_staff(s, complaint_id))}


def _act(complaint_id: int, version: int, move, *args) -> dict:
    """Run ``move`` (a ``services.complaints`` action, with ``args``) on the contact for the
    caller at the ``version`` they saw; the contact's staff detail after it."""
    now = utcnow()
    with transaction() as s:
        _complaint_for_staff(s, complaint_id)
        c = move(s, complaint_id, *args, actor=current_actor(), expected_version=version, now=now)
        return {"complaint": staff_detail(s, c, now)}


# One operation per move (issue 14). Any staff may ask; the move itself allows only the
# role holding the contact at its stage (admins: any), of the contact's office
# (``services.complaints.routing``): 403 otherwise. 409 ``invalid_state`` (closed, wrong
# stage, the linked file not in the right state) or ``version_conflict`` (reload).
@bp.post("/complaints/<int:complaint_id>/answer")
@access(roles=())
@bp.arguments(ComplaintActionBody)
@bp.response(200, ComplaintAnswer)
@errors(404, 409)
def complaint_answer(data: dict, complaint_id: int):
    """Answer the contact (the officer): an answer the citizen sees on the status page; the
    contact stays open."""
    return _act(complaint_id, data["expected_version"], answer, data["note"])


@bp.post("/complaints/<int:complaint_id>/escalate")
@access(roles=())
@bp.arguments(ComplaintActionBody)
@bp.response(200, ComplaintAnswer)
@errors(404, 409)
def complaint_escalate(data: dict, complaint_id: int):
    """Escalate the contact with the question (officer -> section head -> division head)."""
    return _act(complaint_id, data["expected_version"], escalate, data["note"])


@bp.post("/complaints/<int:complaint_id>/route")
@access(roles=())
@bp.arguments(ComplaintRouteBody)
@bp.response(200, ComplaintAnswer)
@errors(404, 409)
def complaint_route(data: dict, complaint_id: int):
    """Route the contact (the officer) to the editor, the approval chain or pickup; needs
    the linked file (422 field resi_number without one)."""
    return _act(complaint_id, data["expected_version"], route, data["target"], data["note"])


@bp.post("/complaints/<int:complaint_id>/reply")
@access(roles=())
@bp.arguments(ComplaintActionBody)
@bp.response(200, ComplaintAnswer)
@errors(404, 409)
def complaint_reply(data: dict, complaint_id: int):
    """Reply to the officer (the holder of an escalated or routed contact): what they found
    or did; the contact goes back to the officer."""
    return _act(complaint_id, data["expected_version"], reply, data["note"])


@bp.post("/complaints/<int:complaint_id>/close")
@access(roles=())
@bp.arguments(ComplaintActionBody)
@bp.response(200, ComplaintAnswer)
@errors(404, 409)
def complaint_close(data: dict, complaint_id: int):
    """Close the contact (the officer) with the closing answer, the service report the
    citizen sees."""
    return _act(complaint_id, data["expected_version"], close, data["note"])


# ---------------------------------------------------------------------------- public
@bp.post("/offices/<code>/complaints/public")
@rate_limited("complaint")
@public
@bp.arguments(ComplaintPublicBody)
@bp.response(201, ComplaintNumberAnswer)
@errors(404)
def complaint_public_register(data: dict, code: str):
    """The public web form as JSON (no sign-in; CSRF token from ``/api/v1/auth/csrf``; rate
    limited per address). The body of the staff registration without ``channel`` (always
    web_form); 422 ``details.errors`` for every wrong field. Answers only the contact
    number: the status needs the phone's last 4 digits."""
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        c = register_contact(s, office, {**contact_fields(data), "channel": "web_form"}, actor=current_actor(),
                             now=utcnow())
        return {"number": c.number, "office": {"code": office.code, "name": office.name}}, 201


@bp.post("/offices/<code>/complaints/status")
@rate_limited("complaint_status")
@public
@bp.arguments(ComplaintStatusBody)
@bp.response(200, ComplaintStatusAnswer)
@errors(404)
def complaint_public_status(data: dict, code: str):
    """A contact's status for the citizen: the contact number and the last 4 digits of the
    phone given. An unknown number and a wrong check answer the same 404; 10 failed checks
    of one number in 15 minutes answer 429; 422 not a contact number, or a check that is
    not 4 digits. Shows no name, NIK, phone or text."""
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        c = lookup_status(s, office, data["number"], data["check"], throttle=status_throttle())
        return public_view(office, c)
