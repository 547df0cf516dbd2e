"""Tickets: issue (kiosk or staff), public status, cancel, reprint."""
from __future__ import annotations

import logging

from flask import current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..models import COUNTER_ROLES, Device, DeviceKind, Office, Role, Service, Ticket, TicketStatus, utcnow
from ..security import current_actor, require
from ..services import printing
from ..services.clock import epoch_ms, queue_day
from ..services.errors import NotFound
from ..services.queue import cancel_ticket, issue_ticket
from ..services.queue.estimate import Estimate, estimate_wait
from ..services.queue.issuing import find_by_request
from ..services.snapshots import ticket_status
from . import bp
from .helpers import body, get_for_staff, get_office, int_arg, transaction

STAFF = tuple(COUNTER_ROLES) + (Role.MANAGER,)
log = logging.getLogger(__name__)


def public_url() -> str:
    """Base URL for links printed in QR codes (LOKET_PUBLIC_URL, else this request's host)."""
    return current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")


@bp.post("/offices/<code>/tickets")
@require(roles=STAFF, devices=(DeviceKind.KIOSK.value,), action="issue_ticket")
def issue(code: str):
    """Take a queue number. Body {"service": code, "priority_kind": null|"lansia"|
    "disabilitas"|"ibu_hamil", "request_id": optional idempotency key}. From a kiosk, the
    ticket's print job for its printer is queued in the same transaction as the ticket. A
    repeated request_id answers the first ticket and its first job id (200, no new job).
    A lost database connection answers 503: retry with the same request_id (the ticket and
    its job were saved together or not at all).
    ---
    post:
      tags: [tickets]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [service]
              properties:
                service: {type: string, example: ktp_el}
                priority_kind: {type: string, nullable: true, enum: [lansia, disabilitas, ibu_hamil]}
                request_id: {type: string, maxLength: 64, description: idempotency key of this tap}
      responses:
        201: {description: '{"ticket": status with people_ahead and estimated_wait_s (s), "status_url", "print": {"job_id"}|null, "repeated": false}'}
        200: {description: 'the ticket already issued for this request_id, with its first job ("repeated": true)'}
        404: {description: unknown service}
        409: {description: service unavailable or office closed}
        503: {description: 'database_unavailable: the connection to the database was lost; retry with the same request_id'}
    """
    data = body()
    request_id = str(data["request_id"]) if data.get("request_id") else None
    try:
        try:
            return _issue(code, data, request_id)
        except IntegrityError:
            if request_id is None:
                raise
            return _issue(code, data, request_id)  # the same tap raced itself: answer the first
    except DBAPIError as exc:  # a lost connection, a busy database: nothing was committed
        if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
            raise
        log.warning("ticket not issued, database unavailable: %s", str(exc).splitlines()[0][:200])
        return jsonify(error="database_unavailable",
                       message="Sistem sibuk, silakan coba lagi / database unavailable, please try again"), 503


def _issue(code: str, data: dict, request_id: str | None):
    """One transaction: the ticket and, from a kiosk, its print job. The estimate (the
    queries) is computed before the number is taken, so the service's day-sequence row lock
    (taken with the number, held until commit) covers only the ticket's insert, its audit
    rows and the job's."""
    actor = current_actor()
    device = g.get("device")
    s = current_app.extensions["loket"].db.Session()
    try:
        with s.begin():
            office = get_office(s, code)
            earlier = find_by_request(s, office.id, request_id) if request_id else None
            if earlier is not None:
                ticket, estimate, repeated = earlier, None, True
                job = printing.repeat_job(s, earlier, public_url()) if device is not None else None
            else:
                now, service_code, repeated = utcnow(), str(data.get("service", "")), False
                estimate = _estimate_before_number(s, office, service_code, now)
                ticket = issue_ticket(
                    s, office, service_code, actor=actor, priority_kind=data.get("priority_kind") or None,
                    channel="kiosk" if device is not None else "staff", request_id=request_id,
                    device_id=device.id if device is not None else None, now=now,
                )
                job = None
                if request_id is not None and ticket.issued_at != now:  # the first tap committed meanwhile
                    estimate, repeated = None, True
                    job = printing.repeat_job(s, ticket, public_url()) if device is not None else None
                elif device is not None:
                    job = printing.send_job(s, ticket, device.id, public_url(), actor=actor, estimate=estimate)
            answer = _issued(s, ticket, job, repeated=repeated, estimate=estimate)  # no query for a new ticket
        return jsonify(answer), 200 if repeated else 201
    finally:
        s.close()


