"""AKAPELA information requests and complaints (seed 001, issue 7): staff registration,
the list per role, a contact's kartu kendali, its moves (answer, escalate, route, reply,
close); the public registration and status look-up. The managers' report
(``/offices/<code>/reports/complaints``) is served with the other reports (``report_requests``).

Rules are in ``server.services.complaints``. Errors: 422 ``validation_error`` (a bad field;
registration lists every bad field in ``details.errors``), 403 (not the holder's role or
another office), 404, 409 ``invalid_state`` / ``version_conflict`` (another officer acted
first: reload), 429 ``too_many_requests`` / ``too_many_attempts``.
"""
from __future__ import annotations

from flask import jsonify, request

from ..models import Complaint, utcnow
from ..ratelimit import rate_limited
from ..security import current_actor, require
from ..services.applications.resi_lookup import CheckThrottle
from ..services.complaints import answer, close, escalate, register_contact, reply, route
from ..services.complaints.views import lookup_status, public_view, staff_detail, staff_item, waiting_list
from . import bp
from .helpers import body, expected_version, get_for_staff, get_office, transaction
from .resi import resi_signer

_FIELDS = ("name", "phone", "id_kind", "id_number", "channel", "kind", "resi_number", "text")
_THROTTLE = CheckThrottle()  # failed public status checks per contact number (per process)


def contact_fields(data: dict) -> dict:
    """The registration fields of a JSON body or form, as strings."""
    return {k: data.get(k) if isinstance(data.get(k), str) else "" for k in _FIELDS}


def status_throttle() -> CheckThrottle:
    """The process's throttle of failed public status checks (shared by the API and the page)."""
    return _THROTTLE


def _complaint_for_staff(s, complaint_id: int) -> Complaint:
    return get_for_staff(s, Complaint, complaint_id, "kontak tidak ditemukan / contact not found")


@bp.post("/offices/<code>/complaints")
@require(roles=())
def complaint_register(code: str):
    """Register an AKAPELA contact taken by an officer. Body {"name", "phone", "id_kind":
    "nik"|"kk", "id_number" (16 digits), "channel": phone|whatsapp|walk_in|web_form, "kind":
    information|complaint, "resi_number" (optional: typed number or scanned resi QR),
    "text" (1-2000 characters)}. Nothing is saved when a field is wrong.
    ---
    post:
      tags: [complaints]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name, phone, id_number, channel, kind, text]
              properties:
                name: {type: string}
                phone: {type: string, example: '0812-3456-7890'}
                id_kind: {type: string, enum: [nik, kk], default: nik}
                id_number: {type: string, example: '1471011205900001'}
                channel: {type: string, enum: [phone, whatsapp, walk_in, web_form]}
                kind: {type: string, enum: [information, complaint]}
                resi_number: {type: string, example: 'DEMO-B-20261123-0001'}
                text: {type: string, maxLength: 2000}
      responses:
        201: {description: '{"complaint": staff detail (id, number "AKP-YYYYMMDD-NNNN", version, stage, holder_role, steps ...)}'}
        422: {description: 'validation_error; details.errors = {field: message} for every bad field'}
    """
    data = body()
    now = utcnow()
    with transaction() as s:
        office = get_office(s, code)
        c = register_contact(s, office, contact_fields(data), actor=current_actor(), now=now, signer=resi_signer())
        return jsonify(complaint=staff_detail(s, c, now)), 201


@bp.get("/offices/<code>/complaints")
@require(roles=())
def complaint_list(code: str):
    """Contacts waiting for the caller's role (``?view=mine``, default; managers and admins:
    every open one), every open one (``open``) or the latest closed (``closed``), oldest in
    their stage first; each with its waiting time in the stage (s).
    ---
    get:
      tags: [complaints]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: view, schema: {type: string, enum: [mine, open, closed]}}
      responses:
        200: {description: '{"complaints": [{"id", "number", "version", "status", "stage", "holder_role", "kind", "channel", "name", "waiting_s", "first_answer_s", "resolution_s", ...}]}'}
    """
    now = utcnow()
    with transaction() as s:
        office = get_office(s, code)
        rows = waiting_list(s, office.id, current_actor().role or "", view=request.args.get("view") or "mine")
        return jsonify(complaints=[staff_item(c, now) for c in rows])


@bp.get("/complaints/<int:complaint_id>")
@require(roles=())
def complaint_detail(complaint_id: int):
    """One contact with its kartu kendali (every step: who, when, from and to which stage,
    the note) and the linked file.
    ---
    get:
      tags: [complaints]
      parameters: [{in: path, name: complaint_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"complaint": staff detail with "steps"}'}
        403: {description: another office}
        404: {description: unknown contact}
    """
    with transaction() as s:
        return jsonify(complaint=staff_detail(s, _complaint_for_staff(s, complaint_id)))


