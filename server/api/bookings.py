"""Online queue booking (issue 6): public, no sign-in. Rules in
``server.services.booking.bookings``; places are taken atomically (``booking.capacity``).

Errors answer {"error", "message", "details"}: 422 ``validation_error`` (field: service,
day, session, nik, name, phone, email, code), 409 ``invalid_state``, 404 ``not_found``,
429 ``too_many_requests`` (per-IP and per-contact limits, ``server.ratelimit``).

Booking is two steps bound to a confirmed contact (issue 13): ``POST …/bookings`` sends a
one-time code, ``POST …/bookings/confirm`` takes it; no answer of either says whether a
NIK already holds a booking, and the outcome goes to the contact only.
"""
from __future__ import annotations

from datetime import date

from flask import current_app, jsonify

from ..models import utcnow
from ..ratelimit import rate_limited
from ..security import public_json
from ..services.booking import bookings, challenge, requests
from ..services.booking.catalog_cache import CatalogCache
from ..services.booking.notices import queue_booking_notice
from ..services.booking.views import availability, booking_view
from ..services.errors import ValidationError
from . import bp
from .helpers import body, get_office, public_url, transaction


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
    """Ask for a booking (step 1 of 2, ``services.booking.requests``): body {"service",
    "day": YYYY-MM-DD, "session", "nik", "name", "phone" (WhatsApp), "email"; and
    "challenge", "solution" when the office sets an anti-bot challenge (see
    ``booking_challenge``)}. A 6-digit code goes to the WhatsApp number (or e-mail) through
    the notice outbox; answers 202 {"request": token for step 2, "contact": masked,
    "expires_at", "attempts", "message"}: the same whether or not the NIK already holds a
    booking (nothing about bookings is read here; a full session answers 409
    ``session_full`` for any NIK). Anonymous, and no cookie authenticates
    anything here: a JSON body from no or this origin needs no CSRF token
    (``security.public_json`` says why that is safe); anything else still needs it (400
    ``csrf_failed``).
    ---
    post:
      tags: [booking]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        202: {description: '{"request", "contact", "expires_at", "attempts", "message"}'}
        409: {description: 'session_full (the places left are public: the same for every NIK)'}
        422: {description: validation_error}
        429: {description: too_many_requests}
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
    with transaction() as s:
        asked = requests.request_booking(
            s, office, service_code=str(data.get("service") or ""), day=day,
            session_code=str(data.get("session") or ""), nik=str(data.get("nik") or ""),
            name=str(data.get("name") or ""), phone=_text(data, "phone"), email=_text(data, "email"),
            secret_key=current_app.config["SECRET_KEY"], providers=_providers(), services=catalog.services)
    return jsonify(request=asked.token, contact=asked.contact, expires_at=asked.expires_at.isoformat(),
                   attempts=asked.attempts, message=CODE_SENT.format(contact=asked.contact)), 202


def _text(data: dict, field: str) -> str | None:
    """``data[field]`` when it is a string or missing/null (None); ValidationError otherwise."""
    value = data.get(field)
    if value is None or isinstance(value, str):
        return value
    raise ValidationError(f"{field}: teks / {field} must be text", field=field)


CODE_SENT = ("Kode 6 angka telah dikirim ke {contact}. Masukkan kode itu untuk menyelesaikan booking / a 6-digit "
             "code was sent to {contact}: enter it to complete the booking")
_REFUSED = {
    "wrong": "Kode salah / wrong code",
    "locked": "Terlalu banyak kode salah; isi formulir lagi untuk kode baru / too many wrong codes: fill in the form "
              "again for a new code",
    "expired": "Kode kedaluwarsa; isi formulir lagi untuk kode baru / the code expired: fill in the form again for a "
               "new code",
    "used": "Kode salah / wrong code",
}


@bp.post("/offices/<code>/bookings/confirm")
@rate_limited("confirm")
@public_json
def confirm_booking(code: str):
    """Complete a booking (step 2 of 2): body {"request": the token of step 1, "code": the
    6 digits sent to the contact}. Answers 200 {"status": "sent", "contact": masked,
    "message"} whatever the outcome: the booking (code, QR link) or why there is none goes
    to the confirmed contact only. 422 ``validation_error`` field "code" with details
    {"reason": "wrong" | "locked" | "expired", "attempts_left"}; 404 unknown request.
    ---
    post:
      tags: [booking]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"status": "sent", "contact", "message"}'}
        404: {description: unknown request}
        422: {description: 'validation_error (field code; details reason, attempts_left)'}
    """
    data = body()
    catalog = booking_catalog().get(code)
    office = catalog.office

    def view(booking, service) -> dict:
        return booking_view(office, booking, booking_signer(), public_url(), service=service)

    with transaction() as s:  # committed whatever the result: a wrong code's attempt counts
        done = requests.confirm(s, office, str(data.get("request") or ""), str(data.get("code") or ""),
                                secret_key=current_app.config["SECRET_KEY"], view=view, services=catalog.services)
    if not done.ok:
        message = _REFUSED.get(done.reason, _REFUSED["wrong"])
        if done.reason == "wrong":
            message = f"Kode salah; sisa {done.attempts_left} percobaan / wrong code: {done.attempts_left} tries left"
        raise ValidationError(message, field="code", reason="locked" if done.reason == "used" else done.reason,
                              attempts_left=done.attempts_left)
    return jsonify(status="sent", contact=done.contact, message=requests.SENT.format(contact=done.contact))


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
