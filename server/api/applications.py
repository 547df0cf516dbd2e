"""Applications (permohonan, issue 4): registration at the counter, worklists, the approval
chain (approve, return for correction, hand over), the kartu kendali and the resi print.

The resi helpers and the public resi status are in ``server.api.resi``.
"""
from __future__ import annotations

from flask import abort, current_app, jsonify, request

from ..models import COUNTER_ROLES, Application, ApplicationStatus, Counter, Office, Role, utcnow
from ..security import current_actor, office_allowed, require
from ..services.activation import cards
from ..services.applications import (
    STALE, RequirementsMissing, approve, control_card, hand_over, register_application, return_for_correction,
    worklist,
)
from ..services.applications.card_gate import has_activation
from ..services.applications.resi_print import send_resi_job
from ..services.applications.roles import step_roles
from ..services.errors import InvalidState, NotFound, ValidationError
from ..services.notices.status import application_notices
from ..services.notices.subscriber import on_application_changed
from ..services.queue.access import current_ticket
from ..services.queue.presenters import iso
from . import bp
from .helpers import (
    FILE_VERSION, application_for_staff, body, expected_version, get_office, int_arg, public_url, transaction,
    version_conflict,
)
from .presenters import application_detail, application_line
from .resi import resi_links, resi_payload

READY = ApplicationStatus.READY.value
_ALL_ROLES = frozenset(r.value for r in Role) | {"all"}


def _act(application_id: int, fn, **kwargs):
    """Run a chain action at the caller's ``expected_version``; a stale version is 409
    ``version_conflict`` with the current version."""
    data = body()
    expected = expected_version(data, *FILE_VERSION)
    now = utcnow()
    try:
        with transaction() as s:
            application_for_staff(s, application_id)
            app = fn(s, application_id, actor=current_actor(), expected_version=expected, now=now,
                     **{k: v(data) for k, v in kwargs.items()})
            # Ready, or returned to the counter: the citizen's notice is queued in this same
            # transaction (transactional outbox: a crash can never lose it).
            on_application_changed(s, app, providers=current_app.extensions["loket_notice_providers"], now=now)
            return jsonify(application=application_detail(s, app, now))
    except InvalidState as exc:
        if exc.message != STALE:
            raise
    raise version_conflict(application_id, expected)


# ---------------------------------------------------------------------------- routes
@bp.post("/counters/<int:counter_id>/application")
@require(roles=tuple(COUNTER_ROLES))
def register(counter_id: int):
    """Register an application (permohonan) for the ticket called or served at this counter,
    by its officer. Body {"nik", "name", "phone", "email", "confirmed": [index or requirement
    text, ...], "case": null | "renewal" | [...]}. When a requirement that applies is not
    confirmed, nothing is registered: 422 {"error": "requirements_missing", "message",
    "missing": [{"index", "id", "en", "when"}]}.
    ---
    post:
      tags: [applications]
      parameters: [{in: path, name: counter_id, required: true, schema: {type: integer}}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [nik, name, confirmed]
              properties:
                nik: {type: string, example: '1471011205900001'}
                name: {type: string}
                phone: {type: string, description: WhatsApp number (phone or email required)}
                email: {type: string}
                confirmed: {type: array, items: {oneOf: [{type: integer}, {type: string}]}}
                case: {oneOf: [{type: string}, {type: array, items: {type: string}}], nullable: true}
      responses:
        201: {description: '{"application": staff view (resi_number, due_date, step, version ...), "resi": {"number", "payload", "status_url", "due_date"}}'}
        403: {description: not the officer of this counter}
        409: {description: no ticket called or served here, or the service takes no applications}
        422: {description: 'invalid NIK/contact (validation_error) or {"error": "requirements_missing", "missing": [...]}'}
    """
    data = body()
    confirmed = data.get("confirmed", [])
    if not isinstance(confirmed, list):
        raise ValidationError("confirmed harus berupa daftar / confirmed must be a list", field="confirmed")
    case = data.get("case")
    if case is not None and not isinstance(case, (str, list)):
        raise ValidationError("case: teks atau daftar / case must be a string or a list", field="case")
    text = {k: data.get(k) if isinstance(data.get(k), str) or data.get(k) is None else str(data.get(k))
            for k in ("nik", "name", "phone", "email")}
    now = utcnow()
    try:
        with transaction() as s:
            counter = s.get(Counter, counter_id)
            if counter is None:
                raise NotFound("loket tidak ditemukan / counter not found")
            if not office_allowed(counter.office_id):
                abort(403)
            ticket = current_ticket(s, counter)
            if ticket is None:
                raise InvalidState(f"tidak ada antrian yang dipanggil atau dilayani di loket {counter.number} / "
                                   f"no ticket is called or served at counter {counter.number}")
            app = register_application(
                s, ticket.id, nik=text["nik"] or "", name=text["name"] or "", phone=text["phone"],
                email=text["email"], confirmed=confirmed, case=case, actor=current_actor(), now=now)
            office = s.get(Office, app.office_id)
            return jsonify(application=application_detail(s, app, now), resi=resi_links(office, app)), 201
    except RequirementsMissing as exc:
        return jsonify(error=exc.code, message=exc.message, missing=exc.missing), 422