def _act(complaint_id: int, fn, *args) -> object:
    data = body()
    version = expected_version(data)
    now = utcnow()
    with transaction() as s:
        _complaint_for_staff(s, complaint_id)
        c = fn(s, complaint_id, *[a(data) for a in args], actor=current_actor(), expected_version=version, now=now)
        return jsonify(complaint=staff_detail(s, c, now))


def _note(data: dict) -> str:
    value = data.get("note")
    return value if isinstance(value, str) else ""


def _target(data: dict) -> str:
    value = data.get("target")
    return value if isinstance(value, str) else ""


def _complaint_action(action: str, summary: str, fn, *args) -> None:
    """Register ``POST /complaints/<id>/<action>``: one operation per action, its own body
    (``expected_version`` and ``note``; ``target`` for route) and answers; who may do it is
    the service's rule (the staff role holding the contact at its stage)."""
    def view(complaint_id: int):
        return _act(complaint_id, fn, *args)

    name = "complaint_" + action
    view.__name__ = view.__qualname__ = name
    required = "[expected_version, note, target]" if action == "route" else "[expected_version, note]"
    target = ("\n                target: {type: string, enum: [editor, approval_chain, pickup]}"
              if action == "route" else "")
    view.__doc__ = f"""{summary}
    Body {{"expected_version", "note"{', "target"' if action == "route" else ""}}}; answers the contact's staff detail.
    ---
    post:
      summary: {summary.split(":")[0]!r}
      tags: [complaints]
      parameters:
        - {{in: path, name: complaint_id, required: true, schema: {{type: integer}}}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: {required}
              properties:
                expected_version: {{type: integer}}
                note: {{type: string, maxLength: 2000}}{target}
      responses:
        200: {{description: '{{"complaint": staff detail}}'}}
        403: {{description: not the role holding the contact, or another office}}
        409: {{description: 'invalid_state (closed, wrong stage, file not in the right state) or version_conflict'}}
        422: {{description: validation_error (note, target, expected_version, resi_number)}}
    """
    bp.post(f"/complaints/<int:complaint_id>/{action}", endpoint=name)(require(roles=())(view))


_complaint_action("answer", "Answer the contact (officer): an answer the citizen sees.", answer, _note)
_complaint_action("escalate", "Escalate the contact (officer -> section head -> division head).", escalate, _note)
_complaint_action("route", "Route the contact (officer) to the editor, the approval chain or pickup; needs the "
                  "linked file.", route, _target, _note)
_complaint_action("reply", "Reply to the officer (the holder of an escalated or routed contact).", reply, _note)
_complaint_action("close", "Close the contact (officer): the closing answer, the service report.", close, _note)


# ---------------------------------------------------------------------------- public
@bp.post("/offices/<code>/complaints/public")
@rate_limited("complaint")
def complaint_public_register(code: str):
    """The public web form as JSON (no sign-in; CSRF token from ``/api/v1/auth/csrf``; rate
    limited per address). Body as the staff registration without ``channel`` (always
    web_form). Answers only the contact number: the status needs the phone's last 4 digits.
    ---
    post:
      tags: [complaints]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        201: {description: '{"number": "AKP-YYYYMMDD-NNNN", "office"}'}
        422: {description: 'validation_error; details.errors = {field: message}'}
        429: {description: too_many_requests}
    """
    data = body()
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        fields = {**contact_fields(data), "channel": "web_form"}
        c = register_contact(s, office, fields, actor=current_actor(), now=utcnow())
        return jsonify(number=c.number, office={"code": office.code, "name": office.name}), 201


@bp.post("/offices/<code>/complaints/status")
@rate_limited("complaint_status")
def complaint_public_status(code: str):
    """A contact's status for the citizen: body {"number", "check": last 4 digits of the
    phone given}. An unknown number and a wrong check answer the same 404; 10 failed checks
    of one number in 15 minutes answer 429. Shows no name, NIK, phone or text.
    ---
    post:
      tags: [complaints]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"number", "office", "kind", "channel", "status", "in_process", "received_at", "answered_at", "closed_at", "answer"}'}
        404: {description: unknown number or wrong check}
        422: {description: not a contact number, or check not 4 digits}
        429: {description: too many attempts}
    """
    data = body()
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        c = lookup_status(s, office, str(data.get("number") or ""), str(data.get("check") or ""),
                          throttle=status_throttle())
        return jsonify(public_view(office, c))
