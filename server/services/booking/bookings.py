"""Booking, looking up and cancelling a place (issue 6).

Rules, with their source (issue 6, "Booking" and "Fairness"):

- a bookable service (``BookingRules.bookable``), a day open for booking
  (``BookingRules.days``: working days only, within the horizon, the furthest from
  ``opens_at``), a session of that day whose check-in window has not ended;
- a valid NIK (``services.nik.parse_nik``), a name, a WhatsApp number or an e-mail;
- one active booking per NIK per service per day (checked, and enforced by the unique
  partial index ``uq_bookings_active_nik``: two simultaneous requests cannot both pass);
- a NIK with ``no_show_limit`` expired bookings in the last ``no_show_days`` days may not
  book for ``no_show_block_days`` after the last one;
- a place taken atomically (``capacity.take``): never oversold; and, where the office sets
  one, a place in the service's daily quota shared with walk-ins (``daily``).

A booking has a short ``code`` (8 characters of Crockford base32, e.g. "K7QM-2XDA",
typed at the kiosk) and a signed QR payload ``LKB1.<office>.<code>.<id>.<sig>`` (the
resi's scheme with its own key and version, ``services.resi``). Cancelling needs the code
and the NIK (the booking is personal) and frees the place at once.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...models import ACTIVE_BOOKING_STATUSES, Booking, BookingStatus, Office, Service, utcnow
from .. import audit
from ..actors import PUBLIC
from ..applications.intake import clean_contact
from ..errors import InvalidState, LoketError, NotFound, ValidationError
from ..nik import parse_nik
from ..resi import ResiError, ResiSigner, derive_key
from . import capacity, daily
from .settings import BookingRules

BOOKING_KEY_INFO = b"loket-booking-v1"
BOOKING_VERSION = "LKB1"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class BookingRefused(LoketError):
    """A booking rule says no; ``code`` names which (instance attribute)."""

    http_status = 409

    def __init__(self, code: str, message: str, **details) -> None:
        super().__init__(message, **details)
        self.code = code


def booking_signer(secret_key: str) -> ResiSigner:
    """The signer of booking QR payloads (own key and version "LKB1")."""
    return ResiSigner(derive_key(secret_key, BOOKING_KEY_INFO), version=BOOKING_VERSION)


def new_code() -> str:
    """A booking code: 8 random Crockford base32 characters as "XXXX-XXXX" (40 bits)."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalize_code(text: str) -> str:
    """A typed code as stored ("k7qm 2xda" → "K7QM-2XDA"; O→0, I/L→1 as Crockford says).
    Raises ValidationError."""
    raw = "".join(ch for ch in str(text or "").upper() if ch.isalnum())
    raw = raw.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    if len(raw) != 8 or any(ch not in _ALPHABET for ch in raw):
        raise ValidationError("kode booking: 8 huruf/angka, mis. K7QM-2XDA / a booking code has 8 characters",
                              field="code")
    return f"{raw[:4]}-{raw[4:]}"


def _service(session: Session, office: Office, code: str, rules: BookingRules) -> Service:
    service = session.scalars(select(Service).where(Service.office_id == office.id, Service.code == code)).first()
    if service is None or not rules.bookable(service):
        raise ValidationError("layanan ini tidak dapat dipesan secara daring / this service cannot be booked online",
                              field="service")
    return service


def _no_show_block(session: Session, office: Office, nik: str, rules: BookingRules, now: datetime) -> datetime | None:
    """Until when ``nik`` may not book (None: it may)."""
    if rules.no_show_limit <= 0:
        return None
    since = now - timedelta(days=rules.no_show_days)
    expired = session.scalars(select(Booking.expired_at).where(
        Booking.office_id == office.id, Booking.nik == nik, Booking.status == BookingStatus.EXPIRED.value,
        Booking.expired_at >= since).order_by(Booking.expired_at.desc())).all()
    if len(expired) < rules.no_show_limit:
        return None
    until = expired[0] + timedelta(days=rules.no_show_block_days)
    return until if until > now else None


