"""Staff pages of the application chain (issue 4): the worklist (files waiting at the
steps of the user's role, with waiting time against the standard, due date and overdue
working days; approve, return with a reason, shelf location before the hand-over) and
one application's kartu kendali. Both read the REST API from ``static/js/worklist.js``
and reload when the office's staff stream says an application changed (polling once a
minute as a fallback)."""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..models import Application, Office, Role, Service
from ..security import office_allowed
from ..services.applications.steps import handover_index
from . import bp
from .demo_devices import demo_card_reader
from .scope import staff_office

#: Every staff role has a worklist; managers and admins see all steps.
WORKLIST_ROLES = tuple(Role)


def _before_handover(s, office: Office) -> dict[str, str]:
    """{service code: code of the step before the hand-over}: the step where the file is
    filed as ready, so the worklist asks for its shelf location there."""
    out = {}
    for service in s.scalars(select(Service).where(Service.office_id == office.id)):
        steps = service.steps or []
        try:
            hand = handover_index(steps)
        except (KeyError, TypeError):
            continue
        if hand:
            out[service.code] = steps[hand - 1]["code"]
    return out


def _user() -> dict:
    return {"id": current_user.id, "name": current_user.full_name, "role": current_user.role}


@bp.get("/worklist")
@login_required
def worklist_page():
    """The user's worklist (managers and admins: every step, ``?role=`` to narrow)."""
    if not current_user.has_role(*WORKLIST_ROLES):
        abort(403)
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        cfg = {"page": "worklist", "office": {"id": office.id, "code": office.code, "name": office.name},
               "user": _user(),
               "role": request.args.get("role") or "", "before_handover": _before_handover(s, office),
               "roles": [r.value for r in Role if r not in (Role.MANAGER, Role.ADMIN)]}
        return render_template("worklist.html", office=cfg["office"], cfg=cfg)


@bp.get("/applications/<int:application_id>")
@login_required
def application_page(application_id: int):
    """One application's kartu kendali (the API checks the office). ``office_id``: the
    application's office, whose staff stream the page follows (None: no stream)."""
    if not current_user.has_role(*WORKLIST_ROLES):
        abort(403)
    with current_app.extensions["loket"].db.session() as s:
        office_id = s.scalar(select(Application.office_id).where(Application.id == application_id))
    if not office_allowed(office_id):
        office_id = None
    cfg = {"page": "application", "application_id": application_id, "office_id": office_id, "user": _user(),
           "demo_card_reader": demo_card_reader()}
    return render_template("application.html", cfg=cfg)
