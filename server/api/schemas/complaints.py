"""Schemas of the AKAPELA operations (``server.api.complaints``, seed 001, issue 7): the
registrations, the list, one body per action, the staff detail and the public status.

The fields' shapes are checked here; what a contact's fields mean (a NIK's checksum and
birth date, a phone's digits, a resi of this office, a non-blank text) is the service's
rule (``services.complaints.registration``), which lists every wrong field at once in
``details.errors``."""
from __future__ import annotations

from marshmallow import fields, validate

from ...services.complaints.registration import CHANNELS, ID_KINDS, KINDS, MAX_TEXT
from ...services.complaints.routing import MAX_NOTE
from ...services.complaints.stages import ROUTE_TARGETS
from .common import Answer, Body, Text, Version

VIEWS = ("mine", "open", "closed")


class ComplaintPublicBody(Body):
    """A contact from the public web form (the channel is always web_form)."""

    name = Text(300, required=True)
    phone = Text(40, required=True, metadata={"example": "0812-3456-7890"})
    id_kind = fields.String(validate=validate.OneOf(ID_KINDS), metadata={"description": "default nik"})
    id_number = Text(40, required=True, metadata={"description": "NIK or No. KK, 16 digits",
                                                  "example": "1471011205900001"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    resi_number = Text(600, allow_none=True, metadata={"description": "a typed resi number or a scanned resi QR",
                                                       "example": "DEMO-B-20261123-0001"})
    text = Text(MAX_TEXT + 200, required=True, metadata={"description": f"1-{MAX_TEXT} characters"})


class ComplaintBody(ComplaintPublicBody):
    """A contact an officer takes (phone, WhatsApp, at the desk, or a web form typed in)."""

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))


class ComplaintListQuery(Body):
    view = fields.String(load_default="mine", validate=validate.OneOf(VIEWS),
                         metadata={"description": "mine (default): waiting for my role (managers, admins: every "
                                                  "open one); open; closed (the latest)"})


class ComplaintActionBody(Body):
    """A move of a contact at the version the officer saw, with its note (the question, the
    answer, the closing answer)."""

    expected_version = Version(required=True, metadata={"description": "the contact's version the officer saw"})
    note = Text(MAX_NOTE, required=True, metadata={"description": f"1-{MAX_NOTE} characters"})


class ComplaintRouteBody(ComplaintActionBody):
    target = fields.String(required=True, validate=validate.OneOf(ROUTE_TARGETS))


class ComplaintStatusBody(Body):
    number = Text(40, required=True, metadata={"example": "AKP-20261205-0012"})
    check = Text(8, required=True, metadata={"description": "the last 4 digits of the phone given"})


class ComplaintItemAnswer(Answer):
    """A contact in the staff list; times ISO 8601, durations in seconds."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    stage = fields.String(allow_none=True, metadata={"description": "null once closed"})
    holder_role = fields.String(allow_none=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    name = fields.String(required=True)
    resi_number = fields.String(allow_none=True)
    created_at = fields.String(required=True)
    stage_entered_at = fields.String(allow_none=True)
    waiting_s = fields.Float(allow_none=True, metadata={"description": "time in its stage"})
    first_answer_at = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    first_answer_s = fields.Float(allow_none=True)
    resolution_s = fields.Float(allow_none=True)


class ComplaintStepAnswer(Answer):
    """A line of the kartu kendali."""

    seq = fields.Integer(required=True)
    action = fields.String(required=True)
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String(allow_none=True)
    actor_type = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True)
    actor_name = fields.String(allow_none=True)
    actor_role = fields.String(allow_none=True)
    at = fields.String(required=True)
    minutes = fields.Float(required=True, metadata={"description": "since the line before"})
    note = fields.String(allow_none=True)
    public = fields.Boolean(required=True)
    data = fields.Dict(allow_none=True, metadata={"description": "what the move recorded (e.g. the file routed)"})


class ComplaintFileAnswer(Answer):
    """The linked file (permohonan) and its current step."""

    id = fields.Integer(required=True)
    resi_number = fields.String(required=True)
    status = fields.String(required=True)
    step_code = fields.String(allow_none=True)
    step_role = fields.String(allow_none=True)
    due_date = fields.String(required=True)


class ComplaintDetailAnswer(ComplaintItemAnswer):
    """A contact for staff: the list line, the caller's details (identity number masked),
    the text, the linked file and the kartu kendali."""

    phone = fields.String(required=True)
    id_kind = fields.String(required=True)
    id_number_masked = fields.String(required=True)
    text = fields.String(required=True)
    public_answer = fields.String(allow_none=True)
    application = fields.Nested(ComplaintFileAnswer, allow_none=True)
    steps = fields.List(fields.Nested(ComplaintStepAnswer), required=True)


class ComplaintAnswer(Answer):
    complaint = fields.Nested(ComplaintDetailAnswer, required=True)


class ComplaintListAnswer(Answer):
    complaints = fields.List(fields.Nested(ComplaintItemAnswer), required=True)


class ComplaintOfficeAnswer(Answer):
    code = fields.String(required=True)
    name = fields.String(required=True)


class ComplaintNumberAnswer(Answer):
    """The public registration's answer: the contact number only."""

    number = fields.String(required=True, metadata={"example": "AKP-20261205-0012"})
    office = fields.Nested(ComplaintOfficeAnswer, required=True)


class ComplaintStatusAnswer(Answer):
    """What the citizen sees: nothing personal."""

    number = fields.String(required=True)
    office = fields.Nested(ComplaintOfficeAnswer, required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    status = fields.String(required=True)
    in_process = fields.Boolean(required=True, metadata={"description": "with someone beyond the officer"})
    received_at = fields.String(required=True)
    answered_at = fields.String(allow_none=True)
    closed_at = fields.String(allow_none=True)
    answer = fields.String(allow_none=True)
