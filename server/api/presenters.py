"""What several API views answer the same way: a staff line and detail of an application
(permohonan) and the answer to a ticket issue. Plain dicts from rows; no view imports
another view's private helper (issue 14)."""
from __future__ import annotations

from datetime import datetime

from ..models import Application, ApplicationStatus, Office
from ..services import printing
from ..services.applications.deadlines import overdue_days
from ..services.applications.roles import step_roles
from ..services.applications.steps import standard_minutes
from ..services.nik import mask_nik
from ..services.queue.presenters import iso
from ..services.snapshots import ticket_status
from .helpers import public_url
from .resi import resi_links

READY = ApplicationStatus.READY.value


def application_line(office: Office, app: Application, roles: dict, now: datetime) -> dict:
    """A worklist line: the file, its current step and the time in it against the standard
    (``waiting_minutes`` and ``standard_minutes`` in minutes, ``overdue_working_days`` in
    working days); ``roles``: the office's step roles (``step_roles``)."""
    step = app.current_step
    waited = None if step is None else max(0.0, (now - app.step_entered_at).total_seconds() / 60)
    standard = None if step is None else standard_minutes(step)
    waits_for_citizen = app.status == READY
    return {
        "id": app.id, "resi_number": app.resi_number, "version": app.version, "status": app.status,
        "service": {"code": app.service.code, "letter": app.service.letter, "name_id": app.service.name_id,
                    "name_en": app.service.name_en},
        "applicant_name": app.applicant_name,
        "step": None if step is None else {
            "index": app.step_index, "code": step["code"], "name_id": step.get("name_id"),
            "name_en": step.get("name_en"), "role": step["role"], "staff_role": roles.get(step["role"]),
        },
        "step_entered_at": iso(app.step_entered_at),
        "waiting_minutes": None if waited is None else round(waited, 2),
        "standard_minutes": standard,
        "late": waited is not None and not waits_for_citizen and waited > standard,
        "waits_for_citizen": waits_for_citizen,
        "submitted_at": iso(app.submitted_at),
        "due_date": app.due_date.isoformat(),
        "overdue_working_days": overdue_days(office, app, now),
        "shelf_location": app.shelf_location,
    }


def application_detail(s, app: Application, now: datetime) -> dict:
    """The staff view of one file: :func:`application_line` plus the applicant's contact,
    masked NIK, cases, requirements, ready/collected times and resi links (staff only: never
    on a public screen)."""
    office = s.get(Office, app.office_id)
    item = application_line(office, app, step_roles(office), now)
    item.update({
        "applicant_nik_masked": mask_nik(app.applicant_nik), "phone": app.phone, "email": app.email,
        "cases": app.cases, "requirements": app.requirements, "ready_at": iso(app.ready_at),
        "collected_at": iso(app.collected_at), "collector": app.collector, "resi": resi_links(office, app),
    })
    return item


def issued_answer(s, ticket, job: dict | None, repeated: bool = False, estimate=None, office=None,
                  base_url: str | None = None) -> dict:
    """The answer to a ticket issue (``schemas.tickets.IssuedAnswer``; also the
    kiosk check-in's, ``api.checkin``): ``{"ticket", "status_url", "print": {"job_id"} | None,
    "repeated"}``; ``ticket`` a ``Ticket`` or a new ``issuing.NewTicket``; ``base_url``
    default :func:`~server.api.helpers.public_url`."""
    return {"ticket": ticket_status(s, ticket, estimate=estimate, office=office),
            "status_url": printing.status_url(base_url or public_url(), ticket),
            "print": {"job_id": job["job_id"]} if job else None, "repeated": repeated}
