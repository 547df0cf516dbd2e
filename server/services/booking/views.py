"""What the public booking pages show (issue 6): the days, sessions and places left, and
a booking's confirmation. No NIK and at most a masked name."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...i18n.catalogs import bilingual
from ...models import Booking, Office, Service
from ..nik import mask_name
from ..resi import ResiSigner
from . import capacity
from .settings import BookingRules


def _requirements(service: Service) -> list[dict]:
    return [{"id": r.get("id"), "en": r.get("en"), "when": r.get("when")} for r in (service.requirements or [])]


def availability(session: Session, office: Office, now: datetime) -> dict:
    """{"office": {"code", "name", "address"}, "services": [{"code", "letter", "name_id",
    "name_en", "description_id", "requirements", "quota"}], "sessions": [{"code", "start",
    "end", "label"}], "days": [{"date", "sessions": {session code: {"open": bool,
    "left": {service code: places left}}}}], "horizon_days", "opens_at"}."""
    rules = BookingRules(office)
    services = [s for s in session.scalars(select(Service).where(Service.office_id == office.id)
                                           .order_by(Service.sort_order)) if rules.bookable(s)]
    days = []
    for day in rules.days(now):
        left = capacity.remaining(session, office.id, day)
        days.append({"date": day.isoformat(), "sessions": {
            s.code: {"open": rules.session_open(day, s, now),
                     "left": {sv.code: left.get((sv.id, s.code), rules.quota(sv)) for sv in services}}
            for s in rules.sessions}})
    return {
        "office": {"code": office.code, "name": office.name, "address": office.address},
        "services": [{"code": s.code, "letter": s.letter, "name_id": s.name_id, "name_en": s.name_en,
                      "description_id": s.description_id, "requirements": _requirements(s), "quota": rules.quota(s)}
                     for s in services],
        "sessions": [{"code": s.code, "start": s.start.strftime("%H:%M"), "end": s.end.strftime("%H:%M"),
                      "label": s.label()} for s in rules.sessions],
        "days": days, "horizon_days": rules.horizon_days, "opens_at": rules.opens_at.strftime("%H:%M"),
    }


def booking_view(office: Office, booking: Booking, signer: ResiSigner, public_url: str,
                 service: Service | None = None) -> dict:
    """A booking's confirmation: {"code", "status", "office", "service", "day", "session"
    {"code", "label"}, "checkin_from", "checkin_until" (ISO 8601), "name" (masked),
    "qr_payload", "url" (its public page), "requirements", "cancel_hint"}. ``service``: the
    booking's service when the caller has it (default ``booking.service``, maybe a query)."""
    service = service or booking.service
    rules = BookingRules(office)
    sesi = rules.sesi(booking.session_code)
    start, until = rules.checkin_window(booking.day, sesi)
    payload = signer.make_payload(booking.id, office.code, booking.code)
    return {
        "code": booking.code, "status": booking.status,
        "office": {"code": office.code, "name": office.name, "address": office.address},
        "service": {"code": service.code, "name_id": service.name_id, "name_en": service.name_en},
        "day": booking.day.isoformat(), "session": {"code": sesi.code, "label": sesi.label()},
        "checkin_from": start.isoformat(), "checkin_until": until.isoformat(),
        "name": mask_name(booking.name), "qr_payload": payload,
        "url": f"{public_url.rstrip('/')}/booking/{office.code}/{booking.code}",
        "requirements": _requirements(service),
        "cancel_hint": bilingual("booking.answer.cancel_hint"),  # no language here: both, as before
    }
