"""The devices page: every kiosk, display and station of the office with its health
(the equipment monitoring of seed 002), updated live over the staff stream."""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..models import Office, Role
from ..services.snapshots import office_snapshot
from . import bp

VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)


@bp.get("/devices")
@login_required
def devices():
    """Devices of the user's office (admins: ``?office=CODE``, default the first office)."""
    if not current_user.has_role(*VIEWERS):
        abort(403)
    with current_app.extensions["loket"].db.session() as s:
        stmt = select(Office)
        if current_user.office_id is not None:
            stmt = stmt.where(Office.id == current_user.office_id)
        elif request.args.get("office"):
            stmt = stmt.where(Office.code == request.args["office"])
        office = s.scalars(stmt.order_by(Office.id)).first()
        if office is None:
            abort(404)
        snap = office_snapshot(s, office, "counter")
        return render_template("devices.html", office=snap["office"], devices=snap["devices"])
