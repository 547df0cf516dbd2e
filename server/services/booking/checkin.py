"""Kiosk check-in of a booking, and the expiry of bookings nobody checked in (issue 6).

Check-in (:func:`check_in`): the citizen scans the booking QR (a keyboard-wedge scanner
types the payload into the kiosk's field) or types the 8-character code, and types the
last 6 digits of the NIK (the NIK is checked again at check-in; 6 digits, not the whole
NIK, because it is typed on a public screen; the full 16 digits are accepted too). Within
the check-in window of the booking's session (``BookingRules.checkin_window``: by default
30 minutes before to 15 minutes after the session start) the booking becomes a ticket of
channel "booking", placed by its slot: its ``sort_key`` is the session start, so it goes
ahead of walk-ins who came after the slot began (and the counters alternate booked and
walk-in tickets in the office's ``booked_ratio``, ``services.queue.calling``).

Refusals (``BookingRefused``, with a bilingual message saying what to do): ``too_early``
(details ``checkin_from``), ``too_late`` (take a walk-in number), ``wrong_day`` (details
``day``), ``cancelled``, ``expired``, ``nik_mismatch``; and from ``bookings.find``:
``booking_forged``, ``booking_foreign``, ``booking_wrong_office``, NotFound.

The KTP in hand decides (issue 13): bookings are bound to the contact that confirmed
them, so one NIK may hold bookings for the same service and day from two contacts (its
owner's, and someone's who booked in it). Each one still needs the NIK's digits here, and
the counter serves the person whose KTP-el matches; a booking made in someone else's NIK
blocks neither its owner's booking nor check-in, and its no-show counts against the
contact that made it, not the NIK (``bookings``).

A booking already checked in is **not** an error: a second scan of the same QR answers
the same ticket (``check_in`` returns it with ``repeated`` True), so a citizen who scans
twice, or whose first answer was lost, gets the number they already have.

Expiry (:func:`expire_due`): a booking still ``booked`` when its window has ended
becomes ``expired`` (a no-show, counted against its contact at booking time); its place
is not given back, the session is over. Run by the server's background loop
(``server.realtime.tasks``) and callable in tests.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Booking, BookingStatus, Office, Ticket, utcnow
from .. import audit
from ..actors import SYSTEM, Actor
from ..clock import epoch_ms
from ..errors import ValidationError
from ..queue.issuing import issue_ticket
from ..resi import ResiSigner
from .bookings import BookingRefused, find
from .settings import BookingRules

#: How many trailing NIK digits the kiosk asks for.
NIK_SUFFIX_DIGITS = 6


@dataclass
class CheckIn:
    """The result of a check-in: the booking, its ticket, and whether it had been checked
    in already (a repeated scan)."""

    booking: Booking
    ticket: Ticket
    repeated: bool = False

    def __iter__(self):  # (booking, ticket) = check_in(...)
        return iter((self.booking, self.ticket))


def _nik_matches(booking: Booking, nik: str) -> bool:
    nik = "".join(ch for ch in str(nik) if not ch.isspace())
    if not nik.isdigit() or len(nik) not in (NIK_SUFFIX_DIGITS, 16):
        raise ValidationError(key="error.booking.checkin.nik_suffix", params={"digits": NIK_SUFFIX_DIGITS},
                              field="nik_suffix")
    return booking.nik.endswith(nik)


def check_in(session: Session, office: Office, ref: str, *, nik: str | None, signer: ResiSigner,
             actor: Actor, now: datetime | None = None, device_id: int | None = None) -> CheckIn:
    """Check in the booking named by ``ref`` (typed code or scanned QR payload) and issue
    its ticket (see the module docstring). ``nik``: the NIK's last 6 digits (or the whole
    NIK) typed at the kiosk; None skips the check (staff desk). Returns a
    :class:`CheckIn` (unpacks as ``booking, ticket``). Raises BookingRefused,
    ValidationError, NotFound, and the queue's OfficeClosed / ServiceUnavailable."""
    now = now or utcnow()
    found = find(session, office, ref, signer)
    # Lock the booking: two scans at once give one ticket.
    booking = session.scalars(select(Booking).where(Booking.id == found.id).with_for_update()
                              .execution_options(populate_existing=True)).one()
    if nik is not None and not _nik_matches(booking, nik):
        raise BookingRefused("nik_mismatch", key="error.booking.checkin.nik_mismatch")
    if booking.status == BookingStatus.CHECKED_IN.value and booking.ticket_id is not None:
        ticket = session.get(Ticket, booking.ticket_id)
        if ticket is not None:
            return CheckIn(booking, ticket, repeated=True)
    if booking.status == BookingStatus.CANCELLED.value:
        raise BookingRefused("cancelled", key="error.booking.checkin.cancelled")
    if booking.status == BookingStatus.EXPIRED.value:
        raise BookingRefused("expired", key="error.booking.checkin.expired")
    rules = BookingRules(office)
    sesi = rules.sesi(booking.session_code)
    opens, closes = rules.checkin_window(booking.day, sesi)
    today = now.astimezone(rules.zone).date()
    if booking.day != today and now < opens:
        raise BookingRefused("wrong_day", key="error.booking.checkin.wrong_day",
                             params={"day": f"{booking.day:%d-%m-%Y}"}, day=booking.day.isoformat(),
                             checkin_from=opens.isoformat())
    if now < opens:
        hhmm = f"{opens.astimezone(rules.zone):%H.%M}"
        raise BookingRefused("too_early", key="error.booking.checkin.too_early", params={"hhmm": hhmm},
                             checkin_from=opens.isoformat(), checkin_from_hhmm=hhmm)
    if now >= closes:
        hhmm = f"{closes.astimezone(rules.zone):%H.%M}"
        raise BookingRefused("too_late", key="error.booking.checkin.too_late", params={"hhmm": hhmm},
                             checkin_until=closes.isoformat(), checkin_until_hhmm=hhmm)
    ticket = issue_ticket(session, office, booking.service.code, actor=actor, channel="booking",
                          device_id=device_id, sort_key=epoch_ms(rules.at(booking.day, sesi.start)), now=now)
    booking.status, booking.checked_in_at, booking.ticket_id = BookingStatus.CHECKED_IN.value, now, ticket.id
    audit.record(session, actor, "booking.checked_in", "booking", booking.id, office_id=office.id, at=now,
                 from_state=BookingStatus.BOOKED.value, to_state=booking.status,
                 data={"ticket": ticket.display_number, "ticket_id": ticket.id, "session": sesi.code})
    return CheckIn(booking, ticket)


def expire_due(session: Session, office: Office, now: datetime | None = None) -> int:
    """Expire the office's bookings still ``booked`` whose check-in window has ended
    (``expired_at`` = now; a no-show; the place is not given back). Returns how many."""
    now = now or utcnow()
    rules = BookingRules(office)
    today = now.astimezone(rules.zone).date()
    candidates = session.scalars(select(Booking).where(
        Booking.office_id == office.id, Booking.status == BookingStatus.BOOKED.value,
        Booking.day <= today).with_for_update()).all()
    ends = {}
    count = 0
    for booking in candidates:
        key = (booking.day, booking.session_code)
        if key not in ends:
            try:
                ends[key] = rules.checkin_window(booking.day, rules.sesi(booking.session_code))[1]
            except ValidationError:  # the session was removed from the settings: its day decides
                ends[key] = rules.at(booking.day, max(s.end for s in rules.sessions)) if booking.day == today else now
        if now < ends[key]:
            continue
        booking.status, booking.expired_at = BookingStatus.EXPIRED.value, now
        audit.record(session, SYSTEM, "booking.expired", "booking", booking.id, office_id=office.id, at=now,
                     from_state=BookingStatus.BOOKED.value, to_state=booking.status)
        count += 1
    return count
