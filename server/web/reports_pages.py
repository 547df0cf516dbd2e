"""The managers' report pages (issue 5: KTP-el activations). Server-rendered tables from
the same service as the API (``services.activation.report``); a printable page."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required

from ..models import Role, utcnow
from ..services.activation.report import activation_report
from ..services.clock import queue_day
from ..services.errors import ValidationError
from . import bp
from .scope import staff_office

VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)


def _day(name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.args.get(name) or "") if request.args.get(name) else default
    except ValueError:
        abort(400)


@bp.get("/reports/activations")
@login_required
def activation_report_page():
    """KTP-el activations of the user's office, ``?from=&to=`` (office-local dates, default
    the last 7 days): per day, refusals by reason, and the queues' waiting and service
    times (minutes) with the activation queue first."""
    if not current_user.has_role(*VIEWERS):
        abort(403)
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        last = _day("to", queue_day(office, utcnow()))
        first = _day("from", last - timedelta(days=6))
        try:
            report = activation_report(s, office, first, last)
        except ValidationError:
            abort(400)
        return render_template("report_activations.html", report=report,
                               office={"code": office.code, "name": office.name})
