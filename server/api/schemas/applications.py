"""Schemas of the application (permohonan) operations (``server.api.applications``) and of
the staff view of a file that the pickup and activation operations answer too
(``api.presenters.application_detail``)."""
from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from ...models import Role
from .common import Answer, Body, Id, Text, Version

#: The worklist's roles: a staff role, or "all".
WORKLIST_ROLES = sorted(r.value for r in Role) + ["all"]


# ---------------------------------------------------------------------------- requests
class IntOrText(fields.Field):
    """A checklist item: its index (an integer >= 0) or its text (at most 200 characters)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError("an index (integer) or a requirement text")
        if isinstance(value, int) and not 0 <= value <= 10_000:
            raise ValidationError("an index between 0 and 10000")
        if isinstance(value, str) and len(value) > 200:
            raise ValidationError("at most 200 characters")
        return value


class Cases(fields.Field):
    """The case(s) that decide conditional requirements: one key, a list of keys, or null."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value) <= 60:
            return value
        if (isinstance(value, list) and len(value) <= 20
                and all(isinstance(v, str) and len(v) <= 60 for v in value)):
            return value
        raise ValidationError("a case key, or a list of case keys")


class RegisterBody(Body):
    nik = Text(32, required=True, metadata={"example": "1471011205900001"})
    name = Text(200, required=True)
    phone = Text(40, allow_none=True, metadata={"description": "WhatsApp number (a phone or an e-mail is required)"})
    email = Text(200, allow_none=True)
    confirmed = fields.List(IntOrText(metadata={"oneOf": [{"type": "integer", "minimum": 0, "maximum": 10_000},
                                                          {"type": "string", "maxLength": 200}]}),
                            load_default=list, validate=validate.Length(max=100),
                            metadata={"description": "the requirements checked: index or text"})
    case = Cases(allow_none=True, load_default=None,
                 metadata={"description": 'null, a case key ("renewal") or a list',
                           "oneOf": [{"type": "string", "maxLength": 60},
                                     {"type": "array", "maxItems": 20, "items": {"type": "string", "maxLength": 60}}]})


class WorklistQuery(Body):
    role = fields.String(validate=validate.OneOf(WORKLIST_ROLES),
                         metadata={"description": "default: the caller's role (managers and admins: all)"})


class ApproveBody(Body):
    expected_version = Version(required=True, metadata={"description": "the version of the file you saw"})
    shelf_location = Text(200, allow_none=True, load_default=None,
                          metadata={"description": "where the finished document is filed (only when it becomes ready)"})


class ReturnBody(Body):
    expected_version = Version(required=True, metadata={"description": "the version of the file you saw"})
    reason = Text(2000, required=True, metadata={"description": "1-300 characters"})


class CollectorBody(Body):
    """Who collects the document (the pickup station checks who may)."""

    kind = fields.String(validate=validate.OneOf(["applicant", "representative"]))
    name = Text(200, allow_none=True)
    nik = Text(32, allow_none=True)
    relation = Text(100, allow_none=True)
    letter_number = Text(100, allow_none=True)


class HandOverBody(Body):
    expected_version = Version(required=True, metadata={"description": "the version of the file you saw"})
    collector = fields.Nested(CollectorBody, required=True)


class PrintResiBody(Body):
    device_id = Id(allow_none=True, load_default=None,
                   metadata={"description": "a printer or kiosk; default the counter's, an office-wide printer, "
                                            "else the first kiosk"})


# ---------------------------------------------------------------------------- answers
class ServiceLine(Answer):
    code = fields.String(required=True)
    letter = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)


class StepLine(Answer):
    index = fields.Integer(required=True)
    code = fields.String(required=True)
    name_id = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    role = fields.String(required=True, metadata={"description": "the catalog's role of the step"})
    staff_role = fields.String(allow_none=True, metadata={"description": "the staff role that acts on it"})


class ResiLinks(Answer):
    number = fields.String(required=True)
    payload = fields.String(required=True, metadata={"description": "the signed QR payload"})
    status_url = fields.String(required=True)
    due_date = fields.String(required=True, metadata={"format": "date"})