@bp.get("/offices/<code>/worklist")
@require(roles=())
def office_worklist(code: str):
    """Open applications waiting at steps of a staff role, most urgent first (due date,
    then longest in step), each with its waiting time against the step's standard minutes,
    due date and overdue working days. ``?role=`` a staff role, or "all"; default the
    caller's role (managers and admins: all).
    ---
    get:
      tags: [applications]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: role, schema: {type: string, enum: [front_office, section_head, division_head, head_of_office, activation_officer, pickup_officer, manager, admin, all]}}
      responses:
        200: {description: '{"office", "role", "now", "applications": [{"id", "resi_number", "version", "status", "step", "waiting_minutes", "standard_minutes", "late", "due_date", "overdue_working_days", ...}]}'}
        403: {description: another office}
        422: {description: unknown role}
    """
    actor = current_actor()
    role = request.args.get("role") or actor.role
    if role in (Role.MANAGER.value, Role.ADMIN.value) and not request.args.get("role"):
        role = "all"
    if role not in _ALL_ROLES:
        raise ValidationError(f"peran tidak dikenal / unknown role {role!r}", field="role")
    now = utcnow()
    with transaction() as s:
        office = get_office(s, code)
        roles = step_roles(office)
        apps = worklist(s, office.id, Role.ADMIN.value if role == "all" else role)
        return jsonify(office=office.code, role=role, now=iso(now),
                       applications=[application_line(office, a, roles, now) for a in apps])


@bp.get("/applications/<int:application_id>")
@require(roles=())
def get_application(application_id: int):
    """One application for staff of its office, with its kartu kendali (each step's time
    against its standard, the current step, the delays) and the delivery state of its
    notices to the applicant (recipients masked: ``services.notices.application_notices``).
    A KTP-el (a service with an ``activate`` step) also has ``card``: the card bound at
    print (null before) and ``card_readers``: the office's card reader stations, for the
    bind at the print step (``POST /applications/<id>/card``).
    ---
    get:
      tags: [applications]
      parameters: [{in: path, name: application_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"application": staff view with resi, "control_card": {"steps", "current", "delays", "overdue_working_days"}, "notices": [{"kind", "channel", "recipient_masked", "status", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at", ...}], KTP-el only: "card": {"uid", "atr", "reader", "bound_at", "activated_at", "fingerprint_failures", "blocked"} or null, "card_readers": [{"id", "name"}]}'}
        403: {description: another office}
        404: {description: unknown application}
    """
    now = utcnow()
    with transaction() as s:
        app = application_for_staff(s, application_id)
        return jsonify(application=application_detail(s, app, now), control_card=control_card(s, app.id, now=now),
                       notices=application_notices(s, app.id), **_card_part(s, app))


def _card_part(s, app: Application) -> dict:
    """{"card", "card_readers"} of a KTP-el file (issue 5), else {}."""
    if not has_activation(app):
        return {}
    from .activation import card_readers  # the activation API imports this module
    return {"card": cards.binding_view(cards.binding_of(s, app.id)), "card_readers": card_readers(s, app.office_id)}


_ACTION_DOC = """
    ---
    post:
      tags: [applications]
      parameters: [{in: path, name: application_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"application": staff view}'}
        403: {description: not this step's role, or another office}
        409: {description: 'version_conflict (another officer acted first: reload) or invalid_state'}
        422: {description: validation_error}
"""


@bp.post("/applications/<int:application_id>/approve")
@require(roles=())
def approve_application(application_id: int):
    """The current step is done: the file moves on (to ``ready`` before the hand-over step).
    Body {"expected_version": int, "shelf_location": optional, only when the file becomes ready}.
    """
    return _act(application_id, approve, shelf_location=lambda d: d.get("shelf_location"))


@bp.post("/applications/<int:application_id>/return")
@require(roles=())
def return_application(application_id: int):
    """Return the file for correction to the step the SOP says. Body {"expected_version": int,
    "reason": 1-300 characters}.
    """
    return _act(application_id, return_for_correction, reason=lambda d: str(d.get("reason") or ""))


@bp.post("/applications/<int:application_id>/hand-over")
@require(roles=())
def hand_over_application(application_id: int):
    """Hand the finished document over: the file is collected. Body {"expected_version": int,
    "collector": {"name", "kind": "applicant"|"representative", "nik", "relation", "letter_number"}}.
    """
    return _act(application_id, hand_over, collector=lambda d: d.get("collector"))


for _view in (approve_application, return_application, hand_over_application):
    _view.__doc__ += _ACTION_DOC


@bp.post("/applications/<int:application_id>/print-resi")
@require(roles=())
def print_resi(application_id: int):
    """Print (or reprint) the resi. Body {"device_id": optional printer or kiosk id; default
    the printer of the counter that served the ticket, else an office-wide printer, else the
    first kiosk}. The job is ``kind: "resi"`` (layout fields and printer rules in
    ``server.services.applications.resi_print``); the agent's result reaches the staff
    stream as ``resi_print``.
    ---
    post:
      tags: [applications]
      parameters: [{in: path, name: application_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"job_id", "device_id", "device" (its name), "job"}'}
        404: {description: unknown application or no printer}
    """
    data = body()
    with transaction() as s:
        app = application_for_staff(s, application_id)
        office = s.get(Office, app.office_id)
        job, device = send_resi_job(s, app, resi_payload(office, app), public_url(), actor=current_actor(),
                                    device_id=int_arg(data, "device_id", lo=1))
        return jsonify(job_id=job["job_id"], device_id=device.id, device=device.name, job=job)

