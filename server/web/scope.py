"""Which office a staff page shows: the user's own, or for a system admin ``?office=CODE``
(default the first office)."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from ..models import Office


def staff_office(session) -> Office:
    """The office of this staff page request; 404 when there is none."""
    stmt = select(Office)
    if current_user.office_id is not None:
        stmt = stmt.where(Office.id == current_user.office_id)
    elif request.args.get("office"):
        stmt = stmt.where(Office.code == request.args["office"])
    office = session.scalars(stmt.order_by(Office.id)).first()
    if office is None:
        abort(404)
    return office
