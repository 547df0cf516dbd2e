"""The managers' report pages (issue 7): ``/reports`` lists them; ``/reports/<name>`` shows
one for the user's office (``scope.staff_office``; a system admin picks ``?office=``) with
its period and filter form, its tables, CSV / XLSX downloads (``?format=csv|xlsx``) and a
printable view (print CSS). Same figures as the API (``api.analytics.run_report``).

For managers, section and division heads, the head of office and admins; 403 otherwise.
Bad dates or filters re-show the form with the message (400), nothing else is lost.
"""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..api.analytics import file_response, run_report
from ..models import Counter, Role, Service, StaffUser, utcnow
from ..services.analytics import GROUPS
from ..services.errors import ValidationError
from . import bp
from .scope import staff_office

VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)
NAMES = ("waiting", "productivity", "control-card", "pickups")


def _viewer() -> None:
    if not current_user.has_role(*VIEWERS):
        abort(403)


@bp.get("/reports")
@login_required
def reports_index():
    """The list of reports (the four of issue 7 and the activation report of issue 5)."""
    _viewer()
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        return render_template("reports_index.html", names=NAMES, office={"code": office.code, "name": office.name})


@bp.get("/reports/<any(waiting, productivity, 'control-card', pickups):name>")
@login_required
def report_page(name: str):
    """One report: ``?from=&to=`` (office-local dates, default the last 7 days),
    ``service``, ``counter``, ``officer``, ``group`` (waiting only), ``format=csv|xlsx``."""
    _viewer()
    fmt = request.args.get("format")
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        choices = {
            "services": [(sv.code, f"{sv.letter} · {sv.name_id}") for sv in
                         s.scalars(select(Service).where(Service.office_id == office.id).order_by(Service.sort_order))],
            "counters": [c.number for c in
                         s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number))],
            "officers": [(u.username, u.full_name) for u in
                         s.scalars(select(StaffUser).where(StaffUser.office_id == office.id).order_by(StaffUser.username))],
        }
        error, report, tables = None, None, []
        try:
            report, tables = run_report(s, office, name, request.args)
        except ValidationError as exc:
            error = exc.message
        if fmt in ("csv", "xlsx") and report is not None:
            return file_response(name, report, tables, fmt)
        html = render_template(
            "report_view.html", name=name, report=report, tables=tables, error=error, args=request.args,
            query_args={k: v for k, v in request.args.items() if k != "format"},
            groups=GROUPS if name == "waiting" else (), choices=choices, printed_at=utcnow(),
            office={"code": office.code, "name": office.name, "tz": office.timezone})
        return html, (400 if error else 200)
