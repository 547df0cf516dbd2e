"""The kiosk's idempotent ticket issue and the kiosk chosen for a reprint: the work the
ticket views did by hand (issue 14, "views stay thin"), here for ``server.api.tickets``."""
from __future__ import annotations

import logging

from flask import abort, current_app, g
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..models import Device, DeviceKind, Ticket, utcnow
from ..security import current_actor, office_allowed
from ..services import audit, printing
from ..services.booking import catalog_cache
from ..services.clock import epoch_ms, queue_day
from ..services.errors import LoketError, NotFound
from ..services.queue.estimate import FiguresCache, from_figures
from ..services.queue.issuing import insert_ticket, look_ahead
from ..services.queue.rules import QueueRules
from .helpers import public_url
from .presenters import issued_answer

log = logging.getLogger(__name__)


class DatabaseUnavailable(LoketError):
    """The connection to the database was lost while issuing: nothing was committed, the
    kiosk retries with the same ``request_id`` (503)."""

    code = "database_unavailable"
    http_status = 503


def issue_ticket(code: str, data: dict) -> tuple[dict, int]:
    """Issue a ticket of ``data["service"]`` at office ``code`` for the caller (a kiosk: with
    its print job; staff: without), idempotent by ``data["request_id"]``: answers
    ``(issued_answer, 201)``, or ``(the first ticket's answer, 200)`` for a repeated
    ``request_id``. The same tap racing itself (the unique request id refuses the second
    insert) is answered as repeated. A lost database connection raises
    :class:`DatabaseUnavailable` (503): nothing was saved, retry with the same request id."""
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
        raise DatabaseUnavailable(key="error.api_queue.database_unavailable") from None


def _issue(code: str, data: dict, request_id: str | None) -> tuple[dict, int]:
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
    ticket insert fail (unique request id); :func:`issue_ticket` then answers it as repeated."""
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
                return issued_answer(s, ticket, job, repeated=True, base_url=base_url), 200
            estimate = None
            if service is not None and service.active:  # else insert_ticket refuses it
                window = QueueRules.for_office(office).estimate_window
                estimate = from_figures(ahead, estimate_figures().get(s, service, day, window))
            kwargs = dict(actor=actor, priority_kind=data.get("priority_kind") or None, request_id=request_id, now=now)
            if device is not None:
                ticket, job = printing.issue_with_job(s, office, service, service_code, device,
                                                      public_url=base_url, estimate=estimate, **kwargs)
            else:
                ticket, row = insert_ticket(s, office, service, service_code, channel="staff", **kwargs)
                audit.insert_rows(s, [row])
                job = None
            return issued_answer(s, ticket, job, estimate=estimate, office=office, base_url=base_url), 201
    finally:
        s.close()


def estimate_figures() -> FiguresCache:
    """The app's per-process cache of each service's estimate figures (made once per app)."""
    cache = current_app.extensions.get("loket_estimate_figures")
    if cache is None:
        cache = current_app.extensions.setdefault("loket_estimate_figures", FiguresCache())
    return cache


def reprint_kiosk(s: Session, ticket: Ticket, device_id: int | None) -> int:
    """The kiosk to print ``ticket`` again on: ``device_id`` when given, else the kiosk that
    issued it, else the office's first active kiosk; NotFound (404) when the office has none."""
    device_id = device_id or ticket.device_id
    if device_id is None:
        device_id = s.scalar(select(Device.id).where(
            Device.office_id == ticket.office_id, Device.kind == DeviceKind.KIOSK.value, Device.active.is_(True)
        ).order_by(Device.id))
    if device_id is None:
        raise NotFound(key="error.api_queue.no_kiosk_printer")
    return device_id
