"""Administration: load a catalog (create or update an office), devices, staff."""
from __future__ import annotations

from flask import jsonify

from ..models import Role
from ..security import current_actor, require
from ..services.accounts import create_device, create_staff
from ..services.catalog import load_catalog
from ..services.errors import Forbidden, ValidationError
from ..services.snapshots import office_public
from . import bp
from .helpers import body, get_office, transaction


@bp.post("/admin/offices")
@require(roles=(Role.ADMIN,))
def load_office():
    """Create or update an office from a catalog (the TOML catalog as JSON). Body
    {"catalog": {...}, "overrides": {"code": ..., "opening_time": "HH:MM", ...}}.
    ---
    post:
      tags: [admin]
      responses:
        201: {description: the office}
        422: {description: invalid catalog}
    """
    data = body()
    if not isinstance(data.get("catalog"), dict):
        raise ValidationError("catalog must be an object", field="catalog")
    with transaction() as s:
        office = load_catalog(s, data["catalog"], actor=current_actor(), overrides=data.get("overrides") or None)
        return jsonify(office=office_public(office)), 201


@bp.post("/admin/offices/<code>/devices")
@require(roles=(Role.ADMIN,))
def add_device(code: str):
    """Register a kiosk, display or station; answers its token once. Body {"kind", "name"}.
    ---
    post:
      tags: [admin]
      responses:
        201: {description: '{"device_id", "token"}'}
    """
    data = body()
    with transaction() as s:
        office = get_office(s, code)
        device, token = create_device(s, office.id, str(data.get("kind", "")), str(data.get("name", ""))[:100],
                                      actor=current_actor())
        return jsonify(device_id=device.id, token=token), 201


@bp.post("/admin/staff")
@require(roles=(Role.ADMIN,))
def add_staff():
    """Create a staff user. Body {"username", "password", "role", "full_name", "office"}.
    ---
    post:
      tags: [admin]
      responses:
        201: {description: '{"id"}'}
    """
    data = body()
    actor = current_actor()
    if str(data.get("role", "")) == Role.SYSTEM_ADMIN.value:
        raise Forbidden("administrator sistem hanya dibuat dari baris perintah (loket staff-add) / "
                        "a system administrator is created only from the command line (loket staff-add)")
    with transaction() as s:
        # get_office applies the office scope rule; an office admin's default is its own office
        office_id = get_office(s, str(data["office"])).id if data.get("office") else actor.office_id
        user = create_staff(s, str(data.get("username", "")), str(data.get("password", "")),
                            str(data.get("role", "")), full_name=str(data.get("full_name", "")),
                            office_id=office_id, actor=actor)
        return jsonify(id=user.id), 201
