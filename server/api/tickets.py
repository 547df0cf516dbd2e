"""Tickets: issue (kiosk or staff), public status, cancel, reprint."""
from __future__ import annotations

import logging

from flask import abort, current_app, g, jsonify
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ..models import COUNTER_ROLES, Device, DeviceKind, Role, Ticket, utcnow
from ..security import current_actor, office_allowed, require
from ..services import audit, printing
from ..services.booking import catalog_cache
from ..services.clock import epoch_ms, queue_day
from ..services.errors import NotFound
from ..services.queue import cancel_ticket
from ..services.queue.estimate import FiguresCache, from_figures
from ..services.queue.issuing import insert_ticket, look_ahead
from ..services.queue.rules import QueueRules
from ..services.snapshots import ticket_status
from . import bp
from .helpers import body, get_for_staff, int_arg, public_url, transaction
from .presenters import issued_answer

STAFF = tuple(COUNTER_ROLES) + (Role.MANAGER,)
log = logging.getLogger(__name__)


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
    """One transaction: the ticket and, from a kiosk, its print job (``printing.issue_with_job``).

    Read before the transaction, without a query on a warm worker: the office and its
    services from the per-process catalog cache (``booking.catalog_cache``: 5 s, emptied
    on this process's commits that change them), the kiosk from the request's
    authentication (``g.device``). In the transaction: one statement for the people ahead
    and a ticket already issued for ``request_id`` (``issuing.look_ahead``), the service's
    mean service time and effective counters from a per-process cache
    (``estimate.FiguresCache``, 5 s), so the estimate is computed before the number; then
    the number, the ticket row and its audit rows. The service's day-sequence row lock
    (taken with the number, held until commit) covers only those inserts and the event
    log's. A first tap of the same ``request_id`` that commits after the look-up makes the
    ticket insert fail (unique request id); :func:`issue` then answers it as repeated."""
    actor = current_actor()
    device = g.get("device")
    catalog = catalog_cache.for_app(current_app.extensions, current_app.extensions["loket"].db.Session).get(code)
    office = catalog.office
    if not office_allowed(office.id):
        abort(403)
    service_code = str(data.get("service", ""))
    service = catalog.services.get(service_code)
    now, base_url = utcnow(), public_url()
    day, sort_key = queue_day(office, now), epoch_ms(now)
    s = current_app.extensions["loket"].db.Session()
    try:
        with s.begin():
            ahead, earlier_id = look_ahead(s, office.id, service.id if service is not None else -1, day, sort_key,
                                           request_id)
            if earlier_id is not None:  # a repeated tap: the first ticket and its first job
                ticket = s.get(Ticket, earlier_id)
                job = printing.repeat_job(s, ticket, base_url) if device is not None else None
                answer, status = issued_answer(s, ticket, job, repeated=True, base_url=base_url), 200
            else:
                estimate = None
                if service is not None and service.active:  # else insert_ticket refuses it
                    window = QueueRules.for_office(office).estimate_window
                    estimate = from_figures(ahead, estimate_figures().get(s, service, day, window))
                kwargs = dict(actor=actor, priority_kind=data.get("priority_kind") or None, request_id=request_id,
                              now=now)
                if device is not None:
                    ticket, job = printing.issue_with_job(s, office, service, service_code, device,
                                                          public_url=base_url, estimate=estimate, **kwargs)
                else:
                    ticket, row = insert_ticket(s, office, service, service_code, channel="staff", **kwargs)
                    audit.insert_rows(s, [row])
                    job = None
                answer, status = issued_answer(s, ticket, job, estimate=estimate, office=office, base_url=base_url), 201
        return jsonify(answer), status
    finally:
        s.close()


def estimate_figures() -> FiguresCache:
    """The app's per-process cache of each service's estimate figures (made once per app)."""
    cache = current_app.extensions.get("loket_estimate_figures")
    if cache is None:
        cache = current_app.extensions.setdefault("loket_estimate_figures", FiguresCache())
    return cache


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
