"""Ticket print jobs for kiosk agents, the backlog an agent pulls, and the results it reports.

The server never touches a printer (DEVELOPERS.md: device I/O only in drivers/ and the
agents). Issuing a ticket at a kiosk queues a print job for that kiosk's agent in the same
transaction as the ticket (:func:`issue_with_job` for a kiosk tap, :func:`send_job` for a
ticket already issued: ``print_status`` "queued", audit ``ticket.print`` {"job_id",
"device_id", "reprint"?}, a ``print.job`` event pushed after commit); the agent prints
through drivers/printer and answers ``print_result``. A ticket whose print failed is still
valid: the kiosk shows it with its QR code.

The audit row of a job is its persistent record, so no table of its own is needed: its id
is the job's ``order``, the place in issue order on its device (rows are numbered as they
are inserted; two tickets of one service are numbered in the order of their numbers, since
the second waits for the first's sequence row lock). On every connect the agent pulls
:func:`backlog`, its unprinted jobs in that order, before it prints anything pushed, so
a new ticket never prints before older ones.

Job shape (``print_job`` socket message, and what ``drivers.printer`` lays out)::

    {"job_id": "t<ticket id>-<attempt>", "ticket_id": int, "kind": "ticket",
     "office": {"name", "address", "timezone"}, "service": {"letter", "name_id", "name_en"},
     "number": "A012", "priority_kind": str|None, "issued_at": ISO 8601,
     "people_ahead": int, "estimated_wait_s": int|None, "status_url": str, "lang": "id",
     "reprint": bool (a staff reprint: the slip says "CETAK ULANG / REPRINT"),
     "order": int|None (place in issue order on the device; None before it is queued)}
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Application, AuditEntry, Device, DeviceKind, Office, Service, Ticket, utcnow
from . import audit, events
from .actors import Actor
from .applications import resi_print
from .errors import Forbidden, NotFound, ValidationError
from .queue import issuing
from .queue.estimate import Estimate, estimate_wait
from .queue.presenters import ticket_stream

MAX_ERROR = 180
JOB_ACTION = "ticket.print"
RESULT_ACTION = "ticket.print_result"
#: Devices whose agent prints (and may pull a backlog): kiosks and counter resi printers.
PRINTING_KINDS = (DeviceKind.KIOSK.value, DeviceKind.PRINTER.value)


def status_url(public_url: str, ticket: Ticket | issuing.NewTicket) -> str:
    """The public ticket status URL printed in the ticket's QR code."""
    return f"{public_url.rstrip('/')}/t/{ticket.public_id}"


def job_id(ticket_id: int, attempt: int = 1) -> str:
    """The id of a ticket's print job: "t<ticket id>-<attempt>" (attempt 1: the first job)."""
    return f"t{ticket_id}-{attempt}"


def build_job(
    session: Session, ticket: Ticket | issuing.NewTicket, public_url: str, attempt: int = 1, lang: str = "id",
    estimate: Estimate | None = None,
    reprint: bool = False, office: Office | None = None,
) -> dict:
    """The print job of ``ticket`` (shape in the module docstring; ``order`` None);
    ``estimate`` saves recomputing one the caller already has; ``reprint`` marks the slip;
    ``office``: the ticket's office when the caller has it (default ``ticket.service.office``)."""
    est = estimate or estimate_wait(session, ticket)
    office = office or ticket.service.office
    service = ticket.service
    return {
        "job_id": job_id(ticket.id, attempt),
        "ticket_id": ticket.id,
        "kind": "ticket",
        "office": {"name": office.name, "address": office.address, "timezone": office.timezone},
        "service": {"letter": service.letter, "name_id": service.name_id, "name_en": service.name_en},
        "number": ticket.display_number,
        "priority_kind": ticket.priority_kind,
        "issued_at": ticket.issued_at.isoformat(),
        "people_ahead": est.people_ahead,
        "estimated_wait_s": None if est.wait_s is None else round(est.wait_s),
        "status_url": status_url(public_url, ticket),
        "lang": lang,
        "reprint": bool(reprint),
        "order": None,
    }


def next_attempt(session: Session, ticket: Ticket) -> int:
    """1 + the print jobs already sent for ``ticket``: a reprint gets a new job id, so an
    agent that never prints a job twice still prints a requested reprint."""
    sent = session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_type == "ticket", AuditEntry.entity_id == ticket.id, AuditEntry.action == JOB_ACTION
        )
    )
    return 1 + (sent or 0)


