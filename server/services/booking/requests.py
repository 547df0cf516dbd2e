"""Booking in two steps, bound to a confirmed contact (issue 13, "Booking privacy and
brokers").

1. :func:`request_booking` checks what is asked (``bookings.check``: service, day,
   session, NIK, name, contact; **no** booking is read, so the answer is the same whether
   or not the NIK holds one; a session already full is refused at once, 409
   ``session_full``: the places left are public, the same for every NIK), stores a
   :class:`BookingRequest` and queues a one-time code
   (6 digits, ``contacts``) to the WhatsApp number or e-mail given, through the notice
   outbox. Answer: a request token, the masked contact and when the code expires.
2. :func:`confirm` takes the token and the code: a wrong code counts an attempt (after
   ``code_attempts`` the request is locked), an expired one is refused; the right one
   confirms the contact and runs the booking rules (``bookings.book``, all counted by the
   confirmed contact). The outcome (the booking, with its code and QR link; or why there
   is none) is queued **to that contact only**; the answer is the same for every outcome
   ("the result was sent to 0812****7890").

The code is kept only as an HMAC; its notice's body (the one place it is in clear, until
the provider has it) is overwritten once the request is confirmed, locked or expired, and a
code notice not sent by then is not sent (:func:`_scrub_code`). Personal fields of a
request (NIK, name) are emptied once it is confirmed, locked or expired, and the recipient a day later (:func:`expire_requests`, run with the booking
expiry job). Every state change is audited (entity "booking_request"; the NIK and contact
never go into the audit data).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, case, insert, select, update
from sqlalchemy.orm import Session

from ...i18n.catalogs import bilingual
from ...models import (
    ACTIVE_BOOKING_STATUSES,
    Booking,
    BookingCapacity,
    Notice,
    NoticeStatus,
    Office,
    Service,
    utcnow,
)
from ...models.booking import BookingRequest
from ...models.booking import BookingRequestStatus as RS
from .. import audit
from ..actors import PUBLIC, SYSTEM
from ..errors import NotFound, ValidationError
from ..notices.providers import NoticeProvider
from . import bookings, contacts
from .capacity import FULL_KEY, SessionFull
from .daily import ServiceFullToday
from .notices import code_text, outcome_text, queue_to_contact
from .settings import BookingRules

#: How long a finished request keeps its recipient (for a repeated confirm's answer).
KEEP_RECIPIENT = timedelta(days=1)
_CAP = BookingCapacity.__table__.c
#: The places left in one session (None: no row yet, the full quota); built once.
_LEFT = select(_CAP.quota - _CAP.taken).where(
    _CAP.office_id == bindparam("office_id"), _CAP.service_id == bindparam("service_id"),
    _CAP.day == bindparam("day"), _CAP.session_code == bindparam("session_code"))
#: The code's notice: a plain INSERT (its dedupe key names a request made in this
#: transaction, so it cannot exist yet), built once (``outbox.queue_notice`` would add an
#: upsert and a SELECT).
_CODE_NOTICE = insert(cast(Table, Notice.__table__)).values(
    office_id=bindparam("office_id"), application_id=None, kind="booking_code", channel=bindparam("channel"),
    recipient=bindparam("recipient"), subject=bindparam("subject"), body=bindparam("body"),
    status=NoticeStatus.PENDING.value, attempts=0, next_attempt_at=bindparam("next_attempt_at"),
    created_at=bindparam("created_at"), dedupe_key=bindparam("dedupe_key"))
#: The answer to a confirmed code (no error): the catalog key (``contact`` the masked contact),
#: translated in the caller's language; ``SENT`` its "Indonesian / English" template.
SENT_KEY = "booking.answer.result_sent"
SENT = bilingual(SENT_KEY)


@dataclass(frozen=True)
class Requested:
    """Step 1's answer: ``token`` (for step 2), ``contact`` (masked), ``expires_at``,
    ``attempts`` (how many codes may be tried)."""

    token: str
    contact: str
    expires_at: datetime
    attempts: int


@dataclass(frozen=True)
class Confirmation:
    """Step 2's result. ``ok``: the code was right (the outcome went to ``contact``,
    masked); else ``reason`` "wrong" (``attempts_left`` > 0), "locked" or "expired".
    ``outcome`` / ``booking``: for the server's own use (tests, logs), never answered."""

    ok: bool
    contact: str
    reason: str | None = None
    attempts_left: int = 0
    outcome: str | None = None
    booking: Booking | None = None


