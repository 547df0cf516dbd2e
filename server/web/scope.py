"""Which office a staff page shows: the user's own, or for a system admin ``?office=CODE``
(default the first office); which station a station page shows. Both go through the
office scope rule (``security.office_allowed``, ``Actor.may_access``)."""
from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy import select

from ..models import Device, Office
from ..security import current_actor, require_office


def staff_office(session) -> Office:
    """The office of this staff page request: the user's own; for a system admin
    ``?office=CODE`` or else the first office. 404 when there is none, 403 when the caller
    may not see it (``require_office``)."""
    actor = current_actor()
    stmt = select(Office)
    if not actor.system_wide:
        stmt = stmt.where(Office.id == actor.office_id)
    elif request.args.get("office"):
        stmt = stmt.where(Office.code == request.args["office"])
    office = session.scalars(stmt.order_by(Office.id)).first()
    if office is None:
        abort(404 if actor.system_wide else 403)
    require_office(office.id)
    return office


def station_page(session, device_id: int, kind: str, roles) -> dict:
    """The station of a staff station page: the active-or-not device ``device_id`` of
    ``kind`` for a user holding one of ``roles`` in its office (admins without an office:
    any; the scope rule ``require_office``). Returns {"id", "name", "office_id", "office_code", "office_name"}; aborts 403
    (role, another office) or 404 (no such station of that kind)."""
    if not current_user.has_role(*roles):
        abort(403)
    device = session.get(Device, device_id)
    if device is None or device.kind != kind:
        abort(404)
    require_office(device.office_id)
    office = session.get(Office, device.office_id)
    return {"id": device.id, "name": device.name, "office_id": office.id, "office_code": office.code,
            "office_name": office.name}
