"""Schemas of the queue's public shapes (``server.services.queue.presenters``,
``server.services.snapshots``) and of the ticket operations (``server.api.tickets``): the
service, office, ticket, counter and call views, the ticket status, and the answer to a
ticket issue ``{"ticket", "status_url", "print", "repeated"}`` (also the kiosk check-in's).
Other areas may import the answer schemas from here."""
from __future__ import annotations

from marshmallow import fields, validate

from ...models import PriorityKind
from .common import Answer, Body, Count, Text

#: The priority kinds a ticket may be issued with (``None``: a regular ticket).
PRIORITY_KINDS = tuple(p.value for p in PriorityKind)


class ServiceAnswer(Answer):
    """A service as kiosks and displays see it (``queue.presenters.service_public``)."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    letter = fields.String(required=True)
    name_id = fields.String(required=True)
    name_en = fields.String(required=True)
    description_id = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    requirements = fields.List(fields.Raw(), allow_none=True, metadata={"description": "the catalog's requirements"})
    kind = fields.String(required=True)
    counter_minutes = fields.Float(allow_none=True)
    active = fields.Boolean(required=True)


class OfficeAnswer(Answer):
    """An office's header for screens (``snapshots.office_public``); times ``HH:MM``, office-local."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    address = fields.String(allow_none=True)
    running_text = fields.String(allow_none=True)
    timezone = fields.String(required=True)
    opening_time = fields.String(required=True)
    closing_time = fields.String(required=True)
    speak_window_s = fields.Float(required=True)


class TicketStreamAnswer(Answer):
    """A ticket as the office streams and snapshots carry it (``queue.presenters.ticket_stream``):
    no personal data, no ``public_id``; times ISO 8601 strings."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    service_id = fields.Integer(required=True)
    service_code = fields.String(required=True)
    service_letter = fields.String(required=True)
    status = fields.String(required=True)
    priority = fields.Boolean(required=True)
    priority_kind = fields.String(allow_none=True)
    day = fields.String(required=True, metadata={"description": "the queue day, YYYY-MM-DD"})
    sort_key = fields.Integer(required=True)
    eligible_after_calls = fields.Integer(required=True)
    skip_count = fields.Integer(required=True)
    issued_at = fields.String(allow_none=True)
    waiting_since = fields.String(allow_none=True)
    called_at = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True)
    counter_id = fields.Integer(allow_none=True)
    counter_number = fields.Integer(allow_none=True)
    counter_label = fields.String(allow_none=True)
    end_reason = fields.String(allow_none=True)
    print_status = fields.String(allow_none=True)


class TicketAnswer(TicketStreamAnswer):
    """A ticket as its citizen sees it (``queue.presenters.ticket_public``): the stream view
    with ``public_id`` (the secret of its QR link)."""

    public_id = fields.String(required=True)


class TicketStatusAnswer(TicketAnswer):
    """A citizen's ticket with its position and estimate (``snapshots.ticket_status``)."""

    people_ahead = fields.Integer(allow_none=True)
    estimated_wait_s = fields.Integer(allow_none=True, metadata={"description": "seconds, rounded; null unknown"})
    service = fields.Nested(ServiceAnswer, required=True)
    office = fields.Nested(OfficeAnswer, required=True)


class PrintRef(Answer):
    job_id = fields.String(required=True)


class IssuedAnswer(Answer):
    """The answer to a ticket issue or a kiosk check-in (``presenters.issued_answer``)."""

    ticket = fields.Nested(TicketStatusAnswer, required=True)
    status_url = fields.String(required=True, metadata={"description": "the public status page (the QR link)"})
    print = fields.Nested(PrintRef, allow_none=True, required=True,
                          metadata={"description": "the print job queued for the kiosk's printer; null from staff"})
    repeated = fields.Boolean(required=True, metadata={"description": "true: the ticket issued before for this "
                                                                      "request (no new ticket, no new job)"})


class CurrentTicketAnswer(Answer):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    status = fields.String(required=True)


class CounterAnswer(Answer):
    """A counter with its state and the ticket it is serving (``queue.presenters.counter_public``)."""

    id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    label = fields.String(required=True)
    state = fields.String(required=True)
    pause_reason = fields.String(allow_none=True)
    service_ids = fields.List(fields.Integer(), required=True)
    officer_id = fields.Integer(allow_none=True)
    current = fields.Nested(CurrentTicketAnswer, allow_none=True, required=True)


class CallAnswer(Answer):
    """One call as the TV shows and speaks it (``queue.presenters.call_public``)."""

    id = fields.Integer(required=True)
    ticket_id = fields.Integer(required=True)
    number = fields.String(required=True)
    service_letter = fields.String(required=True)
    counter_id = fields.Integer(required=True)
    counter_number = fields.Integer(required=True)
    counter_label = fields.String(required=True)
    kind = fields.String(required=True)
    at = fields.String(allow_none=True)


# --- ticket operations -----------------------------------------------------------------

class IssueBody(Body):
    service = Text(40, required=True, metadata={"example": "ktp_el"})
    priority_kind = fields.String(allow_none=True, validate=validate.OneOf(PRIORITY_KINDS))
    request_id = Text(64, allow_none=True, metadata={"description": "idempotency key of this tap"})


class CancelBody(Body):
    reason = Text(allow_none=True)


class ReprintBody(Body):
    device_id = Count(allow_none=True, metadata={"description": "the kiosk to print on (null or 0: the one that "
                                                                "issued it, else the office's first kiosk)"})


class ReprintAnswer(Answer):
    job_id = fields.String(required=True)
    device_id = fields.Integer(required=True)


class CheckinBody(Body):
    """A booking's check-in at the kiosk (``server.api.checkin``)."""

    ref = Text(required=True, metadata={"description": "the typed booking code or the scanned QR payload"})
    nik_suffix = Text(20, allow_none=True, metadata={"description": "the NIK's last 6 digits (required from a "
                                                                    "kiosk; staff may omit it)"})


class CheckinAnswer(IssuedAnswer):
    """The issue answer plus the booking checked in."""

    booking = fields.Dict(required=True, metadata={"description": "the booking's confirmation "
                                                                  "(``booking.views.booking_view``)"})
