"""The KTP-el activation station page (issue 5).

``/activation/<device_id>``: the activation officer's station page (activation_officer,
section_head to release a blocked activation, or admin; the station must be an activation
device of the user's office). The page joins the station's Socket.IO room (``join_station``)
for the reader's ``card`` events and the ``activation`` session events, and drives the
session through ``/api/v1/activation/<device_id>/...`` (``server.api.activation``): open by a
resi / NIK, fingerprint result, complete, cancel; a section head releases a blocked one with
``POST /api/v1/applications/<id>/activation-release``.
"""
from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user, login_required

from ..models import DeviceKind, Role
from . import bp
from .demo_devices import demo_card_reader
from .scope import station_page

STATION_ROLES = (Role.ACTIVATION_OFFICER, Role.SECTION_HEAD, Role.ADMIN)
RELEASE_ROLES = (Role.SECTION_HEAD, Role.ADMIN)


@bp.get("/activation/<int:device_id>")
@login_required
def activation_station(device_id: int):
    """The station page of activation device ``device_id`` for its office's officers."""
    with current_app.extensions["loket"].db.session() as s:
        station = station_page(s, device_id, DeviceKind.ACTIVATION.value, STATION_ROLES)
    user = {"id": current_user.id, "name": current_user.full_name, "role": current_user.role,
            "can_release": bool(current_user.has_role(*RELEASE_ROLES))}
    return render_template("activation_station.html", station=station, user=user, demo_reader=demo_card_reader())