class ApplicationLine(Answer):
    """A worklist line (``api.presenters.application_line``)."""

    id = fields.Integer(required=True)
    resi_number = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    service = fields.Nested(ServiceLine, required=True)
    applicant_name = fields.String(required=True)
    step = fields.Nested(StepLine, allow_none=True, required=True)
    step_entered_at = fields.String(allow_none=True)
    waiting_minutes = fields.Float(allow_none=True)
    standard_minutes = fields.Float(allow_none=True)
    late = fields.Boolean(required=True)
    waits_for_citizen = fields.Boolean(required=True)
    submitted_at = fields.String(allow_none=True)
    due_date = fields.String(required=True, metadata={"format": "date"})
    overdue_working_days = fields.Integer(required=True)
    shelf_location = fields.String(allow_none=True)


class ApplicationDetail(ApplicationLine):
    """The staff view of one file (``api.presenters.application_detail``): never on a
    public screen."""

    applicant_nik_masked = fields.String(required=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    cases = fields.List(fields.String(), required=True)
    requirements = fields.List(fields.Dict(), required=True,
                               metadata={"description": "the service's checklist as registered"})
    ready_at = fields.String(allow_none=True)
    collected_at = fields.String(allow_none=True)
    collector = fields.Dict(allow_none=True, metadata={"description": "who collected it (kind, name, nik, "
                                                                      "relation, letter_number, signature, photo)"})
    resi = fields.Nested(ResiLinks, required=True)


class ApplicationAnswer(Answer):
    application = fields.Nested(ApplicationDetail, required=True)


class RegisteredAnswer(Answer):
    application = fields.Nested(ApplicationDetail, required=True)
    resi = fields.Nested(ResiLinks, required=True)


class MissingRequirement(Answer):
    index = fields.Integer(required=True)
    id = fields.String(required=True, metadata={"description": "the requirement in Indonesian"})
    en = fields.String(required=True)
    when = fields.String(allow_none=True, metadata={"description": "the case it applies to (null: always)"})


class RegisterRefusal(Answer):
    """A 422 of the registration: a schema or domain refusal (``validation_error`` with
    ``details.field``), or ``requirements_missing`` with the ``missing`` requirements."""

    error = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict()
    missing = fields.List(fields.Nested(MissingRequirement))


class WorklistAnswer(Answer):
    office = fields.String(required=True)
    role = fields.String(required=True)
    now = fields.String(required=True)
    applications = fields.List(fields.Nested(ApplicationLine), required=True)


class CardBinding(Answer):
    """The KTP-el bound to a file at print (``services.activation.cards.binding_view``)."""

    uid = fields.String(required=True)
    atr = fields.String(allow_none=True)
    reader = fields.String(allow_none=True)
    bound_at = fields.String(required=True)
    activated_at = fields.String(allow_none=True)
    fingerprint_failures = fields.Integer(required=True)
    blocked = fields.Boolean(required=True)


class CardReader(Answer):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class CardAnswer(Answer):
    card = fields.Nested(CardBinding, allow_none=True, required=True)


class CardSummary(Answer):
    id = fields.Integer(required=True)
    resi_number = fields.String(required=True)
    service_code = fields.String(required=True)
    service_name_id = fields.String(required=True)
    service_name_en = fields.String(required=True)
    applicant_name = fields.String(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    submitted_at = fields.String(allow_none=True)
    ready_at = fields.String(allow_none=True)
    collected_at = fields.String(allow_none=True)
    shelf_location = fields.String(allow_none=True)
    completion_working_days = fields.Integer(allow_none=True)


class Visit(Answer):
    seq = fields.Integer(required=True)
    action = fields.String(required=True)
    to_step = fields.String(allow_none=True)
    entered_at = fields.String(allow_none=True)
    left_at = fields.String(allow_none=True)
    minutes = fields.Float(allow_none=True)
    standard_minutes = fields.Float(allow_none=True)
    late = fields.Boolean(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    actor_role = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    data = fields.Dict(allow_none=True, metadata={"description": "the action's own data (e.g. the collector)"})


class CardStep(Answer):
    index = fields.Integer(required=True)
    code = fields.String(required=True)
    name_id = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)
    role = fields.String(required=True)
    staff_role = fields.String(allow_none=True)
    standard_minutes = fields.Float(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["done", "current", "pending"]))
    entered_at = fields.String(allow_none=True)
    left_at = fields.String(allow_none=True)
    minutes = fields.Float(allow_none=True)
    late = fields.Boolean(required=True)
    visits = fields.List(fields.Nested(Visit), required=True)


class CurrentStep(Answer):
    index = fields.Integer(required=True)
    code = fields.String(required=True)
    role = fields.String(required=True)
    entered_at = fields.String(allow_none=True)
    minutes_so_far = fields.Float(required=True)
    standard_minutes = fields.Float(required=True)
    late = fields.Boolean(required=True)
    waits_for_citizen = fields.Boolean(required=True)


class Delay(Answer):
    code = fields.String(required=True)
    minutes_over = fields.Float(required=True)


class ControlCard(Answer):
    """The kartu kendali (``services.applications.control_card``)."""

    application = fields.Nested(CardSummary, required=True)
    due_date = fields.String(required=True)
    overdue_working_days = fields.Integer(required=True)
    steps = fields.List(fields.Nested(CardStep), required=True)
    current = fields.Nested(CurrentStep, allow_none=True, required=True)
    delays = fields.List(fields.Nested(Delay), required=True)


class NoticeState(Answer):
    """A notice to the applicant, recipient masked (``services.notices.application_notices``)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    channel = fields.String(required=True)
    channel_label = fields.String(allow_none=True)
    recipient_masked = fields.String(allow_none=True)
    status = fields.String(required=True)
    status_label_id = fields.String(allow_none=True)
    status_label_en = fields.String(allow_none=True)
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.String(allow_none=True)
    sent_at = fields.String(allow_none=True)


class ApplicationFileAnswer(Answer):
    """One file with its kartu kendali and notices; a KTP-el also has ``card`` and
    ``card_readers``."""

    application = fields.Nested(ApplicationDetail, required=True)
    control_card = fields.Nested(ControlCard, required=True)
    notices = fields.List(fields.Nested(NoticeState), required=True)
    card = fields.Nested(CardBinding, allow_none=True, metadata={"description": "KTP-el only: null before print"})
    card_readers = fields.List(fields.Nested(CardReader), metadata={"description": "KTP-el only"})


class PrintResiAnswer(Answer):
    job_id = fields.String(required=True)
    device_id = fields.Integer(required=True)
    device = fields.String(required=True, metadata={"description": "the device's name"})
    job = fields.Dict(required=True, metadata={"description": 'the print job (kind "resi"; '
                                                              "services.applications.resi_print)"})


# ---------------------------------------------------------------------------- public resi status
class ResiQuery(Body):
    check = Text(40, metadata={"description": "with a typed number: the applicant's birth date (YYYY-MM-DD, "
                                              "DD-MM-YYYY, DD/MM/YYYY or DDMMYYYY)"})
    office = Text(40, metadata={"description": "the office code the resi must belong to (else resi_wrong_office)"})


class OfficeBrief(Answer):
    code = fields.String(required=True)
    name = fields.String(required=True)


class NamedBrief(Answer):
    code = fields.String(required=True)
    name_id = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class ResiPublicAnswer(Answer):
    """What anyone holding the resi may see (``services.applications.resi_lookup.resi_public``):
    no NIK, phone, e-mail or full name."""

    resi_number = fields.String(required=True)
    office = fields.Nested(OfficeBrief, required=True)
    service = fields.Nested(NamedBrief, required=True)
    step = fields.Nested(NamedBrief, allow_none=True, required=True)
    step_name = fields.String(allow_none=True)
    status = fields.String(required=True)
    ready = fields.Boolean(required=True)
    due_date = fields.String(required=True)
    name = fields.String(required=True, metadata={"description": "masked"})
