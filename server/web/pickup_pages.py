"""The Drive-Thru pickup station pages (issue 4).

- ``/pickup/<device_id>``: the pickup officer's station page (pickup_officer or admin of
  the station's office). It joins the station's Socket.IO room; each ``scan`` from the lane
  camera (or a typed / keyboard-wedge resi at an ordinary counter) is looked up through
  ``POST /api/v1/pickup/<device_id>/lookup`` and the hand-over is posted to
  ``/api/v1/pickup/<device_id>/hand-over`` (``server.api.pickup``).
- ``/pickup/<device_id>/lane?token=<pickup device token>``: the citizen-facing lane
  screen, fed by the ``lane`` events the look-up and hand-over publish (big text, a masked
  name at most).
"""
from __future__ import annotations

from flask import abort, current_app, render_template, request
from flask_login import login_required

from ..models import DeviceKind, Office, Role
from ..services.accounts import authenticate_device
from . import bp
from .scope import station_page

STATION_ROLES = (Role.PICKUP_OFFICER, Role.ADMIN)


@bp.get("/pickup/<int:device_id>")
@login_required
def pickup_station(device_id: int):
    """The station page of pickup device ``device_id`` for its office's pickup officers."""
    with current_app.extensions["loket"].db.session() as s:
        station = station_page(s, device_id, DeviceKind.PICKUP.value, STATION_ROLES)
    return render_template("pickup_station.html", station=station)


@bp.get("/pickup/<int:device_id>/lane")
def pickup_lane(device_id: int):
    """The citizen's lane screen; ``?token=`` must be this pickup station's device token."""
    token = request.args.get("token") or ""
    with current_app.extensions["loket"].db.session() as s:
        device = authenticate_device(s, token)
        if device is None or device.id != device_id or device.kind != DeviceKind.PICKUP.value:
            abort(403)
        office = s.get(Office, device.office_id)
        station = {"id": device.id, "name": device.name, "office_name": office.name}
    return render_template("pickup_lane.html", station=station, token=token)
