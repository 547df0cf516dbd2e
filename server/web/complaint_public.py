"""Public AKAPELA pages (seed 001, issue 7): ``/pengaduan/<office>`` (the web form: a
request for information or a complaint, channel "web_form") and
``/pengaduan/<office>/status`` (status and answer by contact number plus the last 4 digits
of the phone given, so a guessed number shows nothing).

Server-rendered forms with CSRF; both POSTs are rate limited per address
(``COMPLAINT_RATE_LIMIT``, ``COMPLAINT_STATUS_RATE_LIMIT``); failed status checks are
throttled per number as in the API. No name, NIK, phone or complaint text is shown: only
the number, kind, channel, status, dates and the officer's answer.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, current_app, render_template, request
from sqlalchemy import select

from ..api.complaints import contact_fields, status_throttle
from ..i18n import current_language
from ..models import Office, utcnow
from ..ratelimit import rate_limited
from ..security import citizen_form, current_actor
from ..services.complaints import ContactInvalid, register_contact
from ..services.complaints.registration import ID_KINDS, KINDS
from ..services.complaints.views import lookup_status, public_view
from ..services.errors import LoketError
from . import bp
from .complaint_pages import in_language


def _office(s, code: str) -> Office:
    office = s.scalars(select(Office).where(Office.code == code)).first()
    if office is None:
        abort(404)
    return office


def _form(office: dict, form: dict, errors: dict, status: int = 200):
    return render_template("complaint_form.html", office=office, form=form, errors=errors,
                           choices={"kinds": KINDS, "id_kinds": ID_KINDS}, number=None), status


@bp.get("/pengaduan/<office_code>")
def complaint_form(office_code: str):
    """The public web form of one office."""
    with current_app.extensions["loket"].db.session() as s:
        office = _office(s, office_code)
        return _form({"code": office.code, "name": office.name}, {}, {})


@bp.post("/pengaduan/<office_code>")
@citizen_form
@rate_limited("complaint")
def complaint_submit(office_code: str):
    """Register the form as a web-form contact; the page then shows the contact number.
    Wrong fields come back marked, with what was typed (nothing saved)."""
    lang = current_language()
    fields = {**contact_fields(request.form.to_dict()), "channel": "web_form"}
    with current_app.extensions["loket"].db.session() as s:
        office = _office(s, office_code)
        info = {"code": office.code, "name": office.name}
        try:
            number = register_contact(s, office, fields, actor=current_actor(), now=utcnow()).number
        except ContactInvalid as exc:
            return _form(info, fields, {k: in_language(v, lang) for k, v in exc.errors.items()}, 422)
    return render_template("complaint_form.html", office=info, form={}, errors={}, choices={}, number=number), 201


def _status(office: dict, status: int = 200, **kw):
    args = {"view": None, "error": None, "number": "", **kw}
    return render_template("complaint_status.html", office=office, **args), status


@bp.get("/pengaduan/<office_code>/status")
def complaint_status_form(office_code: str):
    """The status look-up form (``?number=`` fills the number in; the check is never in a URL)."""
    with current_app.extensions["loket"].db.session() as s:
        office = _office(s, office_code)
        return _status({"code": office.code, "name": office.name}, number=request.args.get("number", "")[:40])


@bp.post("/pengaduan/<office_code>/status")
@citizen_form
@rate_limited("complaint_status")
def complaint_status_page(office_code: str):
    """The status and answer of the contact whose number and phone check were typed; an
    unknown number and a wrong check give the same message."""
    lang = current_language()
    number, check = request.form.get("number", "")[:40], request.form.get("check", "")[:10]
    with current_app.extensions["loket"].db.session() as s:
        office = _office(s, office_code)
        info = {"code": office.code, "name": office.name}
        try:
            view = public_view(office, lookup_status(s, office, number, check, throttle=status_throttle()))
        except LoketError as exc:
            return _status(info, exc.http_status, error=in_language(exc.message, lang), number=number)
        zone = ZoneInfo(office.timezone)
    for key in ("received_at", "answered_at", "closed_at"):  # office-local wall-clock time
        view[key + "_local"] = (datetime.fromisoformat(view[key]).astimezone(zone).strftime("%d-%m-%Y %H.%M")
                                if view[key] else None)
    return _status(info, view=view, number=view["number"])
