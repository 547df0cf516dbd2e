"""Online queue booking (issue 6): public, no sign-in. Rules in
``server.services.booking.bookings``; places are taken atomically (``booking.capacity``).

Errors answer {"error", "message", "details"}: 422 ``validation_error`` (field: service,
day, session, nik, name, phone, email, code), 409 ``invalid_state``, 404 ``not_found``,
429 ``too_many_requests`` (per-IP and per-contact limits, ``server.ratelimit``). Bodies and
answers are the schemas of ``server.api.schemas.bookings``.

Booking is two steps bound to a confirmed contact (issue 13): ``POST …/bookings`` sends a
one-time code, ``POST …/bookings/confirm`` takes it; no answer of either says whether a
NIK already holds a booking, and the outcome goes to the contact only.
"""
from __future__ import annotations

from flask import current_app

from ..i18n import current_language, translate
from ..models import utcnow
from ..ratelimit import rate_limited
from ..security import public_json
from ..services.booking import bookings, challenge, requests
from ..services.booking.catalog_cache import CatalogCache
from ..services.booking.notices import queue_booking_notice
from ..services.booking.views import availability, booking_view
from ..services.errors import ValidationError
from . import bp
from .contract import errors, public
from .helpers import get_office, public_url, transaction
from .schemas.bookings import (
    BookingAvailabilityAnswer,
    BookingAnswer,
    BookingBody,
    BookingCancelBody,
    BookingChallengeAnswer,
    BookingConfirmBody,
    BookingRequestedAnswer,
    BookingSentAnswer,
)


def _providers() -> dict:
    return current_app.extensions.get("loket_notice_providers") or {}


def booking_signer():
    """The app's booking QR signer (made once per app)."""
    signer = current_app.extensions.get("loket_booking_signer")
    if signer is None:
        signer = current_app.extensions.setdefault("loket_booking_signer",
                                                   bookings.booking_signer(current_app.config["SECRET_KEY"]))
    return signer


def booking_catalog() -> CatalogCache:
    """The app's office and service cache for the booking POST (``booking.catalog_cache``)."""
    cache = current_app.extensions.get("loket_booking_catalog")
    if cache is None:
        cache = current_app.extensions["loket_booking_catalog"] = CatalogCache(
            current_app.extensions["loket"].db.Session)
    return cache


@bp.get("/offices/<code>/booking")
@public
@bp.response(200, BookingAvailabilityAnswer)
@errors(404)
def booking_availability(code: str):
    """The bookable services (with their requirements), the days open for booking and the
    places left per session (``services.booking.views.availability``); 404 unknown office."""
    with transaction() as s:
        return availability(s, get_office(s, code, check_access=False), utcnow())


@bp.get("/offices/<code>/booking/challenge")
@public
@bp.response(200, BookingChallengeAnswer)
@errors(404)
def booking_challenge(code: str):
    """A fresh anti-bot challenge when the office asks for one (``services.booking.challenge``):
    {"challenge", "bits"} (bits 0: no check)."""
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        return {"challenge": challenge.issue(current_app.config["SECRET_KEY"]),
                "bits": challenge.office_bits(office.settings)}


@bp.post("/offices/<code>/bookings")
@rate_limited("booking")
@public_json
@public
@bp.arguments(BookingBody)
@bp.response(202, BookingRequestedAnswer)
@errors(404, 409)
def create_booking(data: dict, code: str):
    """Ask for a booking (step 1 of 2, ``services.booking.requests``): the service, day,
    session, NIK, name and a WhatsApp number (or e-mail); and "challenge", "solution" when
    the office sets an anti-bot challenge (see ``booking_challenge``). A 6-digit code goes
    to the WhatsApp number (or e-mail) through the notice outbox; answers 202 with the
    request token for step 2, the masked contact, when the code expires and how many codes
    may be tried: the same whether or not the NIK already holds a booking (nothing about
    bookings is read here; a full session answers 409 ``session_full`` for any NIK; the
    booking rules answer 422 with the field). Anonymous, and no cookie authenticates
    anything here: a JSON body from no or this origin needs no CSRF token
    (``security.public_json`` says why that is safe); anything else still needs it (400
    ``csrf_failed``)."""
    catalog = booking_catalog().get(code)  # the office and its services, cached for a few seconds
    office = catalog.office
    challenge.verify(current_app.config["SECRET_KEY"], data.get("challenge", ""), data["nik"],
                     data.get("solution", ""), challenge.office_bits(office.settings))
    with transaction() as s:
        asked = requests.request_booking(
            s, office, service_code=data["service"], day=data["day"], session_code=data["session"], nik=data["nik"],
            name=data["name"], phone=data.get("phone"), email=data.get("email"),
            secret_key=current_app.config["SECRET_KEY"], providers=_providers(), services=catalog.services)
    return {"request": asked.token, "contact": asked.contact, "expires_at": asked.expires_at.isoformat(),
            "attempts": asked.attempts,
            "message": translate("api.booking.code_sent", current_language(), contact=asked.contact)}


