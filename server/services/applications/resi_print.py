"""The resi (receipt) print job, sent to a kiosk agent's printer like a ticket job.

Source: issue 4, "The resi": printed on an ESC/POS printer through drivers/ with the
layout office, service, resi number, masked name, date, due date, QR, pickup
instructions, and reprintable. There is no counter printer device kind yet, so the job
goes to a kiosk of the office (the one the officer picks, else the office's first active
kiosk) over the existing print path: a ``print.job`` domain event {"device_id", "job"}
published after commit, which the realtime emitter sends as ``print_job`` to that
device's agent room (see ``server.services.printing`` for the ticket job).

Job shape (``kind: "resi"``)::

    {"job_id": "r<application id>-<attempt>", "kind": "resi", "ticket_id": None,
     "application_id": int, "lang": "id",
     "office": {"code", "name", "address", "timezone"},
     "service": {"code", "letter", "name_id", "name_en"},
     "resi_number": "DEMO-A-20261123-0001", "name": "B*** S******" (masked),
     "registered_at": ISO 8601 (UTC), "date": "2026-11-23" (office-local day),
     "due_date": "2026-12-07", "qr_payload": "LKT1....", "status_url": ".../r/LKT1....",
     "pickup_instructions": ["...", ...] (Indonesian lines)}

The QR to print is ``status_url`` (a phone camera opens the public status page; the pickup
scanner's ``ResiSigner.verify`` takes the payload from the URL's last path segment).
No NIK, phone or e-mail is in the job: only the masked name.

Not done here, later work of the kiosk agent and drivers/printer (documented so nobody
is surprised):

- the agent today only knows ticket jobs; it drops a job without ``ticket_id`` as
  malformed (``kiosk/agent.py``), which is why ``ticket_id`` is None: an old agent never
  prints a resi with the ticket layout. The agent must dispatch on ``kind`` and
  drivers/printer needs a ``render_resi`` layout with the fields above;
- its ``print_result`` for a resi must name ``application_id`` (the server's handler only
  records ticket results today);
- resi jobs are not re-sent when an agent reconnects (``printing.unprinted_jobs`` covers
  tickets): the officer reprints instead. Every job sent is audited
  (``application.print_resi``), and a reprint gets a new job id.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Application, AuditEntry, Device, DeviceKind, Office
from .. import audit, events
from ..actors import Actor
from ..clock import queue_day
from ..errors import NotFound
from ..nik import mask_name

ACTION = "application.print_resi"
#: Pickup instructions printed when the office's settings give none
#: (``office.settings["resi_pickup_instructions"]``: a list of lines).
DEFAULT_PICKUP = [
    "Ambil dokumen di loket pengambilan atau Drive-Thru dengan menunjukkan resi ini.",
    "Pantau status berkas dengan memindai kode QR.",
    "Pengambilan oleh orang lain wajib membawa surat kuasa (F-1.07) dan KTP-el pemohon serta penerima kuasa.",
]
#: Added for a service with an activation step: activation is in person only.
ACTIVATION_LINE = "KTP-el wajib diaktivasi oleh pemohon sendiri (tidak dapat diwakilkan)."


def status_url(public_url: str, payload: str) -> str:
    """The public status URL printed as the resi QR: ``<public_url>/r/<payload>``."""
    return f"{public_url.rstrip('/')}/r/{payload}"


def pickup_instructions(office: Office, app: Application) -> list[str]:
    """The pickup lines of the resi: the office's own (settings) or the defaults, plus the
    in-person activation line when the file has an ``activate`` step."""
    lines = [str(x) for x in (office.settings or {}).get("resi_pickup_instructions") or DEFAULT_PICKUP]
    if any(step.get("role") == "activation_officer" for step in app.steps):
        lines.append(ACTIVATION_LINE)
    return lines


def build_resi_job(
    session: Session, app: Application, payload: str, public_url: str, attempt: int = 1, lang: str = "id"
) -> dict:
    """The print job of ``app``'s resi (shape in the module docstring). ``payload``: the
    signed QR payload (``ResiSigner.make_payload(app.id, office.code, app.resi_number)``)."""
    office = session.get(Office, app.office_id)
    service = app.service
    return {
        "job_id": f"r{app.id}-{attempt}",
        "kind": "resi",
        "ticket_id": None,
        "application_id": app.id,
        "lang": lang,
        "office": {"code": office.code, "name": office.name, "address": office.address, "timezone": office.timezone},
        "service": {"code": service.code, "letter": service.letter, "name_id": service.name_id,
                    "name_en": service.name_en},
        "resi_number": app.resi_number,
        "name": mask_name(app.applicant_name),
        "registered_at": app.submitted_at.isoformat(),
        "date": queue_day(office, app.submitted_at).isoformat(),
        "due_date": app.due_date.isoformat(),
        "qr_payload": payload,
        "status_url": status_url(public_url, payload),
        "pickup_instructions": pickup_instructions(office, app),
    }


def next_attempt(session: Session, app: Application) -> int:
    """1 + the resi jobs already sent for ``app``: a reprint gets a new job id."""
    sent = session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_type == "application", AuditEntry.entity_id == app.id, AuditEntry.action == ACTION
        )
    )
    return 1 + (sent or 0)


def resi_printer(session: Session, office_id: int, device_id: int | None = None) -> Device:
    """The kiosk that prints: ``device_id`` (an active kiosk of the office) or the office's
    first active kiosk. Raises NotFound."""
    if device_id is None:
        device = session.scalars(select(Device).where(
            Device.office_id == office_id, Device.kind == DeviceKind.KIOSK.value, Device.active.is_(True)
        ).order_by(Device.id)).first()
    else:
        device = session.get(Device, device_id)
    if device is None or device.kind != DeviceKind.KIOSK.value or device.office_id != office_id or not device.active:
        raise NotFound("tidak ada printer kiosk di kantor ini / no kiosk printer in this office")
    return device


def send_resi_job(
    session: Session, app: Application, payload: str, public_url: str, *, actor: Actor, device_id: int | None = None
) -> tuple[dict, Device]:
    """Queue the resi job of ``app`` for a kiosk printer (sent after commit), audited as
    ``application.print_resi``; returns (job, device). Raises NotFound (no kiosk)."""
    device = resi_printer(session, app.office_id, device_id)
    job = build_resi_job(session, app, payload, public_url, next_attempt(session, app))
    audit.record(session, actor, ACTION, "application", app.id, office_id=app.office_id,
                 data={"job_id": job["job_id"], "device_id": device.id, "resi_number": app.resi_number})
    events.publish_after_commit(session, events.DomainEvent(events.PRINT_JOB, app.office_id,
                                                            {"device_id": device.id, "job": job}))
    return job, device
