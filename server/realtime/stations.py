"""Socket.IO: pages of one station join its room ``d<device_id>:station`` (``emitter.station_room``).

- **Staff station page** (pickup officer at ``/pickup/<device_id>``, activation officer at
  ``/activation/<device_id>``): a socket on "/staff" (``emitter.STAFF``) emits
  ``join_station`` {"device_id"}; allowed for the roles of ``STATION_ROLES`` (pickup:
  pickup_officer, admin; activation: activation_officer, section_head, admin), for a
  station of their office (an admin without an office: any). Answer ``{"ok": true,
  "room"}`` or ``{"ok": false, "error", "message"}``.
- **Citizen lane screen** (``/pickup/<device_id>/lane?token=``): connects to "/" (the
  screens' namespace, its connect in ``realtime.handlers``) with ``auth={"token": <the
  pickup device's token>, "lane": true}``: the connection is that device's screen, joins
  only its own station room and may send nothing.
- **Kiosk page**: its screen connection on "/" joins its own station room (its agent's
  booking scans).

The rooms receive ``scan`` and ``card`` (from the agents, via
``devices.record_station_event``), ``lane`` (pickup API) and ``activation`` (activation
sessions) events, all published as ``STATION_EVENT``.
"""
from __future__ import annotations

from flask import request
from flask_login import current_user
from flask_socketio import join_room

from ..models import Device, DeviceKind, Role
from ..security import office_allowed
from .emitter import STAFF, station_room

#: Station kinds whose page joins the station room, and the roles that may open it.
STATION_ROLES = {
    DeviceKind.PICKUP.value: {Role.PICKUP_OFFICER.value, Role.ADMIN.value},
    DeviceKind.ACTIVATION.value: {Role.ACTIVATION_OFFICER.value, Role.SECTION_HEAD.value, Role.ADMIN.value},
}
LANE = "lane"


def register(socketio, app, sessions: dict, on) -> None:
    """Attach ``join_station`` to "/staff"; ``sessions`` maps sid → (office, audience,
    device) of that namespace's connections; ``on``: ``handlers.on``."""
    db = app.extensions["loket"].db

    @on(socketio, "join_station", STAFF)
    def on_join_station(data=None):
        office_id, audience, _device = sessions.get(request.sid, (None, None, None))
        if audience != "counter" or not current_user.is_authenticated:
            return {"ok": False, "error": "forbidden", "message": "staff only"}
        try:
            device_id = int((data or {}).get("device_id"))
        except (TypeError, ValueError, AttributeError):
            return {"ok": False, "error": "validation_error", "message": "device_id must be a number"}
        with db.session() as s:
            device = s.get(Device, device_id)
            if device is None or device.kind not in STATION_ROLES:
                return {"ok": False, "error": "not_found", "message": "station not found"}
            if not current_user.has_role(*STATION_ROLES[device.kind]):
                return {"ok": False, "error": "forbidden", "message": f"not a {device.kind} station's officer"}
            if not office_allowed(device.office_id):
                return {"ok": False, "error": "forbidden", "message": "another office's station"}
        join_room(station_room(device_id))
        return {"ok": True, "room": station_room(device_id)}