def _estimate_before_number(s, office: Office, service_code: str, now) -> Estimate | None:
    """The estimate of the ticket about to be issued at ``now``, before its number is taken:
    people ahead are the waiting tickets of the service sorting before ``now`` (as the new
    ticket will). None when the service is unknown or inactive (issue_ticket refuses it)."""
    service = s.scalars(select(Service).where(Service.office_id == office.id, Service.code == service_code)).first()
    if service is None or not service.active:
        return None
    probe = Ticket(office_id=office.id, service_id=service.id, service=service, day=queue_day(office, now),
                   status=TicketStatus.WAITING.value, sort_key=epoch_ms(now))  # transient: never added
    return estimate_wait(s, probe, now)


def _issued(s, ticket: Ticket, job: dict | None, repeated: bool = False, estimate=None) -> dict:
    return {"ticket": ticket_status(s, ticket, estimate=estimate), "status_url": printing.status_url(public_url(), ticket),
            "print": {"job_id": job["job_id"]} if job else None, "repeated": repeated}


@bp.get("/tickets/<public_id>")
def status(public_id: str):
    """Public ticket status by the id in its QR code: position, estimate, counter when called.
    ---
    get:
      tags: [tickets]
      parameters: [{in: path, name: public_id, required: true, schema: {type: string}}]
      responses:
        200: {description: 'ticket with people_ahead, estimated_wait_s (s), office, service'}
        404: {description: unknown ticket}
    """
    with transaction() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.public_id == public_id)).first()
        if ticket is None:
            raise NotFound("ticket not found")
        return jsonify(ticket_status(s, ticket))


def _ticket_for_staff(s, ticket_id: int) -> Ticket:
    return get_for_staff(s, Ticket, ticket_id, "ticket not found")


@bp.post("/tickets/<int:ticket_id>/cancel")
@require(roles=STAFF)
def cancel(ticket_id: int):
    """Cancel a waiting ticket. Body {"reason": str}.
    ---
    post:
      tags: [tickets]
      parameters: [{in: path, name: ticket_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: the ticket}
        409: {description: not waiting}
    """
    reason = str(body().get("reason") or "cancelled by staff")[:200]
    with transaction() as s:
        _ticket_for_staff(s, ticket_id)
        ticket = cancel_ticket(s, ticket_id, actor=current_actor(), reason=reason)
        return jsonify(ticket_status(s, ticket))


@bp.post("/tickets/<int:ticket_id>/reprint")
@require(roles=STAFF)
def reprint(ticket_id: int):
    """Print a citizen's ticket again on a kiosk printer, marked "CETAK ULANG / REPRINT".
    Body {"device_id": int|null} (default: the kiosk that issued it, else the office's
    first kiosk).
    ---
    post:
      tags: [tickets]
      parameters: [{in: path, name: ticket_id, required: true, schema: {type: integer}}]
      responses:
        200: {description: '{"job_id"}'}
        404: {description: no kiosk printer}
    """
    data = body()
    with transaction() as s:
        ticket = _ticket_for_staff(s, ticket_id)
        device_id = int_arg(data, "device_id") or ticket.device_id
        if device_id is None:
            device_id = s.scalar(select(Device.id).where(
                Device.office_id == ticket.office_id, Device.kind == DeviceKind.KIOSK.value, Device.active.is_(True)
            ).order_by(Device.id))
        if device_id is None:
            raise NotFound("no kiosk printer in this office")
        job = printing.send_job(s, ticket, device_id, public_url(), actor=current_actor(),
                                attempt=printing.next_attempt(s, ticket), reprint=True)
        return jsonify(job_id=job["job_id"], device_id=device_id)
