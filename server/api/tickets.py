"""Tickets: issue (kiosk or staff), public status, cancel, reprint."""
from __future__ import annotations

from sqlalchemy import select

from ..models import COUNTER_ROLES, DeviceKind, Role, Ticket
from ..security import current_actor
from ..services import printing
from ..services.errors import NotFound
from ..services.queue import cancel_ticket
from ..services.snapshots import ticket_status
from . import bp
from .contract import access, errors, public
from .helpers import get_for_staff, public_url, transaction
from .issuing import issue_ticket, reprint_kiosk
from .schemas.tickets import CancelBody, IssueBody, IssuedAnswer, ReprintAnswer, ReprintBody, TicketStatusAnswer

__all__ = ["STAFF", "public_url"]  # public_url: imported from here by server.web.booking_pages

STAFF = tuple(COUNTER_ROLES) + (Role.MANAGER,)


@bp.post("/offices/<code>/tickets")
@access(roles=STAFF, devices=(DeviceKind.KIOSK.value,), action="issue_ticket")
@bp.arguments(IssueBody)
@bp.response(201, IssuedAnswer)
@bp.alt_response(200, schema=IssuedAnswer, description='the ticket already issued for this request_id, with its '
                                                       'first job ("repeated": true)')
@errors(404, 409)
def issue(data: dict, code: str):
    """Take a queue number: ``service`` (its code), ``priority_kind`` (null or lansia,
    disabilitas, ibu_hamil), ``request_id`` (the tap's idempotency key). From a kiosk, the
    ticket's print job for its printer is queued in the same transaction as the ticket.
    Answers 201 ``{"ticket" (with people_ahead, estimated_wait_s in seconds), "status_url",
    "print": {"job_id"} | null, "repeated": false}``; a repeated ``request_id`` answers the
    first ticket and its first job id (200, no new job). 404 unknown service or office, 409
    service unavailable or office closed. A lost database connection answers 503
    ``database_unavailable``: retry with the same ``request_id`` (the ticket and its job
    were saved together or not at all; ``api.issuing.issue_ticket``)."""
    return issue_ticket(code, data)


@bp.get("/tickets/<public_id>")
@public
@bp.response(200, TicketStatusAnswer)
@errors(404)
def status(public_id: str):
    """Public ticket status by the id in its QR code: position (``people_ahead``), estimate
    (``estimated_wait_s``, seconds), counter when called, office and service. 404 unknown
    ticket."""
    with transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.public_id == public_id)).first()
        if ticket is None:
            raise NotFound(key="error.api_queue.ticket_not_found")
        return ticket_status(s, ticket)


def _ticket_for_staff(s, ticket_id: int) -> Ticket:
    return get_for_staff(s, Ticket, ticket_id, "ticket")


@bp.post("/tickets/<int:ticket_id>/cancel")
@access(roles=STAFF)
@bp.arguments(CancelBody, required=False)
@bp.response(200, TicketStatusAnswer)
@errors(404, 409)
def cancel(data: dict, ticket_id: int):
    """Cancel a waiting ticket with a ``reason`` (default "cancelled by staff"); answers the
    ticket's status. 404 unknown ticket, 409 not waiting."""
    reason = (data.get("reason") or "cancelled by staff")[:200]
    with transaction() as s:
        _ticket_for_staff(s, ticket_id)
        ticket = cancel_ticket(s, ticket_id, actor=current_actor(), reason=reason)
        return ticket_status(s, ticket)


@bp.post("/tickets/<int:ticket_id>/reprint")
@access(roles=STAFF)
@bp.arguments(ReprintBody, required=False)
@bp.response(200, ReprintAnswer)
@errors(404)
def reprint(data: dict, ticket_id: int):
    """Print a citizen's ticket again on a kiosk printer, marked "CETAK ULANG / REPRINT":
    on ``device_id``, default the kiosk that issued it, else the office's first kiosk
    (``api.issuing.reprint_kiosk``). Answers ``{"job_id", "device_id"}``; 404 unknown
    ticket or no kiosk printer."""
    with transaction() as s:
        ticket = _ticket_for_staff(s, ticket_id)
        device_id = reprint_kiosk(s, ticket, data.get("device_id"))
        job = printing.send_job(s, ticket, device_id, public_url(), actor=current_actor(),
                                attempt=printing.next_attempt(s, ticket), reprint=True)
        return {"job_id": job["job_id"], "device_id": device_id}
