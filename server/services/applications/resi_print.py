"""The resi (receipt) print job, sent to the counter's printer like a ticket job.

Source: issue 4, "The resi": printed on the counter's ESC/POS printer through drivers/
with the layout office, service, resi number, masked name, date, due date, QR, pickup
instructions, and reprintable.

Which printer (:func:`resi_printer`): the device the officer names (an active ``printer``
or ``kiosk`` device of the office); else the office's active ``printer`` device whose
``settings["counters"]`` holds the number of the counter that served the ticket; else a
``printer`` device without ``counters`` (it serves every counter); else the office's first
active kiosk (its ticket printer). A ``printer`` device is a PC at the counters running
``loket agent printer`` (the kiosk agent program: ``kiosk/agent.py``), which prints both
kinds of job with ``drivers.printer`` (``render_resi`` for this one).

The job travels as the ticket job does: a ``print.job`` domain event {"device_id", "job"}
published after commit, which the realtime emitter sends as ``print_job`` to that
device's agent room. The agent answers ``print_result`` {"job_id", "application_id",
"ok", "error"}, recorded by :func:`record_result` (audit ``application.resi_print_result``
and a ``resi.print_result`` event for the staff stream, so the officer sees "printed" or
why not).

Job shape (``kind: "resi"``)::

    {"job_id": "r<application id>-<attempt>", "kind": "resi", "ticket_id": None,
     "application_id": int, "lang": "id",
     "office": {"code", "name", "address", "timezone"},
     "service": {"code", "letter", "name_id", "name_en"},
     "resi_number": "DEMO-A-20261123-0001", "name": "B*** S******" (masked),
     "registered_at": ISO 8601 (UTC), "date": "2026-11-23" (office-local day),
     "due_date": "2026-12-07", "qr_payload": "LKT1....", "status_url": ".../r/LKT1....",
     "pickup_instructions": ["...", ...] (Indonesian lines),
     "order": int|None (place in issue order on the device, set when queued)}

``ticket_id`` stays None so that an agent older than resi jobs drops the job as malformed
rather than printing it with the ticket layout. The QR to print is ``status_url`` (a phone
camera opens the public status page; the pickup scanner's ``ResiSigner.verify`` takes the
payload from the URL's last path segment). No NIK, phone or e-mail is in the job: only the
masked name.

Every job sent is audited (``application.print_resi``), and a reprint gets a new job id.
The audit row's id is the job's ``order`` (its place in issue order on the device, shared
with ticket jobs); a job not answered "printed" is in the device's backlog
(``printing.backlog``), which its agent pulls on every connect, so a resi queued while the
printer's PC was away prints when it comes back (within ``printing.RESEND_WINDOW_S``).
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Application, AuditEntry, Counter, Device, DeviceKind, Office, Ticket
from .. import audit, events
from ..actors import Actor
from ..clock import queue_day
from ..errors import NotFound, ValidationError
from ..nik import mask_name
from .records import office_of

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
    office = office_of(session, app)
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
        "order": None,
    }


def next_attempt(session: Session, app: Application) -> int:
    """1 + the resi jobs already sent for ``app``: a reprint gets a new job id."""
    sent = session.scalar(
        select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_type == "application", AuditEntry.entity_id == app.id, AuditEntry.action == ACTION
        )
    )
    return 1 + (sent or 0)


PRINTING_KINDS = (DeviceKind.PRINTER.value, DeviceKind.KIOSK.value)


def _serves(device: Device, counter_number: int | None) -> bool:
    counters = (device.settings or {}).get("counters")
    return counter_number is not None and counter_number in (counters or ())


def resi_printer(session: Session, office_id: int, device_id: int | None = None,
                 counter_number: int | None = None) -> Device:
    """The device that prints a resi (rules in the module docstring): ``device_id`` when
    given, else the printer of counter ``counter_number``, else an office-wide printer,
    else the first kiosk. Raises NotFound when there is none (or ``device_id`` is not an
    active printer or kiosk of the office)."""
    if device_id is not None:
        device = session.get(Device, device_id)
        if device is None or device.kind not in PRINTING_KINDS or device.office_id != office_id or not device.active:
            raise NotFound(key="error.application.printer_not_found")
        return device
    devices = session.scalars(select(Device).where(
        Device.office_id == office_id, Device.kind.in_(PRINTING_KINDS), Device.active.is_(True)
    ).order_by(Device.id)).all()
    printers = [d for d in devices if d.kind == DeviceKind.PRINTER.value]
    for choice in ([d for d in printers if _serves(d, counter_number)],
                   [d for d in printers if not (d.settings or {}).get("counters")],
                   [d for d in devices if d.kind == DeviceKind.KIOSK.value]):
        if choice:
            return choice[0]
    raise NotFound(key="error.application.no_printer")


def counter_number_of(session: Session, app: Application) -> int | None:
    """The number of the counter that served ``app``'s ticket (None without one)."""
    if app.ticket_id is None:
        return None
    return session.scalar(select(Counter.number).join(Ticket, Ticket.counter_id == Counter.id)
                          .where(Ticket.id == app.ticket_id))


def send_resi_job(
    session: Session, app: Application, payload: str, public_url: str, *, actor: Actor, device_id: int | None = None
) -> tuple[dict, Device]:
    """Queue the resi job of ``app`` for its printer (:func:`resi_printer`; sent after
    commit), audited as ``application.print_resi``; returns (job, device), the job with its
    ``order``. Raises NotFound (no printer)."""
    device = resi_printer(session, app.office_id, device_id, counter_number_of(session, app))
    job = build_resi_job(session, app, payload, public_url, next_attempt(session, app))
    entry = audit.record(session, actor, ACTION, "application", app.id, office_id=app.office_id,
                         data={"job_id": job["job_id"], "device_id": device.id, "resi_number": app.resi_number})
    session.flush()  # the row's id is the job's place in issue order
    job["order"] = entry.id
    events.publish_after_commit(session, events.DomainEvent(events.PRINT_JOB, app.office_id,
                                                            {"device_id": device.id, "job": job}))
    return job, device


RESULT_ACTION = "application.resi_print_result"
MAX_ERROR = 200


def record_result(session: Session, device: Device, application_id: int, job_id: str, ok: bool,
                  error: str | None) -> dict:
    """Record a printer agent's ``print_result`` of a resi job: audit
    ``application.resi_print_result`` {"job_id", "ok", "error"} by the device, and a
    ``resi.print_result`` event for the office's staff stream. Returns the event data
    {"application_id", "resi_number", "job_id", "device_id", "device", "ok", "error"}.

    Raises NotFound when the application is not of the device's office; ValidationError
    when a failure comes without a reason or the job id is not this application's.
    """
    app = session.get(Application, application_id)
    if app is None or app.office_id != device.office_id:
        raise NotFound(key="error.application.not_found")
    if not ok and not error:
        raise ValidationError("a failed print needs an error text")
    if not str(job_id).startswith(f"r{app.id}-"):
        raise ValidationError("the job id is not a resi job of this application")
    error = str(error)[:MAX_ERROR] if error else None
    audit.record(session, Actor("device", device.id, office_id=device.office_id), RESULT_ACTION,
                 "application", app.id, office_id=app.office_id, data={"job_id": str(job_id), "ok": ok, "error": error})
    data = {"application_id": app.id, "resi_number": app.resi_number, "job_id": str(job_id),
            "device_id": device.id, "device": device.name, "ok": ok, "error": error}
    events.publish_after_commit(session, events.DomainEvent(events.RESI_PRINT_RESULT, app.office_id, data))
    return data