def request_booking(session: Session, office: Office, *, service_code: str, day: date, session_code: str, nik: str,
                    name: str, phone: str | None, email: str | None, secret_key: str,
                    providers: dict[str, NoticeProvider], now: datetime | None = None,
                    services: Mapping[str, Service] | None = None) -> Requested:
    """Step 1 (module docstring). Raises ValidationError (field: service, day, session,
    nik, name, phone, email), SessionFull. Statements: SELECT the session's places left
    (the only one of a full session's answer), INSERT request, INSERT notice, INSERT audit
    (plus the service's SELECT without ``services``)."""
    now = now or utcnow()
    choice = bookings.check(office, service_code=service_code, day=day, session_code=session_code, nik=nik,
                            name=name, phone=phone, email=email, now=now, services=services, session=session)
    left = session.connection().execute(_LEFT, {"office_id": office.id, "service_id": choice.service.id,
                                                "day": choice.day, "session_code": choice.sesi.code}).scalar()
    if left is not None and left <= 0:
        raise SessionFull(key=FULL_KEY)
    contact = contacts.choose(choice.phone, choice.email, providers)
    token, code = secrets.token_urlsafe(18), contacts.new_code()
    request = BookingRequest(
        office_id=office.id, token=token, service_id=choice.service.id, day=choice.day, session_code=choice.sesi.code,
        nik=choice.nik, name=choice.name, channel=contact.channel, recipient=contact.recipient,
        contact_hash=contacts.hash_of(contacts.contact_key(secret_key), contact),
        code_hash=contacts.code_hash(secret_key, token, code), attempts=0, status=RS.PENDING.value, created_at=now,
        expires_at=now + choice.rules.code_ttl)
    session.add(request)
    session.flush()
    audit.record(session, PUBLIC, "booking.requested", "booking_request", request.id, office_id=office.id, at=now,
                 to_state=request.status, data={"service": choice.service.code, "day": choice.day.isoformat(),
                                                "session": choice.sesi.code, "channel": contact.channel})
    ttl_min = int(choice.rules.code_ttl.total_seconds() // 60)
    subject, body = code_text(office, code, ttl_min, contact.channel)
    session.connection().execute(_CODE_NOTICE, {
        "office_id": office.id, "channel": contact.channel, "recipient": contact.recipient, "subject": subject[:200],
        "body": body, "next_attempt_at": now, "created_at": now, "dedupe_key": f"bkr{request.id}:code"})
    return Requested(token, contacts.masked(contact), request.expires_at, choice.rules.code_attempts)


CODE_SCRUBBED = "[kode verifikasi dihapus setelah dipakai atau kedaluwarsa]"


def _scrub_code(session: Session, request: BookingRequest) -> None:
    """Overwrite the body of ``request``'s code notice; a still pending one is given up
    (the code is of no use any more). A notice being sent right now is left to finish."""
    table = cast(Table, Notice.__table__)  # declared tables are Tables (typed FromClause)
    session.connection().execute(
        update(table).where(table.c.dedupe_key == f"bkr{request.id}:code",
                            table.c.status != NoticeStatus.SENDING.value)
        .values(body=CODE_SCRUBBED, status=case((table.c.status == NoticeStatus.PENDING.value,
                                                 NoticeStatus.GAVE_UP.value), else_=table.c.status)))


def _masked(request: BookingRequest) -> str:
    return contacts.masked(contacts.Contact(request.channel, request.recipient)) if request.recipient else ""


def _end(session: Session, office: Office, request: BookingRequest, status: str, action: str, now: datetime,
         actor=PUBLIC) -> None:
    """Move a pending request to ``status`` (locked, expired), empty its NIK and name, audit it."""
    before, request.status = request.status, status
    request.nik, request.name = "", ""
    _scrub_code(session, request)
    audit.record(session, actor, action, "booking_request", request.id, office_id=office.id, at=now,
                 from_state=before, to_state=status, data={"attempts": request.attempts})


def confirm(session: Session, office: Office, token: str, code: str, *, secret_key: str,
            view: Callable[[Booking, Service], dict], now: datetime | None = None,
            services: Mapping[str, Service] | None = None) -> Confirmation:
    """Step 2 (module docstring). ``view(booking, service)``: the booking's confirmation
    (``views.booking_view``) for the outcome notice. The caller commits whatever the result
    (a wrong code's attempt counts). Raises NotFound (no such request in this office).
    A request confirmed already answers the same again for its code (nothing is redone)."""
    now = now or utcnow()
    request = session.scalars(select(BookingRequest).where(
        BookingRequest.token == str(token or ""), BookingRequest.office_id == office.id).with_for_update()).first()
    if request is None:
        raise NotFound(key="error.booking.request_not_found")
    rules = BookingRules(office)
    right = contacts.code_matches(secret_key, request.token, code, request.code_hash)
    if request.status == RS.CONFIRMED.value:
        return Confirmation(ok=True, contact=_masked(request)) if right else \
            Confirmation(ok=False, contact=_masked(request), reason="used")
    if request.status == RS.PENDING.value and now >= request.expires_at:
        _end(session, office, request, RS.EXPIRED.value, "booking.request_expired", now)
    if request.status != RS.PENDING.value:
        return Confirmation(ok=False, contact=_masked(request), reason=request.status)
    if not right:
        request.attempts += 1
        left = rules.code_attempts - request.attempts
        if left <= 0:
            _end(session, office, request, RS.LOCKED.value, "booking.request_locked", now)
            return Confirmation(ok=False, contact=_masked(request), reason="locked")
        audit.record(session, PUBLIC, "booking.request_code_wrong", "booking_request", request.id,
                     office_id=office.id, at=now, data={"attempts": request.attempts})
        return Confirmation(ok=False, contact=_masked(request), reason="wrong", attempts_left=left)
    return _decide(session, office, request, rules, view, now, services)


def _decide(session: Session, office: Office, request: BookingRequest, rules, view, now: datetime,
            services: Mapping[str, Service] | None) -> Confirmation:
    """The confirmed request's outcome: book (in a savepoint, so a refusal leaves the
    request's own changes), then queue the outcome to the contact."""
    service = (next((s for s in services.values() if s.id == request.service_id), None) if services is not None
               else None) or session.get(Service, request.service_id)
    if service is None:  # the requested service is gone
        raise NotFound(key="error.booking.service_not_found")
    contact = contacts.Contact(request.channel, request.recipient)
    phone, email = contact.fields()
    booking, details = None, {}
    try:
        with session.begin_nested():
            booking = bookings.book(session, office, service_code=service.code, day=request.day,
                                    session_code=request.session_code, nik=request.nik, name=request.name,
                                    phone=phone, email=email, contact_hash=request.contact_hash, now=now,
                                    services=services)
        outcome = "booked"
    except bookings.BookingRefused as refused:
        outcome, details = refused.code, refused.details or {}
    except SessionFull:
        outcome = "session_full"
    except ServiceFullToday:
        outcome = "service_full"
    except ValidationError:  # the day or session closed since step 1
        outcome = "session_full"
    text, dedupe = None, f"bkr{request.id}:outcome"
    if booking is not None:
        text = outcome_text(office, "booked", view(booking, service), contact.channel,
                            contested=bookings.others_for_nik(session, booking) > 0)
        dedupe = f"bk{booking.id}:booked"
    elif outcome == "already_booked":
        existing = session.scalars(select(Booking).where(
            Booking.office_id == office.id, Booking.service_id == request.service_id, Booking.day == request.day,
            Booking.nik == request.nik, Booking.contact_hash == request.contact_hash,
            Booking.status.in_(ACTIVE_BOOKING_STATUSES))).first()
        if existing is not None:
            text = outcome_text(office, outcome, view(existing, service), contact.channel)
    if text is None:
        until = details.get("until")
        local = datetime.fromisoformat(until).astimezone(rules.zone).strftime("%d-%m-%Y") if until else None
        text = outcome_text(office, outcome if outcome != "already_booked" else "session_full", None,
                            contact.channel, details={"until": local})
    queue_to_contact(session, office, contact.channel, contact.recipient,
                     "booked" if booking is not None else "refused", text, dedupe, now)
    request.status, request.confirmed_at, request.outcome = RS.CONFIRMED.value, now, outcome
    request.booking_id = booking.id if booking is not None else None
    request.nik, request.name = "", ""
    _scrub_code(session, request)
    audit.record(session, PUBLIC, "booking.request_confirmed", "booking_request", request.id, office_id=office.id,
                 at=now, from_state=RS.PENDING.value, to_state=request.status,
                 data={"outcome": outcome, "booking_id": request.booking_id})
    return Confirmation(ok=True, contact=contacts.masked(contact), outcome=outcome, booking=booking)


def expire_requests(session: Session, office: Office, now: datetime | None = None) -> int:
    """Expire the office's pending requests whose code ran out (NIK and name emptied,
    audited), and empty the recipient of requests finished more than a day ago. Returns
    how many requests expired."""
    now = now or utcnow()
    due = session.scalars(select(BookingRequest).where(
        BookingRequest.office_id == office.id, BookingRequest.status == RS.PENDING.value,
        BookingRequest.expires_at <= now).with_for_update()).all()
    for request in due:
        _end(session, office, request, RS.EXPIRED.value, "booking.request_expired", now, actor=SYSTEM)
    for request in session.scalars(select(BookingRequest).where(
            BookingRequest.office_id == office.id, BookingRequest.status != RS.PENDING.value,
            BookingRequest.recipient != "", BookingRequest.expires_at <= now - KEEP_RECIPIENT)):
        request.recipient = ""
    return len(due)
