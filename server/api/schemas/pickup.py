"""Schemas of the pickup station operations (``server.api.pickup``)."""
from __future__ import annotations

from marshmallow import fields, validate

from .common import Answer, Body, Id, Text, Version

#: A code with at least one character that is not a space.
_NOT_BLANK = validate.Regexp(r"\s*\S", error="must not be empty")


class LookupBody(Body):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=512), _NOT_BLANK],
                         metadata={"description": "the scanned resi QR (payload or status URL) or a typed resi number"})


class StationCollector(Body):
    """The applicant ({"kind": "applicant", "nik"}) or a representative (with name,
    relation and the letter of authority's number); the station checks them."""

    kind = fields.String(validate=validate.OneOf(["applicant", "representative"]))
    name = Text(200, allow_none=True)
    nik = Text(32, allow_none=True)
    relation = Text(100, allow_none=True)
    letter_number = Text(100, allow_none=True)


class StationHandOverBody(Body):
    application_id = Id(required=True)
    expected_version = Version(required=True, metadata={"description": "the version of the file you saw"})
    collector = fields.Nested(StationCollector, required=True)
    signature = Text(3_000_000, required=True,
                     metadata={"description": "data:image/png;base64 URL, at most 300 kB decoded"})
    photo = Text(3_000_000, allow_none=True, load_default=None,
                 metadata={"description": "optional data:image/jpeg|png;base64 URL of the collector, at most 1.5 MB "
                                          "decoded, JPEG/PNG by its bytes"})


class NamesBrief(Answer):
    code = fields.String(required=True)
    name_id = fields.String(allow_none=True)
    name_en = fields.String(allow_none=True)


class PickupBrief(Answer):
    """The file as the pickup officer sees it (``services.applications.pickup``)."""

    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    resi_number = fields.String(required=True)
    status = fields.String(required=True)
    service = fields.Nested(NamesBrief, required=True)
    applicant_name = fields.String(required=True)
    applicant_nik_masked = fields.String(required=True)
    step = fields.Nested(NamesBrief, allow_none=True, required=True)
    shelf_location = fields.String(allow_none=True)
    due_date = fields.String(required=True)
    ready_at = fields.String(allow_none=True)
    collected_at = fields.String(allow_none=True)


class PickupCheck(Answer):
    key = fields.String(required=True)
    id = fields.String(required=True)
    en = fields.String(required=True)


class LookupAnswer(Answer):
    """``result`` "ok" (with ``checks`` and ``delegable``) or "refused" (with ``refusal``
    forged | malformed | foreign | wrong_office | unknown | not_ready | ktp_not_activated |
    already_collected | cancelled, ``message`` and ``details``)."""

    result = fields.String(required=True, validate=validate.OneOf(["ok", "refused"]))
    refusal = fields.String(allow_none=True, required=True)
    message = fields.String(metadata={"description": "refused: the reason, in the caller's language"})
    details = fields.Dict(metadata={"description": "refused: e.g. due_date, collected_at"})
    application = fields.Nested(PickupBrief, allow_none=True, required=True)
    checks = fields.List(fields.Nested(PickupCheck), metadata={"description": "ok: what the officer checks"})
    delegable = fields.Boolean(metadata={"description": "ok: false when the citizen must come in person"})
