"""The managers' live dashboard page and its thresholds form (issue 7).

``/dashboard`` renders the first snapshot into the page; ``static/js/dashboard.js`` then
follows the office's staff stream and re-reads ``GET /api/v1/offices/<code>/dashboard``
on every relevant event (coalesced) and every 30 s, without reloading.
``/dashboard/thresholds`` is a plain form (CSRF field, audited save) for managers and
admins; section and division heads and the head of office see the dashboard only.
"""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..models import Role
from ..security import current_actor
from ..services.dashboard import LIMITS, dashboard_snapshot, office_thresholds, save_thresholds
from ..services.errors import ValidationError
from . import bp
from .scope import staff_office

VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)
EDITORS = (Role.MANAGER, Role.ADMIN)


def _office_arg() -> dict:
    """``office=CODE`` to carry in links for a system admin (no office of their own)."""
    return {"office": request.args["office"]} if current_actor().system_wide and request.args.get("office") else {}


@bp.get("/dashboard")
@login_required
def dashboard_page():
    """The live dashboard of the user's office (admins: ``?office=CODE``, default the first)."""
    if not current_user.has_role(*VIEWERS):
        abort(403)
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        snapshot = dashboard_snapshot(s, office)
    return render_template("dashboard.html", snapshot=snapshot, office=snapshot["office"],
                           can_edit=current_user.has_role(*EDITORS), office_arg=_office_arg())


@bp.route("/dashboard/thresholds", methods=["GET", "POST"])
@login_required
def dashboard_thresholds():
    """GET: the office's thresholds form. POST (form fields named after the keys of
    ``services.dashboard.thresholds``, empty = off; CSRF checked before the view): save
    and come back with ``?saved=1``, or show the form again with each bad field's error
    (422, nothing saved)."""
    if not current_user.has_role(*EDITORS):
        abort(403)
    errors: dict[str, str] = {}
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        values = office_thresholds(office)
        info = {"id": office.id, "code": office.code, "name": office.name}
        if request.method == "POST":
            actor = current_actor()
            try:
                save_thresholds(s, office.id, request.form, actor=actor)
            except ValidationError as exc:
                errors = exc.details.get("errors") or {exc.details.get("field", ""): exc.message}
                values = {limit.key: request.form.get(limit.key, "") for limit in LIMITS}
            else:
                return redirect(url_for("web.dashboard_thresholds", saved=1, **_office_arg()))
    status = 422 if errors else 200
    return render_template("dashboard_thresholds.html", office=info, limits=LIMITS, values=values,
                           errors=errors, saved=request.args.get("saved") == "1", office_arg=_office_arg()), status
