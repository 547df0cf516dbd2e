"""Schemas of the KTP-el activation counter and the card bound at print
(``server.api.activation``)."""
from __future__ import annotations

from marshmallow import fields, validate

from .common import Answer, Body, Id, Text, Version

_NOT_BLANK = validate.Regexp(r"\s*\S", error="must not be empty")
_SEEN = {"description": "the version of the session you saw (optional)"}


class OpenBody(Body):
    ref = fields.String(required=True, validate=[validate.Length(min=1, max=512), _NOT_BLANK],
                        metadata={"description": "resi QR payload, its status URL, a typed resi number, or the "
                                                 "applicant's 16-digit NIK"})


class FingerprintBody(Body):
    result = fields.String(required=True, validate=validate.OneOf(["match", "no_match"]),
                           metadata={"description": "the certified reader's result, as the officer read it"})
    expected_version = Version(allow_none=True, load_default=None, metadata=_SEEN)


class CompleteBody(Body):
    in_person = fields.Boolean(load_default=False, metadata={"description": "the applicant is here in person"})
    identity_checked = fields.Boolean(load_default=False, metadata={"description": "the officer checked the identity"})
    expected_version = Version(allow_none=True, load_default=None, metadata=_SEEN)
    shelf_location = Text(200, allow_none=True, load_default=None)


class ReleaseBody(Body):
    reason = Text(2000, load_default="", metadata={"description": "1-300 characters"})


class BindCardBody(Body):
    device_id = Id(required=True, metadata={"description": "the activation station whose reader holds the card"})
    expected_version = Version(required=True, metadata={"description": "the version of the file you saw"})


# ---------------------------------------------------------------------------- answers
class SessionApplication(Answer):
    id = fields.Integer(required=True)
    resi_number = fields.String(required=True)
    service = fields.String(required=True, metadata={"description": "the service's Indonesian name"})
    name = fields.String(required=True)
    nik = fields.String(required=True)
    step_name = fields.String(allow_none=True)
    status = fields.String(required=True)


class SessionCard(Answer):
    state = fields.String(allow_none=True)
    refusal = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    uid = fields.String(allow_none=True)
    bound_uid = fields.String(allow_none=True)
    reader = fields.String(allow_none=True)
    at = fields.String(allow_none=True)


class SessionFingerprint(Answer):
    attempts = fields.Integer(required=True, metadata={"description": "this session"})
    session_failures = fields.Integer(required=True)
    failures = fields.Integer(required=True, metadata={"description": "since the last release"})
    max_failures = fields.Integer(required=True)
    verified = fields.Boolean(required=True)
    blocked = fields.Boolean(required=True)


class ActivationSession(Answer):
    """The station page's SESSION (``services.activation.texts.view``); staff only: it holds
    the applicant's name and NIK."""

    id = fields.Integer(required=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    application = fields.Nested(SessionApplication, required=True)
    card = fields.Nested(SessionCard, required=True)
    fingerprint = fields.Nested(SessionFingerprint, required=True)
    can_complete = fields.Boolean(required=True)
    completed_at = fields.String(allow_none=True)


class Desk(Answer):
    counter = fields.Integer(allow_none=True, metadata={"description": "the officer's open counter"})
    ticket = fields.String(allow_none=True, metadata={"description": "its called or served ticket"})
    ticket_status = fields.String(allow_none=True)


class ReaderHealth(Answer):
    state = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)


class StationCard(Answer):
    present = fields.Boolean(required=True)
    uid = fields.String(allow_none=True)
    reader = fields.String(allow_none=True)
    at = fields.String(allow_none=True)


class Station(Answer):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    desk = fields.Nested(Desk, required=True)
    reader = fields.Nested(ReaderHealth, required=True)
    card = fields.Nested(StationCard, required=True)


class StationAnswer(Answer):
    station = fields.Nested(Station, required=True)
    session = fields.Nested(ActivationSession, allow_none=True, required=True)


class SessionAnswer(Answer):
    session = fields.Nested(ActivationSession, allow_none=True, required=True)
