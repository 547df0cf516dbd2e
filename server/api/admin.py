"""Administration: load a catalog (create or update an office), devices, staff."""
from __future__ import annotations

from ..models import Role
from ..security import current_actor
from ..services.accounts import create_device, create_staff
from ..services.catalog import load_catalog
from ..services.errors import Forbidden
from ..services.snapshots import office_public
from . import bp
from .contract import access, errors
from .helpers import get_office, transaction
from .schemas.admin import (
    DeviceBody,
    DeviceCreatedAnswer,
    LoadOfficeBody,
    OfficeLoadedAnswer,
    StaffBody,
    StaffCreatedAnswer,
)


@bp.post("/admin/offices")
@access(roles=(Role.ADMIN,))
@bp.arguments(LoadOfficeBody)
@bp.response(201, OfficeLoadedAnswer)
@errors()
def load_office(data: dict):
    """Create or update an office from a ``catalog`` (the TOML catalog as JSON) with
    ``overrides`` (code, name, opening_time "HH:MM", ...); answers ``{"office"}``. 422 an
    invalid catalog; 403 another office's."""
    with transaction() as s:
        office = load_catalog(s, data["catalog"], actor=current_actor(), overrides=data.get("overrides") or None)
        return {"office": office_public(office)}, 201


@bp.post("/admin/offices/<code>/devices")
@access(roles=(Role.ADMIN,))
@bp.arguments(DeviceBody)
@bp.response(201, DeviceCreatedAnswer)
@errors(404)
def add_device(data: dict, code: str):
    """Register a station of ``kind`` (kiosk, display, ...) named ``name``; answers
    ``{"device_id", "token"}``, the token only this once. 404 unknown office."""
    with transaction() as s:
        office = get_office(s, code)
        device, token = create_device(s, office.id, data["kind"], data["name"], actor=current_actor())
        return {"device_id": device.id, "token": token}, 201


@bp.post("/admin/staff")
@access(roles=(Role.ADMIN,))
@bp.arguments(StaffBody)
@bp.response(201, StaffCreatedAnswer)
@errors(404)
def add_staff(data: dict):
    """Create a staff user (``username``, ``password``, ``role``, ``full_name``, ``office``
    code, default the admin's own office); answers ``{"id"}``. 403 a system administrator
    (made only by ``loket staff-add``) or another office; 404 unknown office; 422 a name
    already taken, a weak password."""
    actor = current_actor()
    if data["role"] == Role.SYSTEM_ADMIN.value:
        raise Forbidden(key="error.api_queue.system_admin_by_cli")
    with transaction() as s:
        # get_office applies the office scope rule; an office admin's default is its own office
        office_id = get_office(s, data["office"]).id if data.get("office") else actor.office_id
        user = create_staff(s, data["username"], data["password"], data["role"],
                            full_name=data.get("full_name") or "", office_id=office_id, actor=actor)
        return {"id": user.id}, 201
