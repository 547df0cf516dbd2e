"""Kiosk check-in of an online booking (issue 6): the booking becomes a queue ticket placed
by its slot, printed on the kiosk like a walk-in ticket. Rules in
``server.services.booking.checkin``."""
from __future__ import annotations

from flask import g

from ..models import DeviceKind
from ..security import current_actor
from ..services import printing
from ..services.booking.checkin import check_in
from ..services.booking.views import booking_view
from ..services.errors import ValidationError
from ..services.queue.estimate import estimate_wait
from . import bp
from .bookings import booking_signer
from .contract import access, errors
from .helpers import get_office, public_url, transaction
from .presenters import issued_answer
from .schemas.tickets import CheckinAnswer, CheckinBody
from .tickets import STAFF


@bp.post("/offices/<code>/checkin")
@access(roles=STAFF, devices=(DeviceKind.KIOSK.value,), action="issue_ticket")
@bp.arguments(CheckinBody)
@bp.response(201, CheckinAnswer)
@bp.alt_response(200, schema=CheckinAnswer, description='already checked in: the same ticket, "repeated": true')
@errors(404, 409)
def checkin(data: dict, code: str):
    """Check in a booking at the kiosk: ``ref`` (typed code or scanned QR payload) and
    ``nik_suffix`` (the NIK's last 6 digits; required from a kiosk, staff may omit it).
    Answers 201 ``{"ticket", "status_url", "print", "repeated": false, "booking"}`` (the
    ticket as for a walk-in, its print job for this kiosk's printer saved in the same
    transaction); a booking already checked in answers its ticket again, 200 with
    ``"repeated": true`` and the first job's id (no new job; pushed again while still
    unprinted). 404 unknown booking; 409 too_early, too_late, wrong_day, cancelled,
    expired, nik_mismatch, booking_forged, booking_foreign, booking_wrong_office,
    office_closed; 422 (field nik_suffix) no NIK digits from a kiosk."""
    device = g.get("device")
    nik = (data.get("nik_suffix") or "").strip() or None
    if nik is None and device is not None:
        raise ValidationError(key="error.api_queue.nik_suffix_required", field="nik_suffix")
    actor = current_actor()
    with transaction() as s:  # one transaction: the ticket and its print job are saved together or not at all
        office = get_office(s, code)
        result = check_in(s, office, data["ref"], nik=nik, signer=booking_signer(), actor=actor,
                          device_id=device.id if device is not None else None)
        ticket = result.ticket
        estimate = estimate_wait(s, ticket)
        job = None
        if device is not None:
            job = (printing.repeat_job(s, ticket, public_url()) if result.repeated
                   else printing.send_job(s, ticket, device.id, public_url(), actor=actor, estimate=estimate))
        answer = issued_answer(s, ticket, job, repeated=result.repeated, estimate=estimate)
        answer["booking"] = booking_view(office, result.booking, booking_signer(), public_url())
    return answer, 200 if result.repeated else 201
