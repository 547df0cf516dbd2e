"""Applications (permohonan, issue 4): registration at the counter, worklists, the approval
chain (approve, return for correction, hand over), the kartu kendali and the resi print.

The resi helpers and the public resi status are in ``server.api.resi``; what the file
operations share (scope, version conflicts) in ``server.api.files_helpers``.
"""
from __future__ import annotations


from flask import jsonify

from ..api_errors import api_language
from ..models import COUNTER_ROLES, Office, Role, utcnow
from ..security import current_actor
from ..services.applications import RequirementsMissing, approve, hand_over, return_for_correction, worklist
from ..services.applications.resi_print import send_resi_job
from ..services.applications.roles import step_roles
from ..services.queue.presenters import iso
from . import bp
from .contract import access, errors
from .files_helpers import ALL, application_for_staff, chain_action, file_view, register_at_counter, worklist_role
from .helpers import get_office, public_url, transaction
from .presenters import application_line
from .resi import resi_payload
from .schemas.applications import (
    ApplicationAnswer, ApplicationFileAnswer, ApproveBody, HandOverBody, PrintResiAnswer, PrintResiBody,
    RegisteredAnswer, RegisterBody, RegisterRefusal, ReturnBody, WorklistAnswer, WorklistQuery,
)


#: The registration's 422: validation_error, or requirements_missing with the missing
#: requirements (:class:`RegisterRefusal`) instead of the plain error body.
REGISTER_422 = {"schema": RegisterRefusal, "description": "validation_error (NIK, contact, case, requirement) or "
                                                          "requirements_missing with the missing requirements"}


@bp.post("/counters/<int:counter_id>/application", tags=["applications"])
@access(roles=tuple(COUNTER_ROLES))
@bp.arguments(RegisterBody)
@bp.response(201, RegisteredAnswer)
@errors(404, 409, answers={422: REGISTER_422})
def register(data: dict, counter_id: int):
    """Register an application (permohonan) for the ticket called or served at this counter,
    by its officer: the staff view of the file and its resi (number, signed payload, status
    URL, due date). 403 not the officer of this counter, 404 no such counter, 409 no ticket
    called or served here or a service that takes no applications, 422 an invalid NIK or
    contact, or ``requirements_missing`` (a requirement that applies is not confirmed:
    nothing is registered) with ``missing`` [{"index", "id", "en", "when"}]."""
    try:
        with transaction() as s:
            return register_at_counter(s, counter_id, data, utcnow()), 201
    except RequirementsMissing as exc:
        refusal = {"error": exc.code, "message": exc.text(api_language()), "missing": exc.missing}
        return jsonify(RegisterRefusal().dump(refusal)), 422


@bp.get("/offices/<code>/worklist", tags=["applications"])
@access(roles=())
@bp.arguments(WorklistQuery, location="query")
@bp.response(200, WorklistAnswer)
@errors(404)
def office_worklist(query: dict, code: str):
    """Open applications waiting at steps of a staff role, most urgent first (due date,
    then longest in step), each with its waiting time against the step's standard minutes,
    due date and overdue working days. ``?role=`` a staff role, or "all"; default the
    caller's role (managers and admins: all). 403 another office, 404 unknown office."""
    role, now = worklist_role(query.get("role")), utcnow()
    with transaction() as s:
        office = get_office(s, code)
        roles = step_roles(office)
        apps = worklist(s, office.id, Role.ADMIN.value if role == ALL else role)
        return {"office": office.code, "role": role, "now": iso(now),
                "applications": [application_line(office, a, roles, now) for a in apps]}


@bp.get("/applications/<int:application_id>", tags=["applications"])
@access(roles=())
@bp.response(200, ApplicationFileAnswer)
@errors(404)
def get_application(application_id: int):
    """One application for staff of its office, with its kartu kendali (each step's time
    against its standard, the current step, the delays) and the delivery state of its
    notices to the applicant (recipients masked: ``services.notices.application_notices``).
    A KTP-el (a service with an ``activate`` step) also has ``card``: the card bound at
    print (null before) and ``card_readers``: the office's card reader stations, for the
    bind at the print step (``POST /applications/<id>/card``). 403 another office, 404
    unknown application."""
    with transaction() as s:
        return file_view(s, application_for_staff(s, application_id), utcnow())


@bp.post("/applications/<int:application_id>/approve", tags=["applications"])
@access(roles=())
@bp.arguments(ApproveBody)
@bp.response(200, ApplicationAnswer)
@errors(404, 409)
def approve_application(data: dict, application_id: int):
    """The current step is done: the file moves on (to ``ready`` before the hand-over step;
    ``shelf_location`` only then). 403 not this step's role or another office, 409
    ``version_conflict`` (another officer acted first: reload) or ``invalid_state``."""
    return chain_action(application_id, approve, data["expected_version"], shelf_location=data["shelf_location"])


@bp.post("/applications/<int:application_id>/return", tags=["applications"])
@access(roles=())
@bp.arguments(ReturnBody)
@bp.response(200, ApplicationAnswer)
@errors(404, 409)
def return_application(data: dict, application_id: int):
    """Return the file for correction to the step the SOP says, with a reason of 1-300
    characters. 403 not this step's role or another office, 409 ``version_conflict`` or
    ``invalid_state``."""
    return chain_action(application_id, return_for_correction, data["expected_version"], reason=data["reason"])


@bp.post("/applications/<int:application_id>/hand-over", tags=["applications"])
@access(roles=())
@bp.arguments(HandOverBody)
@bp.response(200, ApplicationAnswer)
@errors(404, 409)
def hand_over_application(data: dict, application_id: int):
    """Hand the finished document over: the file is collected by ``collector`` (at least a
    name). 403 not this step's role or another office, 409 ``version_conflict`` or
    ``invalid_state`` (not ready)."""
    return chain_action(application_id, hand_over, data["expected_version"], collector=data["collector"])


@bp.post("/applications/<int:application_id>/print-resi", tags=["applications"])
@access(roles=())
@bp.arguments(PrintResiBody)
@bp.response(200, PrintResiAnswer)
@errors(404)
def print_resi(data: dict, application_id: int):
    """Print (or reprint) the resi on ``device_id`` (a printer or kiosk; default the printer
    of the counter that served the ticket, else an office-wide printer, else the first
    kiosk). The job is ``kind: "resi"`` (layout fields and printer rules in
    ``server.services.applications.resi_print``); the agent's result reaches the staff
    stream as ``resi_print``. 404 unknown application or no printer."""
    with transaction() as s:
        app = application_for_staff(s, application_id)
        office = s.get(Office, app.office_id)
        job, device = send_resi_job(s, app, resi_payload(office, app), public_url(), actor=current_actor(),
                                    device_id=data["device_id"])
        return {"job_id": job["job_id"], "device_id": device.id, "device": device.name, "job": job}