def send_job(
    session: Session, ticket: Ticket, device_id: int, public_url: str, *, actor: Actor, attempt: int = 1,
    estimate: Estimate | None = None, reprint: bool = False,
) -> dict:
    """Queue a print job for kiosk ``device_id`` in the caller's transaction (pushed to its
    agent after commit); returns the job, with its ``order`` (the id of its audit row).
    ``reprint``: a staff reprint (the slip is marked).

    Raises NotFound when the device is not an active kiosk of the ticket's office.
    """
    device = session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.KIOSK.value or device.office_id != ticket.office_id or not device.active:
        raise NotFound("no kiosk printer for this ticket")
    job = build_job(session, ticket, public_url, attempt, estimate=estimate, reprint=reprint)
    ticket.print_status = "queued"
    entry = audit.record(session, actor, JOB_ACTION, "ticket", ticket.id, office_id=ticket.office_id,
                         data={"job_id": job["job_id"], "device_id": device_id, **({"reprint": True} if reprint else {})})
    session.flush()  # the row's id is the job's place in issue order
    job["order"] = entry.id
    events.publish_after_commit(session, events.DomainEvent(events.PRINT_JOB, ticket.office_id, {"device_id": device_id, "job": job}))
    return job


def issue_with_job(
    session: Session, office: Office, service: Service | None, service_code: str, device: Device, *, actor: Actor,
    public_url: str, estimate: Estimate, priority_kind: str | None = None, request_id: str | None = None,
    now: datetime,
) -> tuple[issuing.NewTicket, dict]:
    """Issue a ticket at kiosk ``device`` and queue its print job, in the caller's
    transaction; returns (ticket, job) (the ticket a plain ``issuing.NewTicket``; the job
    with its ``order``).

    What :func:`send_job` does for a ticket already issued, without its queries: the
    device is the request's authenticated kiosk (``g.device``, detached: checked here, not
    read again), the ticket row is written with ``print_status`` "queued" (no UPDATE), and
    the ticket's audit row and the job's (``ticket.print`` {"job_id", "device_id"}: its id
    is the job's ``order``) are inserted with one statement. ``estimate`` (computed before
    the number, ``queue.estimate``) goes on the slip. ``office`` and ``service`` may be
    detached read-only rows (``booking.catalog_cache``). Raises what
    ``issuing.insert_ticket`` raises; NotFound when ``device`` is not an active kiosk of
    ``office``.
    """
    if device.kind != DeviceKind.KIOSK.value or device.office_id != office.id or not device.active:
        raise NotFound("no kiosk printer for this ticket")
    ticket, issued_row = issuing.insert_ticket(
        session, office, service, service_code, actor=actor, priority_kind=priority_kind, channel="kiosk",
        request_id=request_id, device_id=device.id, now=now, print_status="queued")
    job = build_job(session, ticket, public_url, estimate=estimate, office=office)
    job_row = audit.row(actor, JOB_ACTION, "ticket", ticket.id, office_id=office.id, at=now,
                        data={"job_id": job["job_id"], "device_id": device.id})
    _issued_id, job["order"] = audit.insert_rows(session, [issued_row, job_row])
    events.publish_after_commit(session, events.DomainEvent(events.PRINT_JOB, office.id,
                                                            {"device_id": device.id, "job": job}))
    return ticket, job


def _attempt(job_id: str) -> int:
    """The attempt number of a job id ("t12-3" → 3); ValueError when malformed."""
    return int(str(job_id).rsplit("-", 1)[1])


def _ticket_job(session: Session, ticket: Ticket, row: AuditEntry, public_url: str) -> dict:
    """The job recorded by audit ``row`` rebuilt (same id, reprint mark and order)."""
    data = row.data or {}
    job = build_job(session, ticket, public_url, _attempt(data["job_id"]), reprint=bool(data.get("reprint")))
    job["order"] = row.id
    return job


def repeat_job(session: Session, ticket: Ticket, public_url: str) -> dict | None:
    """The print job sent when ``ticket`` was issued, for a repeated request (same
    ``request_id``): the same job id and order, no new job. While the ticket is not
    printed it is pushed to its device again after commit (it repairs a push lost between
    the commit and the emit; the agent never prints a job id twice). None when the ticket
    never had a job (issued by staff)."""
    row = session.scalars(select(AuditEntry).where(
        AuditEntry.entity_type == "ticket", AuditEntry.entity_id == ticket.id, AuditEntry.action == JOB_ACTION,
    ).order_by(AuditEntry.id).limit(1)).first()
    if row is None:
        return None
    job = _ticket_job(session, ticket, row, public_url)
    device_id = (row.data or {}).get("device_id")
    if ticket.print_status != "printed" and device_id is not None:
        events.publish_after_commit(session, events.DomainEvent(events.PRINT_JOB, ticket.office_id,
                                                                {"device_id": device_id, "job": job}))
    return job