_REFUSED = {"wrong": "error.api.booking.code_wrong_left", "locked": "error.api.booking.code_locked",
            "expired": "error.api.booking.code_expired"}


def refused_code(reason: str | None, attempts_left: int) -> ValidationError:
    """The 422 (field "code") of a step 2 whose code was not taken: ``reason`` "wrong"
    (``attempts_left`` > 0), "locked", "expired"; "used" (a wrong code for a request
    already confirmed) says "wrong code" and answers reason "locked"."""
    key = _REFUSED.get(reason or "", "error.api.booking.code_wrong")
    return ValidationError(key=key, params={"attempts_left": attempts_left} if reason == "wrong" else None,
                           field="code", reason="locked" if reason == "used" else reason,
                           attempts_left=attempts_left)


@bp.post("/offices/<code>/bookings/confirm")
@rate_limited("confirm")
@public_json
@public
@bp.arguments(BookingConfirmBody)
@bp.response(200, BookingSentAnswer)
@errors(404)
def confirm_booking(data: dict, code: str):
    """Complete a booking (step 2 of 2): the token of step 1 and the 6 digits sent to the
    contact. Answers 200 {"status": "sent", "contact": masked, "message"} whatever the
    outcome: the booking (code, QR link) or why there is none goes to the confirmed contact
    only. 422 ``validation_error`` field "code" with details {"reason": "wrong" | "locked" |
    "expired", "attempts_left"}; 404 unknown request."""
    catalog = booking_catalog().get(code)
    office = catalog.office

    def view(booking, service) -> dict:
        return booking_view(office, booking, booking_signer(), public_url(), service=service)

    with transaction() as s:  # committed whatever the result: a wrong code's attempt counts
        done = requests.confirm(s, office, data["request"], data["code"],
                                secret_key=current_app.config["SECRET_KEY"], view=view, services=catalog.services)
    if not done.ok:
        raise refused_code(done.reason, done.attempts_left)
    return {"status": "sent", "contact": done.contact,
            "message": translate(requests.SENT_KEY, current_language(), contact=done.contact)}


@bp.get("/offices/<code>/bookings/<ref>")
@public
@bp.response(200, BookingAnswer)
@errors(404, 409)
def booking_status(code: str, ref: str):
    """A booking by its code (or QR payload): the confirmation, with its status. 404 unknown
    booking; 409 a QR payload that is not a genuine booking of this office; 422 a malformed
    code."""
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        booking = bookings.find(s, office, ref, booking_signer())
        return booking_view(office, booking, booking_signer(), public_url())


@bp.post("/offices/<code>/bookings/<ref>/cancel")
@rate_limited("cancel")
@public
@bp.arguments(BookingCancelBody)
@bp.response(200, BookingAnswer)
@errors(404, 409)
def cancel_booking(data: dict, code: str, ref: str):
    """Cancel a booking with its own NIK: the place is free at once; answers the booking,
    cancelled. 404 no booking for this code and NIK; 409 already checked in, expired or
    cancelled."""
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        booking = bookings.cancel(s, office, ref, data["nik"])
        view = booking_view(office, booking, booking_signer(), public_url())
        queue_booking_notice(s, office, booking, view, "cancelled", providers=_providers())
        return view
