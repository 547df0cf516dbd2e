"""Schemas of the public online booking operations (``server.api.bookings``, issue 6 and 13)."""
from __future__ import annotations

from marshmallow import fields

from .common import Answer, Body, Count, Text


class BookingBody(Body):
    """Step 1 of a booking: what is asked and the contact the code goes to."""

    service = Text(64, required=True, metadata={"description": "a bookable service's code", "example": "ktp_el"})
    day = fields.Date(required=True, metadata={"description": "YYYY-MM-DD, a day open for booking"})
    session = Text(32, required=True, metadata={"description": "a session code (see the availability)"})
    nik = Text(32, required=True, metadata={"description": "the citizen's NIK (16 digits)"})
    name = Text(200, required=True)
    phone = Text(32, allow_none=True, metadata={"description": "WhatsApp number (or give email)"})
    email = Text(254, allow_none=True)
    challenge = Text(500, metadata={"description": "the anti-bot challenge, when the office asks for one"})
    solution = Text(200, metadata={"description": "its solution for this NIK"})


class BookingConfirmBody(Body):
    """Step 2 of a booking."""

    request = Text(200, required=True, metadata={"description": "the token step 1 answered"})
    code = Text(32, required=True, metadata={"description": "the 6 digits sent to the contact"})


class BookingCancelBody(Body):
    nik = Text(32, required=True, metadata={"description": "the booking's own NIK"})


class BookingOfficeAnswer(Answer):
    code = fields.String(required=True)
    name = fields.String(required=True)
    address = fields.String(allow_none=True)


class BookingRequirementAnswer(Answer):
    """A document to bring (``when``: the case it applies to, null for always)."""

    id = fields.String(allow_none=True, metadata={"description": "the Indonesian text"})
    en = fields.String(allow_none=True)
    when = fields.String(allow_none=True)


class BookableServiceAnswer(Answer):
    code = fields.String(required=True)
    letter = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(allow_none=True)
    description_id = fields.String(allow_none=True)
    requirements = fields.List(fields.Nested(BookingRequirementAnswer), required=True)
    quota = fields.Integer(required=True, metadata={"description": "places per session"})


class BookingSessionTimesAnswer(Answer):
    code = fields.String(required=True)
    start = fields.String(required=True, metadata={"description": "HH:MM"})
    end = fields.String(required=True, metadata={"description": "HH:MM"})
    label = fields.String(required=True)


class BookingSessionDayAnswer(Answer):
    open = fields.Boolean(required=True, metadata={"description": "bookable now"})
    left = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                       metadata={"description": "places left per service code"})


class BookingDayAnswer(Answer):
    date = fields.String(required=True, metadata={"description": "YYYY-MM-DD"})
    sessions = fields.Dict(keys=fields.String(), values=fields.Nested(BookingSessionDayAnswer), required=True,
                           metadata={"description": "per session code"})


class BookingAvailabilityAnswer(Answer):
    """The bookable services, the sessions and the days open for booking with the places left."""

    office = fields.Nested(BookingOfficeAnswer, required=True)
    services = fields.List(fields.Nested(BookableServiceAnswer), required=True)
    sessions = fields.List(fields.Nested(BookingSessionTimesAnswer), required=True)
    days = fields.List(fields.Nested(BookingDayAnswer), required=True)
    horizon_days = fields.Integer(required=True)
    opens_at = fields.String(required=True, metadata={"description": "HH:MM, when a day opens for booking"})


class BookingChallengeAnswer(Answer):
    challenge = fields.String(required=True)
    bits = fields.Integer(required=True, metadata={"description": "leading zero bits asked; 0: no check"})


class BookingRequestedAnswer(Answer):
    """Step 1's answer: the same whether or not the NIK already holds a booking."""

    request = fields.String(required=True, metadata={"description": "the token for step 2"})
    contact = fields.String(required=True, metadata={"description": "masked"})
    expires_at = fields.String(required=True, metadata={"description": "ISO 8601"})
    attempts = Count(required=True, metadata={"description": "how many codes may be tried"})
    message = fields.String(required=True)


class BookingSentAnswer(Answer):
    """Step 2's answer, whatever the outcome (it goes to the confirmed contact only)."""

    status = fields.String(required=True, metadata={"enum": ["sent"]})
    contact = fields.String(required=True, metadata={"description": "masked"})
    message = fields.String(required=True)


class BookingServiceAnswer(Answer):
    code = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(allow_none=True)


class BookingSessionAnswer(Answer):
    code = fields.String(required=True)
    label = fields.String(required=True)


class BookingAnswer(Answer):
    """A booking's confirmation (no NIK; the name masked)."""

    code = fields.String(required=True)
    status = fields.String(required=True)
    office = fields.Nested(BookingOfficeAnswer, required=True)
    service = fields.Nested(BookingServiceAnswer, required=True)
    day = fields.String(required=True, metadata={"description": "YYYY-MM-DD"})
    session = fields.Nested(BookingSessionAnswer, required=True)
    checkin_from = fields.String(required=True, metadata={"description": "ISO 8601"})
    checkin_until = fields.String(required=True, metadata={"description": "ISO 8601"})
    name = fields.String(required=True, metadata={"description": "masked"})
    qr_payload = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "the booking's public page"})
    requirements = fields.List(fields.Nested(BookingRequirementAnswer), required=True)
    cancel_hint = fields.String(required=True)