RESEND_WINDOW_S = 600  # the kiosk agent drops jobs older than this (its job_ttl_s)


def backlog(session: Session, device_id: int, public_url: str, *,
            resi_payload: Callable[[Office, Application], str] | None = None, now: datetime | None = None) -> list[dict]:
    """The unprinted print jobs of one kiosk or counter printer, in issue order (``order``
    ascending), for its agent to print before anything pushed to it.

    A job counts when it was queued in the last RESEND_WINDOW_S seconds, it is the latest
    job of its ticket or file (a reprint sent to another device supersedes it), it was
    queued for ``device_id``, and no print success came back for it: for a ticket, its
    ``print_status`` is not "printed"; for a resi, no ``application.resi_print_result``
    with its job id and ok. Jobs keep their ids, reprint marks and order keys. Resi jobs
    need ``resi_payload(office, app)`` (the signed QR payload); without it they are left
    out. Raises Forbidden when the device is not a kiosk or printer (or is unknown).
    """
    device = session.get(Device, device_id)
    if device is None or device.kind not in PRINTING_KINDS:
        raise Forbidden("only kiosk and printer agents print")
    since = (now or utcnow()) - timedelta(seconds=RESEND_WINDOW_S)
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.office_id == device.office_id, AuditEntry.action.in_((JOB_ACTION, resi_print.ACTION)),
        AuditEntry.at >= since,
    ).order_by(AuditEntry.id)).all()
    latest = {(row.entity_type, row.entity_id): row for row in rows}  # later rows win
    jobs = []
    for row in sorted(latest.values(), key=lambda r: r.id):
        data = row.data or {}
        if data.get("device_id") != device.id or not data.get("job_id"):
            continue
        if row.action == JOB_ACTION:
            ticket = session.get(Ticket, row.entity_id)
            if ticket is not None and ticket.print_status != "printed":
                jobs.append(_ticket_job(session, ticket, row, public_url))
        elif resi_payload is not None:
            job = _resi_job(session, row, public_url, resi_payload)
            if job is not None:
                jobs.append(job)
    return jobs


def _resi_job(session: Session, row: AuditEntry, public_url: str,
              resi_payload: Callable[[Office, Application], str]) -> dict | None:
    """The resi job of audit ``row`` rebuilt, or None when it printed (or the file is gone)."""
    app = session.get(Application, row.entity_id)
    if app is None:
        return None
    job_id = str(row.data["job_id"])
    results = session.scalars(select(AuditEntry.data).where(
        AuditEntry.entity_type == "application", AuditEntry.entity_id == app.id,
        AuditEntry.action == resi_print.RESULT_ACTION)).all()
    if any((r or {}).get("job_id") == job_id and (r or {}).get("ok") for r in results):
        return None
    office = session.get(Office, app.office_id)
    if office is None:
        raise NotFound(key="error.not_found.office")
    job = resi_print.build_resi_job(session, app, resi_payload(office, app), public_url, _attempt(job_id))
    job.update(reprint=bool(row.data.get("reprint")), order=row.id)
    return job


def record_result(session: Session, device: Device, ticket_id: int, ok: bool, error: str | None,
                  job_id: str | None = None) -> Ticket:
    """Store a kiosk agent's print result on the ticket and tell the screens; ``job_id`` (the
    job it answers) is kept in the audit row.

    Raises NotFound when the ticket is not of the device's office; ValidationError when a
    failure comes without a reason.
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.office_id != device.office_id:
        raise NotFound("ticket not found")
    if not ok and not error:
        raise ValidationError("a failed print needs an error text")
    ticket.print_status = "printed" if ok else f"failed: {str(error)[:MAX_ERROR]}"
    audit.record(session, Actor("device", device.id, office_id=device.office_id), RESULT_ACTION,
                 "ticket", ticket.id, office_id=ticket.office_id,
                 data={"ok": ok, "error": error, **({"job_id": str(job_id)[:64]} if job_id else {})})
    events.publish_after_commit(session, events.DomainEvent(events.TICKET_CHANGED, ticket.office_id, {"ticket": ticket_stream(ticket)}))
    return ticket
