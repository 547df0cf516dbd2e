"""Staff pages of AKAPELA (seed 001, issue 7): ``/complaints`` (what is waiting for my
role, all open, closed; the registration form), ``/complaints/<id>`` (the contact, its
kartu kendali and the actions the user's role may take there); the managers' period
report ``/reports/complaints`` is in ``reports_pages``. Server-rendered forms with CSRF;
each POST calls one service in one transaction (audit rows written there) and redirects
back with a message.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..api.complaints import contact_fields
from ..api.resi import resi_signer
from ..i18n import current_language, translate
from ..models import Complaint, Office, utcnow
from ..security import current_actor, require_office
from ..services.complaints import ContactInvalid, answer, close, escalate, register_contact, reply, route
from ..services.complaints.registration import CHANNELS, ID_KINDS, KINDS
from ..services.complaints.actions import actions_for
from ..services.complaints.stages import ROUTE_TARGETS
from ..services.complaints.views import staff_detail, staff_item, waiting_list
from ..services.errors import LoketError
from . import bp
from .scope import staff_office

CHOICES = {"channels": CHANNELS, "kinds": KINDS, "id_kinds": ID_KINDS, "targets": ROUTE_TARGETS}


def _db():
    return current_app.extensions["loket"].db


def in_language(message: str, lang: str) -> str:
    """The part of a service's "Indonesian / English" message for ``lang``."""
    parts = message.split(" / ", 1)
    return parts[0] if len(parts) == 1 or lang == "id" else parts[1]


def local_time(iso: str | None, zone: ZoneInfo, seconds: bool = False) -> str | None:
    """An ISO UTC time as office-local "dd-mm-YYYY HH.MM" (with ".SS" when ``seconds``)."""
    if not iso:
        return None
    return datetime.fromisoformat(iso).astimezone(zone).strftime("%d-%m-%Y %H.%M" + (".%S" if seconds else ""))


def _list_page(s, office, form: dict, errors: dict, status: int = 200):
    view = request.args.get("view") or "mine"
    if view not in ("mine", "open", "closed"):
        abort(404)
    now = utcnow()
    rows = [staff_item(c, now) for c in waiting_list(s, office.id, current_user.role, view=view)]
    zone = ZoneInfo(office.timezone)
    for r in rows:
        r["created_local"] = local_time(r["created_at"], zone)
    return render_template("complaints.html", office={"code": office.code, "name": office.name}, rows=rows,
                           view=view, form=form, errors=errors, choices=CHOICES), status


@bp.get("/complaints")
@login_required
def complaints_page():
    """The contacts waiting for the user's role (``?view=open|closed`` for the others) and
    the registration form for a contact taken by phone, WhatsApp or at the desk."""
    with _db().session() as s:
        return _list_page(s, staff_office(s), {}, {})


@bp.post("/complaints")
@login_required
def complaints_register():
    """Register a contact from the form; on bad input the form comes back with every
    wrong field marked (nothing saved)."""
    lang = current_language()
    fields = contact_fields(request.form.to_dict())
    try:
        with _db().session() as s:
            office = staff_office(s)
            c = register_contact(s, office, fields, actor=current_actor(), now=utcnow(), signer=resi_signer())
            number, cid = c.number, c.id
    except ContactInvalid as exc:
        with _db().session() as s:
            errors = {k: in_language(v, lang) for k, v in exc.errors.items()}
            return _list_page(s, staff_office(s), fields, errors, 422)
    flash(translate("complaints.registered", lang, number=number), "ok")
    return redirect(url_for("web.complaint_page", complaint_id=cid))


def _contact(s, complaint_id: int) -> Complaint:
    c = s.get(Complaint, complaint_id)
    if c is None:
        abort(404)
    require_office(c.office_id)
    return c


@bp.get("/complaints/<int:complaint_id>")
@login_required
def complaint_page(complaint_id: int):
    """One contact: identity (NIK masked), text, linked file, kartu kendali, and the forms
    of the actions the user's role may take at its stage."""
    with _db().session() as s:
        c = _contact(s, complaint_id)
        detail, zone = staff_detail(s, c), ZoneInfo(s.get(Office, c.office_id).timezone)
    detail["closed_local"] = local_time(detail["closed_at"], zone)
    for step in detail["steps"]:
        step["at_local"] = local_time(step["at"], zone, seconds=True)
    actions = actions_for(detail["status"], detail["stage"], detail["holder_role"], current_user.role)
    return render_template("complaint.html", c=detail, actions=actions,
                           choices=CHOICES)


_RUN = {"answer": answer, "escalate": escalate, "reply": reply, "close": close}


@bp.post("/complaints/<int:complaint_id>")
@login_required
def complaint_act(complaint_id: int):
    """Run one action from the detail page's form (fields ``action``, ``note``, ``target``
    for route, ``expected_version``); a refusal (wrong role, stale version: another officer
    acted first, missing note) is shown as a message and nothing changes."""
    lang = current_language()
    action = request.form.get("action", "")
    note = request.form.get("note", "")
    try:
        version = int(request.form.get("expected_version", ""))
    except ValueError:
        abort(400)
    try:
        with _db().session() as s:
            _contact(s, complaint_id)
            kwargs = {"actor": current_actor(), "expected_version": version, "now": utcnow()}
            if action == "route":
                route(s, complaint_id, request.form.get("target", ""), note, **kwargs)
            elif action in _RUN:
                _RUN[action](s, complaint_id, note, **kwargs)
            else:
                abort(400)
        flash(translate("complaints.action.done", lang, action=translate(f"complaints.action.{action}", lang)), "ok")
    except LoketError as exc:
        flash(in_language(exc.message, lang), "error")
    return redirect(url_for("web.complaint_page", complaint_id=complaint_id))
