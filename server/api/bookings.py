"""Online queue booking (issue 6): public, no sign-in. Rules in
``server.services.booking.bookings``; places are taken atomically (``booking.capacity``).

Errors answer {"error", "message", "details"}: 422 ``validation_error`` (field: service,
day, session, nik, name, phone, email, code), 409 ``session_full`` / ``already_booked`` /
``no_show_blocked`` / ``invalid_state``, 404 ``not_found``, 429 ``too_many_requests``
(per-IP and per-NIK limits, ``server.ratelimit``).
"""
from __future__ import annotations

from datetime import date

from flask import current_app, jsonify

from ..models import utcnow
from ..ratelimit import rate_limited
from ..security import public_json
from ..services.booking import bookings, challenge
from ..services.booking.catalog_cache import CatalogCache
from ..services.booking.notices import queue_booking_notice
from ..services.booking.views import availability, booking_view
from ..services.errors import ValidationError
from . import bp
from .helpers import body, get_office, transaction
from .tickets import public_url


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
def booking_availability(code: str):
    """The bookable services (with their requirements), the days open for booking and the
    places left per session.
    ---
    get:
      tags: [booking]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"office", "services", "sessions", "days": [{"date", "sessions": {code: {"open", "left": {service: n}}}}], "horizon_days", "opens_at"}'}
    """
    with transaction() as s:
        return jsonify(availability(s, get_office(s, code, check_access=False), utcnow()))


@bp.get("/offices/<code>/booking/challenge")
def booking_challenge(code: str):
    """A fresh anti-bot challenge when the office asks for one (``services.booking.challenge``):
    {"challenge", "bits"} (bits 0: no check).
    ---
    get:
      tags: [booking]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"challenge", "bits"}'}
    """
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        return jsonify(challenge=challenge.issue(current_app.config["SECRET_KEY"]),
                       bits=challenge.office_bits(office.settings))


@bp.post("/offices/<code>/bookings")
@rate_limited("booking")
@public_json
def create_booking(code: str):
    """Book a place: body {"service", "day": YYYY-MM-DD, "session", "nik", "name", "phone"
    (WhatsApp), "email"; and "challenge", "solution" when the office sets an anti-bot
    challenge (see ``booking_challenge``)}. Answers 201 with the confirmation (code, QR payload, check-in
    window, what to bring, how to cancel); the same goes to the citizen by WhatsApp, SMS or
    e-mail through the notice outbox. Anonymous, and no cookie authenticates anything here:
    a JSON body from no or this origin needs no CSRF token (``security.public_json`` says
    why that is safe); anything else still needs it (400 ``csrf_failed``).
    ---
    post:
      tags: [booking]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        201: {description: booking confirmation}
        409: {description: 'session_full, already_booked, no_show_blocked'}
        422: {description: validation_error}
    """
    data = body()
    try:
        day = date.fromisoformat(str(data.get("day") or ""))
    except ValueError:
        raise ValidationError("tanggal: YYYY-MM-DD / day must be YYYY-MM-DD", field="day") from None
    catalog = booking_catalog().get(code)  # the office and its services, cached for a few seconds
    office = catalog.office
    challenge.verify(current_app.config["SECRET_KEY"], str(data.get("challenge") or ""), str(data.get("nik") or ""),
                     str(data.get("solution") or ""), challenge.office_bits(office.settings))
    confirmation: dict = {}
    with transaction() as s:
        def confirm(booking) -> None:
            # The confirmation by WhatsApp / SMS / e-mail, queued in this transaction
            # (outbox), before the place is taken: the capacity row's lock lasts from the
            # conditional UPDATE to the commit only.
            view = confirmation["view"] = booking_view(office, booking, booking_signer(), public_url(),
                                                       service=catalog.service_by_id(booking.service_id))
            queue_booking_notice(s, office, booking, view, "booked", providers=_providers())

        bookings.book(s, office, service_code=str(data.get("service") or ""), day=day,
                      session_code=str(data.get("session") or ""), nik=str(data.get("nik") or ""),
                      name=str(data.get("name") or ""), phone=data.get("phone"), email=data.get("email"),
                      services=catalog.services, before_taking=confirm)
    return jsonify(confirmation["view"]), 201  # after the commit


@bp.get("/offices/<code>/bookings/<ref>")
def booking_status(code: str, ref: str):
    """A booking by its code (or QR payload): the confirmation, with its status.
    ---
    get:
      tags: [booking]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: path, name: ref, required: true, schema: {type: string}}
      responses:
        200: {description: booking confirmation}
        404: {description: unknown booking}
    """
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        booking = bookings.find(s, office, ref, booking_signer())
        return jsonify(booking_view(office, booking, booking_signer(), public_url()))


@bp.post("/offices/<code>/bookings/<ref>/cancel")
@rate_limited("cancel")
def cancel_booking(code: str, ref: str):
    """Cancel a booking: body {"nik"} (the booking's own). The place is free at once.
    ---
    post:
      tags: [booking]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: path, name: ref, required: true, schema: {type: string}}
      responses:
        200: {description: the booking, cancelled}
        404: {description: no booking for this code and NIK}
        409: {description: already checked in, expired or cancelled}
    """
    data = body()
    with transaction() as s:
        office = get_office(s, code, check_access=False)
        booking = bookings.cancel(s, office, ref, str(data.get("nik") or ""))
        view = booking_view(office, booking, booking_signer(), public_url())
        queue_booking_notice(s, office, booking, view, "cancelled", providers=_providers())
        return jsonify(view)
