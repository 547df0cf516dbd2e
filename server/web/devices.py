"""The devices page: every kiosk, display and station of the office with its health
(the equipment monitoring of seed 002), updated live over the staff stream."""
from __future__ import annotations

from flask import abort, current_app, render_template
from flask_login import current_user, login_required

from ..models import Role
from ..services.snapshots import office_snapshot
from . import bp
from .scope import staff_office

VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)


@bp.get("/devices")
@login_required
def devices():
    """Devices of the user's office (admins: ``?office=CODE``, default the first office)."""
    if not current_user.has_role(*VIEWERS):
        abort(403)
    with current_app.extensions["loket"].db.session() as s:
        office = staff_office(s)
        snap = office_snapshot(s, office, "counter")
        return render_template("devices.html", office=snap["office"], devices=snap["devices"])