def book(session: Session, office: Office, *, service_code: str, day: date, session_code: str, nik: str,
         name: str, phone: str | None, email: str | None, now: datetime | None = None) -> Booking:
    """Book a place (rules in the module docstring); returns the new Booking. Raises
    ValidationError (field: service, day, session, nik, name, phone, email),
    BookingRefused (``already_booked``, ``no_show_blocked``), SessionFull, ServiceFullToday."""
    now = now or utcnow()
    rules = BookingRules(office)
    service = _service(session, office, service_code, rules)
    if day not in rules.days(now):
        raise ValidationError("tanggal ini tidak dapat dipesan (hari libur, di luar jangka waktu, atau belum dibuka) / "
                              "this day cannot be booked (closed, beyond the horizon, or not open yet)", field="day")
    sesi = rules.sesi(session_code)
    if not rules.session_open(day, sesi, now):
        raise ValidationError("sesi ini sudah lewat / this session is over", field="session")
    nik = str(nik or "").strip()
    parse_nik(nik, today=now.astimezone(rules.zone).date())
    name, phone, email = clean_contact(name, phone, email)
    if session.scalar(select(func.count()).select_from(Booking).where(
            Booking.office_id == office.id, Booking.service_id == service.id, Booking.day == day,
            Booking.nik == nik, Booking.status.in_(ACTIVE_BOOKING_STATUSES))):
        raise BookingRefused("already_booked", "NIK ini sudah memesan layanan ini pada hari itu / this NIK already "
                             "has a booking for this service on that day")
    blocked_until = _no_show_block(session, office, nik, rules, now)
    if blocked_until is not None:
        raise BookingRefused("no_show_blocked", f"NIK ini tidak dapat memesan sampai "
                             f"{blocked_until.astimezone(rules.zone):%d-%m-%Y} karena beberapa kali tidak hadir / "
                             "this NIK cannot book for a while after repeated no-shows",
                             until=blocked_until.isoformat())
    booking = Booking(office_id=office.id, service_id=service.id, day=day, session_code=sesi.code, code=new_code(),
                      nik=nik, name=name, phone=phone, email=email, status=BookingStatus.BOOKED.value, created_at=now)
    session.add(booking)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same NIK booked the same service and day a moment ago
        raise BookingRefused("already_booked", "NIK ini sudah memesan layanan ini pada hari itu / this NIK already "
                             "has a booking for this service on that day") from None
    audit.record(session, PUBLIC, "booking.created", "booking", booking.id, office_id=office.id, at=now,
                 data={"service": service.code, "day": day.isoformat(), "session": sesi.code})
    # The places last: the capacity rows stay locked only from here to the commit.
    capacity.take(session, office.id, service.id, day, sesi.code, rules.quota(service))
    daily.take(session, office, service, day)
    return booking


def find(session: Session, office: Office, ref: str, signer: ResiSigner) -> Booking:
    """The booking named by a typed code or a scanned QR payload (or its URL) of
    ``office``. Raises ValidationError (malformed code), BookingRefused (``booking_forged``,
    ``booking_foreign``, ``booking_wrong_office``), NotFound."""
    text = str(ref or "").strip()
    if "." in text or "/" in text:
        try:
            found = signer.verify(text, office.code)
        except ResiError as exc:
            code = {"resi_forged": "booking_forged", "resi_wrong_office": "booking_wrong_office"}.get(
                exc.code, "booking_foreign")
            raise BookingRefused(code, "Kode QR ini bukan booking yang sah untuk kantor ini / this QR is not a "
                                 "valid booking of this office") from None
        booking = session.get(Booking, found.resi_id)
        if booking is None or booking.code != found.resi_number or booking.office_id != office.id:
            raise NotFound("booking tidak ditemukan / booking not found")
        return booking
    code = normalize_code(text)
    booking = session.scalars(select(Booking).where(Booking.code == code, Booking.office_id == office.id)).first()
    if booking is None:
        raise NotFound("booking tidak ditemukan / booking not found")
    return booking


def cancel(session: Session, office: Office, code: str, nik: str, now: datetime | None = None) -> Booking:
    """Cancel booking ``code`` (typed) for its own ``nik``; the place is free again at
    once. Raises NotFound (unknown code, or a NIK that is not the booking's: the same
    answer), InvalidState (checked in, expired or cancelled already)."""
    now = now or utcnow()
    booking = session.scalars(select(Booking).where(Booking.code == normalize_code(code),
                                                    Booking.office_id == office.id).with_for_update()).first()
    if booking is None or booking.nik != str(nik or "").strip():
        raise NotFound("booking tidak ditemukan untuk kode dan NIK ini / no booking for this code and NIK")
    if booking.status != BookingStatus.BOOKED.value:
        raise InvalidState(f"booking ini sudah {booking.status} / this booking is {booking.status}")
    booking.status, booking.cancelled_at = BookingStatus.CANCELLED.value, now
    capacity.release(session, office.id, booking.service_id, booking.day, booking.session_code)
    daily.release(session, office, booking.service, booking.day)
    audit.record(session, PUBLIC, "booking.cancelled", "booking", booking.id, office_id=office.id, at=now)
    return booking
