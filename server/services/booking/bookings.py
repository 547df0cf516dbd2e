"""Booking, looking up and cancelling a place (issue 6).

Rules, with their source (issue 6, "Booking" and "Fairness"):

- a bookable service (``BookingRules.bookable``), a day open for booking
  (``BookingRules.days``: working days only, within the horizon, the furthest from
  ``opens_at``), a session of that day whose check-in window has not ended;
- a valid NIK (``services.nik.parse_nik``), a name, a WhatsApp number or an e-mail;
- the booking is bound to a confirmed contact (``contact_hash``, issue 13: the citizen
  entered the one-time code sent to it, ``requests``); every rule below that counts
  bookings counts them by that contact, never by the NIK alone, so someone booking in
  another person's NIK can neither block nor penalise that person:
- one active booking per NIK per service per day *per contact* (checked, and enforced by
  the unique partial index ``uq_bookings_active_nik_contact``: two simultaneous requests
  cannot both pass); the same NIK from another contact may book too, and at check-in the
  NIK's digits (the KTP in hand) decide (``checkin``);
- one contact holds active bookings for at most ``max_niks_per_contact_per_day``
  different NIKs on a day (a broker needs many);
- a contact with ``no_show_limit`` expired bookings in the last ``no_show_days`` days may
  not book for ``no_show_block_days`` after the last one;
- a place taken atomically (``capacity.take``): never oversold; and, where the office sets
  one, a place in the service's daily quota shared with walk-ins (``daily``).

A booking has a short ``code`` (8 characters of Crockford base32, e.g. "K7QM-2XDA",
typed at the kiosk) and a signed QR payload ``LKB1.<office>.<code>.<id>.<sig>`` (the
resi's scheme with its own key and version, ``services.resi``). Cancelling needs the code
and the NIK (the booking is personal) and frees the place at once.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Callable, Mapping

from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.orm import Session

from ...models import ACTIVE_BOOKING_STATUSES, Booking, BookingCapacity, BookingStatus, Office, Service, utcnow
from .. import audit
from ..actors import PUBLIC
from ..applications.intake import clean_contact
from ..errors import InvalidState, LoketError, NotFound, ValidationError
from ..nik import parse_nik
from ..resi import ResiError, ResiSigner, derive_key
from . import capacity, daily
from .settings import BookingRules, Sesi

BOOKING_KEY_INFO = b"loket-booking-v1"
BOOKING_VERSION = "LKB1"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class BookingRefused(LoketError):
    """A booking rule says no; ``code`` names which (instance attribute), ``key`` and
    ``params`` its message in the catalogs (errors_booking.json)."""

    http_status = 409

    def __init__(self, code: str, *, key: str, params: dict | None = None, **details) -> None:
        super().__init__(key=key, params=params, **details)
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
    raw = raw.translate(str.maketrans("OIL", "011"))
    if len(raw) != 8 or any(ch not in _ALPHABET for ch in raw):
        raise ValidationError(key="error.booking.code_format", field="code")
    return f"{raw[:4]}-{raw[4:]}"


_SERVICE = select(Service).where(Service.office_id == bindparam("office_id"), Service.code == bindparam("code"))


def _service(session: Session | None, office: Office, code: str, rules: BookingRules,
             services: Mapping[str, Service] | None) -> Service:
    if services is not None:
        service = services.get(code)
    elif session is not None:
        service = session.scalars(_SERVICE, {"office_id": office.id, "code": code}).first()
    else:
        raise TypeError("the office's services or a session to read them are needed")
    if service is None or not rules.bookable(service):
        raise ValidationError(key="error.booking.not_bookable", field="service")
    return service


@dataclass(frozen=True)
class _Standing:
    """What the database says about a request before anything is written (one SELECT)."""

    active: int  # active bookings of this NIK for this service and day from this contact
    niks: int  # other NIKs this contact holds active bookings for on this day
    no_shows: int  # expired bookings of this contact in the last no_show_days
    last_no_show: datetime | None
    left: int | None  # places left in the session; None: no capacity row yet (the full quota)


def _standing_statement():
    """The SELECT of :func:`_standing`, built once (building a statement costs more than
    running it); parameters office_id, service_id, day, session_code, nik, contact, since."""
    b, c = Booking.__table__.c, BookingCapacity.__table__.c
    office_id: BindParameter[Any] = bindparam("office_id")
    nik: BindParameter[Any] = bindparam("nik")
    contact: BindParameter[Any] = bindparam("contact")
    active = select(func.count()).where(
        b.office_id == office_id, b.service_id == bindparam("service_id"), b.day == bindparam("day"), b.nik == nik,
        b.contact_hash == contact, b.status.in_(ACTIVE_BOOKING_STATUSES)).scalar_subquery()
    niks = select(func.count(b.nik.distinct())).where(
        b.office_id == office_id, b.contact_hash == contact, b.day == bindparam("day"), b.nik != nik,
        b.status.in_(ACTIVE_BOOKING_STATUSES)).scalar_subquery()
    left = select(c.quota - c.taken).where(c.office_id == office_id, c.service_id == bindparam("service_id"),
                                           c.day == bindparam("day"),
                                           c.session_code == bindparam("session_code")).scalar_subquery()
    expired = (b.office_id == office_id, b.contact_hash == contact, b.status == BookingStatus.EXPIRED.value,
               b.expired_at >= bindparam("since", type_=Booking.__table__.c.expired_at.type))
    return select(active.label("active"), niks.label("niks"), left.label("left"),
                  select(func.count()).where(*expired).scalar_subquery().label("no_shows"),
                  select(func.max(b.expired_at)).where(*expired).scalar_subquery().label("last_no_show"))


_STANDING = _standing_statement()


def _standing(session: Session, office: Office, service: Service, day: date, session_code: str, nik: str,
              contact: str, rules: BookingRules, now: datetime) -> _Standing:
    """The one-per-NIK-per-contact count, the contact's other NIKs that day, its no-shows
    in the last ``no_show_days`` and the session's places left, read in one statement of
    scalar subqueries (Core: no ORM objects are needed). A plain read: the one-per-NIK
    rule and the places are enforced again by the unique index and the conditional UPDATE."""
    row = session.connection().execute(_STANDING, {
        "office_id": office.id, "service_id": service.id, "day": day, "session_code": session_code, "nik": nik,
        "contact": contact, "since": now - timedelta(days=rules.no_show_days)}).one()
    return _Standing(active=row.active, niks=row.niks, no_shows=row.no_shows, last_no_show=row.last_no_show,
                     left=row.left)


def _no_show_block(standing: _Standing, rules: BookingRules, now: datetime) -> datetime | None:
    """Until when the contact may not book (None: it may): ``no_show_block_days`` after its
    last no-show, once it has ``no_show_limit`` of them in the last ``no_show_days``."""
    if rules.no_show_limit <= 0 or standing.no_shows < rules.no_show_limit or standing.last_no_show is None:
        return None
    until = standing.last_no_show + timedelta(days=rules.no_show_block_days)
    return until if until > now else None


@dataclass(frozen=True)
class Choice:
    """A checked booking request: the office's rules, the service, day, session, NIK, name
    and contact fields as :func:`check` cleaned them."""

    rules: BookingRules
    service: Service
    day: date
    sesi: Sesi
    nik: str
    name: str
    phone: str
    email: str


def check(office: Office, *, service_code: str, day: date, session_code: str, nik: str, name: str,
          phone: str | None, email: str | None, now: datetime, services: Mapping[str, Service] | None = None,
          session: Session | None = None) -> Choice:
    """Check what a booking asks for, without reading any booking (so the answer says
    nothing about who booked what): a bookable service, a day open for booking, a session
    not over, a valid NIK, a name and a contact. ``services``: the office's services by
    code (``catalog_cache``), else read in ``session``. Raises ValidationError (field:
    service, day, session, nik, name, phone, email)."""
    rules = BookingRules(office)
    service = _service(session, office, service_code, rules, services)
    if day not in rules.days(now):
        raise ValidationError(key="error.booking.day_closed", field="day")
    sesi = rules.sesi(session_code)
    if not rules.session_open(day, sesi, now):
        raise ValidationError(key="error.booking.session_over", field="session")
    nik = str(nik or "").strip()
    parse_nik(nik, today=now.astimezone(rules.zone).date())
    name, phone, email = clean_contact(name, phone, email)
    return Choice(rules, service, day, sesi, nik, name, phone, email)


def book(session: Session, office: Office, *, service_code: str, day: date, session_code: str, nik: str,
         name: str, phone: str | None, email: str | None, contact_hash: str, now: datetime | None = None,
         services: Mapping[str, Service] | None = None,
         before_taking: Callable[[Booking], None] | None = None) -> Booking:
    """Book a place for a confirmed contact (rules in the module docstring); returns the
    new Booking. ``contact_hash``: the confirmed contact's HMAC (``contacts.hash_of``);
    ``phone``/``email``: that contact only (what later notices need). Raises
    ValidationError (field: service, day, session, nik, name, phone, email),
    BookingRefused (``already_booked``: this contact already booked this NIK, service and
    day; ``broker_limit``; ``no_show_blocked``), SessionFull, ServiceFullToday.

    ``services``: the office's services by code when the caller has them (e.g. from
    ``catalog_cache``; detached, read-only: only their ids go into the booking); default:
    the service is read in ``session``.
    ``before_taking(booking)`` runs once the booking and its audit row are written and
    before the place is taken (e.g. to queue the confirmation notice in this transaction):
    the capacity row is locked only from the conditional UPDATE, the last statement, to the
    caller's commit. Statements, after the office's and the service's (none with
    ``services``): refused: 1 SELECT; a booking: that SELECT, INSERT booking, INSERT
    audit, UPDATE capacity (+ the capacity row's INSERT for a session's first one).
    On an IntegrityError (the same contact booked the same NIK, service and day a moment
    ago in another transaction) the innermost transaction is rolled back: run this in a
    savepoint (``session.begin_nested()``, as ``requests.confirm`` does) to go on."""
    now = now or utcnow()
    choice = check(office, service_code=service_code, day=day, session_code=session_code, nik=nik, name=name,
                   phone=phone, email=email, now=now, services=services, session=session)
    rules, service, sesi, nik = choice.rules, choice.service, choice.sesi, choice.nik
    standing = _standing(session, office, service, day, sesi.code, nik, contact_hash, rules, now)
    if standing.active:
        raise BookingRefused("already_booked", key="error.booking.already_booked")
    if rules.max_niks_per_contact > 0 and standing.niks >= rules.max_niks_per_contact:
        raise BookingRefused("broker_limit", key="error.booking.broker_limit", limit=rules.max_niks_per_contact)
    blocked_until = _no_show_block(standing, rules, now)
    if blocked_until is not None:
        raise BookingRefused("no_show_blocked", key="error.booking.no_show_blocked",
                             params={"until": f"{blocked_until.astimezone(rules.zone):%d-%m-%Y}"},
                             until=blocked_until.isoformat())
    if standing.left is not None and standing.left <= 0:
        # Full at the start of this transaction: refused without writing anything (most
        # answers of an opening burst). A place freed meanwhile is for the next request.
        raise capacity.SessionFull(key=capacity.FULL_KEY)
    booking = Booking(office_id=office.id, service_id=service.id, day=day, session_code=sesi.code, code=new_code(),
                      nik=nik, name=choice.name, phone=choice.phone, email=choice.email, contact_hash=contact_hash,
                      status=BookingStatus.BOOKED.value, created_at=now)
    if services is None:
        booking.service = service  # loaded in this session: the confirmation reads it without a query
    session.add(booking)
    try:
        session.flush()
    except IntegrityError:  # the same contact booked the same NIK, service and day a moment ago
        raise BookingRefused("already_booked", key="error.booking.already_booked") from None
    audit.record(session, PUBLIC, "booking.created", "booking", booking.id, office_id=office.id, at=now,
                 to_state=booking.status, data={"service": service.code, "day": day.isoformat(), "session": sesi.code})
    if before_taking is not None:
        before_taking(booking)
    # The places last: the capacity rows stay locked only from here to the commit.
    capacity.take(session, office.id, service.id, day, sesi.code, rules.quota(service),
                  row_exists=standing.left is not None)
    daily.take(session, office, service, day)
    return booking


def others_for_nik(session: Session, booking: Booking) -> int:
    """How many other active bookings hold ``booking``'s NIK for its service and day (from
    other contacts): more than none means someone else booked in this NIK, or this one was
    made in someone else's; the KTP in hand decides at check-in."""
    return session.scalar(select(func.count()).select_from(Booking).where(
        Booking.office_id == booking.office_id, Booking.service_id == booking.service_id, Booking.day == booking.day,
        Booking.nik == booking.nik, Booking.id != booking.id, Booking.status.in_(ACTIVE_BOOKING_STATUSES))) or 0


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
            raise BookingRefused(code, key="error.booking.qr_invalid") from None
        booking = session.get(Booking, found.resi_id)
        if booking is None or booking.code != found.resi_number or booking.office_id != office.id:
            raise NotFound(key="error.booking.not_found")
        return booking
    code = normalize_code(text)
    booking = session.scalars(select(Booking).where(Booking.code == code, Booking.office_id == office.id)).first()
    if booking is None:
        raise NotFound(key="error.booking.not_found")
    return booking


def cancel(session: Session, office: Office, code: str, nik: str, now: datetime | None = None) -> Booking:
    """Cancel booking ``code`` (typed) for its own ``nik``; the place is free again at
    once. Raises NotFound (unknown code, or a NIK that is not the booking's: the same
    answer), InvalidState (checked in, expired or cancelled already)."""
    now = now or utcnow()
    booking = session.scalars(select(Booking).where(Booking.code == normalize_code(code),
                                                    Booking.office_id == office.id).with_for_update()).first()
    if booking is None or booking.nik != str(nik or "").strip():
        raise NotFound(key="error.booking.not_found_for_nik")
    if booking.status != BookingStatus.BOOKED.value:
        raise InvalidState(key="error.booking.in_state", params={"status": booking.status})
    booking.status, booking.cancelled_at = BookingStatus.CANCELLED.value, now
    capacity.release(session, office.id, booking.service_id, booking.day, booking.session_code)
    daily.release(session, office, booking.service, booking.day)
    audit.record(session, PUBLIC, "booking.cancelled", "booking", booking.id, office_id=office.id, at=now)
    return booking
