"""The managers' report pages (issues 5 and 7): ``/reports`` lists them; each report page
(``/reports/<name>``: waiting, productivity, control-card, pickups, activations, ikm,
complaints) shows one report of the user's office (``scope.staff_office``; a system admin
picks ``?office=``) with the period and filter form, its tables, CSV / XLSX downloads
(``?format=csv|xlsx``) and a printable view (``static/css/reports.css``).

Every page is served by :func:`report_page_response` with the API's functions
(``api.report_requests``), so a page, its files and the API agree. For managers, section
and division heads, the head of office and admins; 403 otherwise. Bad dates or filters
re-show the form with the message (400), nothing else is lost.
"""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..api.report_requests import REPORT_VIEWERS, build_report, file_response
from ..i18n import current_language, translate
from ..models import Counter, Office, Service, StaffUser, utcnow
from ..services.analytics.catalog import GROUPS, KINDS, REPORT_KINDS
from ..services.errors import ValidationError
from . import bp
from .scope import staff_office

ANALYTICS = ("waiting", "productivity", "control-card", "pickups")
#: the page endpoint of each report (``url_for``); the analytics ones share ``report_page``
PAGE_ENDPOINTS = {"activations": "web.activation_report_page", "ikm": "web.ikm_report_page",
                  "complaints": "web.complaint_report_page"}


def _viewer() -> None:
    if not current_user.has_role(*REPORT_VIEWERS):
        abort(403)


#: the rows a filter offers: (model, ordering, (value, text) of a row in a language)
_CHOICES = {
    "service": (Service, Service.sort_order, lambda sv, lang: (sv.code, f"{sv.letter} · {sv.name(lang)}")),
    "counter": (Counter, Counter.number, lambda c, lang: (str(c.number), c.label)),
    "officer": (StaffUser, StaffUser.username, lambda u, lang: (u.username, f"{u.full_name} ({u.username})")),
}


def filter_fields(session, office: Office, filters: tuple[str, ...], lang: str) -> list[dict]:
    """The form's selects for ``filters``: [{"name", "options": [(value, text)], "all":
    bool (an empty "all" option first), "default"}] in ``lang``; the office's services,
    counters and staff, and the waiting report's groupings."""
    fields = []
    for name in filters:
        if name == "group":
            fields.append({"name": name, "all": False, "default": "none", "options": [
                (g, translate(f"report.group.{g}", lang) if g != "none" else "–") for g in GROUPS]})
            continue
        model, order, option = _CHOICES[name]
        rows = session.scalars(select(model).where(model.office_id == office.id).order_by(order))
        fields.append({"name": name, "all": True, "default": "", "options": [option(r, lang) for r in rows]})
    return fields


def report_page_response(name: str, template: str):
    """The page of report ``name`` in ``template`` (which includes ``_report_header.html``),
    or its CSV / XLSX file for ``?format=csv|xlsx``; 400 with the form and the message for
    bad input."""
    _viewer()
    kind = REPORT_KINDS[name]
    lang = current_language()
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        error, report, tables = None, None, []
        try:
            report, tables = build_report(s, kind, office, request.args)
        except ValidationError as exc:
            error = exc.message
        fmt = request.args.get("format")
        if fmt in ("csv", "xlsx") and report is not None:
            return file_response(kind, report, tables, fmt)
        html = render_template(
            template, name=name, kind=kind, report=report, tables=tables, error=error, args=request.args,
            page_endpoint=request.endpoint,
            link_args={**(request.view_args or {}), **{k: v for k, v in request.args.items() if k != "format"}},
            filter_fields=filter_fields(s, office, kind.filters, lang), printed_at=utcnow(),
            office={"code": office.code, "name": office.name, "tz": office.timezone})
        return html, (400 if error else 200)


@bp.get("/reports")
@login_required
def reports_index():
    """The list of every report (``services.analytics.catalog.KINDS``)."""
    _viewer()
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        links = [(k.name, k.title_key, PAGE_ENDPOINTS.get(k.name, "web.report_page"),
                  {} if k.name in PAGE_ENDPOINTS else {"name": k.name}) for k in KINDS]
        return render_template("reports_index.html", links=links, office={"code": office.code, "name": office.name})


@bp.get("/reports/<any(waiting, productivity, 'control-card', pickups):name>")
@login_required
def report_page(name: str):
    """One report of issue 7: ``?from=&to=`` (default the last 7 days), ``service``,
    ``counter``, ``officer``, ``group`` (waiting only), ``format=csv|xlsx``."""
    return report_page_response(name, "report_view.html")


@bp.get("/reports/activations")
@login_required
def activation_report_page():
    """KTP-el activations (issue 5), ``?from=&to=`` (default the last 7 days): per day,
    refusals by reason, and the queues' waiting and service times with the activation
    queue first."""
    return report_page_response("activations", "report_activations.html")


@bp.get("/reports/ikm")
@login_required
def ikm_report_page():
    """The IKM (``?from=&to=&service=&counter=``; default the current semester): overall,
    per service and per counter, comments without names."""
    return report_page_response("ikm", "report_ikm.html")


@bp.get("/reports/complaints")
@login_required
def complaint_report_page():
    """AKAPELA figures, ``?from=&to=`` (default the last 30 days): counts by kind, channel,
    outcome; times to first answer and to resolution, overall and per kind."""
    return report_page_response("complaints", "report_complaints.html")
