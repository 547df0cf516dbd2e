"""Ticket print jobs for kiosk agents, and the results they report back.

The server never touches a printer (DEVELOPERS.md: device I/O only in drivers/ and the
agents). Issuing a ticket at a kiosk publishes a print job to that kiosk's agent; the agent
prints through drivers/printer and answers ``print_result``. A ticket whose print failed is
still valid: the kiosk shows it with its QR code.

Job shape (``print_job`` socket message, and what ``drivers.printer`` lays out)::

    {"job_id": "t<ticket id>-<attempt>", "ticket_id": int, "kind": "ticket",
     "office": {"name", "address", "timezone"}, "service": {"letter", "name_id", "name_en"},
     "number": "A012", "priority_kind": str|None, "issued_at": ISO 8601,
     "people_ahead": int, "estimated_wait_s": int|None, "status_url": str, "lang": "id"}
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Device, DeviceKind, Ticket
from . import audit, events
from .actors import Actor
from .errors import NotFound, ValidationError
from .queue.estimate import Estimate, estimate_wait
from .queue.presenters import ticket_stream

MAX_ERROR = 180


def status_url(public_url: str, ticket: Ticket) -> str:
    """The public ticket status URL printed in the ticket's QR code."""
    return f"{public_url.rstrip('/')}/t/{ticket.public_id}"


def build_job(
    session: Session, ticket: Ticket, public_url: str, attempt: int = 1, lang: str = "id", estimate: Estimate | None = None
) -> dict:
    """The print job of ``ticket`` (shape in the module docstring); ``estimate`` saves
    recomputing one the caller already has."""
    est = estimate or estimate_wait(session, ticket)
    office = ticket.service.office
    return {
        "job_id": f"t{ticket.id}-{attempt}",
        "ticket_id": ticket.id,
        "kind": "ticket",
        "office": {"name": office.name, "address": office.address, "timezone": office.timezone},
        "service": {"letter": ticket.service.letter, "name_id": ticket.service.name_id, "name_en": ticket.service.name_en},
        "number": ticket.display_number,
        "priority_kind": ticket.priority_kind,
        "issued_at": ticket.issued_at.isoformat(),
        "people_ahead": est.people_ahead,
        "estimated_wait_s": None if est.wait_s is None else round(est.wait_s),
        "status_url": status_url(public_url, ticket),
        "lang": lang,
    }


def next_attempt(session: Session, ticket: Ticket) -> int:
    """1 + the print jobs already sent for ``ticket``: a reprint gets a new job id, so an
    agent that never prints a job twice still prints a requested reprint."""
    sent = session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_type == "ticket", AuditEntry.entity_id == ticket.id, AuditEntry.action == "ticket.print"
        )
    )
    return 1 + (sent or 0)


def send_job(
    session: Session, ticket: Ticket, device_id: int, public_url: str, *, actor: Actor, attempt: int = 1,
    estimate: Estimate | None = None,
) -> dict:
    """Queue a print job for kiosk ``device_id`` (sent after commit); returns the job.

    Raises NotFound when the device is not an active kiosk of the ticket's office.
    """
    device = session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.KIOSK.value or device.office_id != ticket.office_id or not device.active:
        raise NotFound("no kiosk printer for this ticket")
    job = build_job(session, ticket, public_url, attempt, estimate=estimate)
    ticket.print_status = "queued"
    audit.record(session, actor, "ticket.print", "ticket", ticket.id, office_id=ticket.office_id,
                 data={"job_id": job["job_id"], "device_id": device_id})
    events.publish_after_commit(session, events.DomainEvent(events.PRINT_JOB, ticket.office_id, {"device_id": device_id, "job": job}))
    return job


RESEND_WINDOW_S = 600  # the kiosk agent drops jobs older than this (its job_ttl_s)


def unprinted_jobs(session: Session, device_id: int, public_url: str, now=None) -> list[dict]:
    """Print jobs of this kiosk not yet printed (queued, or failed and waiting for the
    printer) from the last RESEND_WINDOW_S seconds, with their original job ids: sent
    again when the kiosk agent (re)connects, since Socket.IO keeps nothing for an absent
    client. The agent never prints a job id twice."""
    from datetime import timedelta

    from ..models import utcnow

    since = (now or utcnow()) - timedelta(seconds=RESEND_WINDOW_S)
    tickets = session.scalars(
        select(Ticket).where(Ticket.device_id == device_id, Ticket.issued_at >= since,
                             (Ticket.print_status == "queued") | Ticket.print_status.like("failed%"))
        .order_by(Ticket.id)
    ).all()
    return [build_job(session, t, public_url, attempt=max(1, next_attempt(session, t) - 1)) for t in tickets]


def record_result(session: Session, device: Device, ticket_id: int, ok: bool, error: str | None) -> Ticket:
    """Store a kiosk agent's print result on the ticket and tell the screens.

    Raises NotFound when the ticket is not of the device's office; ValidationError when a
    failure comes without a reason.
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.office_id != device.office_id:
        raise NotFound("ticket not found")
    if not ok and not error:
        raise ValidationError("a failed print needs an error text")
    ticket.print_status = "printed" if ok else f"failed: {str(error)[:MAX_ERROR]}"
    audit.record(session, Actor("device", device.id, office_id=device.office_id), "ticket.print_result",
                 "ticket", ticket.id, office_id=ticket.office_id, data={"ok": ok, "error": error})
    events.publish_after_commit(session, events.DomainEvent(events.TICKET_CHANGED, ticket.office_id, {"ticket": ticket_stream(ticket)}))
    return ticket
