"""Socket.IO handlers: authenticate on connect, join rooms, answer ``sync`` with full state.

Clients connect with ``auth={"token": DEVICE_TOKEN}`` (kiosk, display), with the staff
session cookie (counter consoles), or with ``auth={"ticket": PUBLIC_ID}`` (public ticket
page). After connecting, and whenever they see a sequence gap, they emit ``sync`` and get
``{"seq": n, "state": {...}}`` back: the state is read after the number, so any event with a
number above ``n`` may already be included (deltas are idempotent upserts).
"""
from __future__ import annotations

import logging

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from ..models import COUNTER_ROLES, DeviceKind, Office, Role, Ticket
from ..services.accounts import authenticate_device
from ..services.snapshots import office_snapshot, ticket_status
from .emitter import room, stream_of

log = logging.getLogger(__name__)

DEVICE_AUDIENCE = {DeviceKind.DISPLAY.value: "display", DeviceKind.KIOSK.value: "kiosk"}
STAFF_ROLES = {r.value for r in COUNTER_ROLES} | {Role.MANAGER.value, Role.ADMIN.value}


def register(socketio, app) -> None:
    """Attach the connect/sync handlers to ``socketio``."""
    sessions: dict[str, tuple[int, str]] = {}  # sid -> (office_id, audience)
    db = app.extensions["loket"].db
    emitter = app.extensions["loket"].emitter

    def _identify(auth: dict) -> tuple[int, str]:
        token = (auth or {}).get("token")
        with db.session() as s:
            if token:
                device = authenticate_device(s, token)
                if device is None or device.kind not in DEVICE_AUDIENCE:
                    raise ConnectionRefusedError("invalid device token")
                return device.office_id, DEVICE_AUDIENCE[device.kind]
            public_id = (auth or {}).get("ticket")
            if public_id:
                ticket = s.scalars(select(Ticket).where(Ticket.public_id == str(public_id))).first()
                if ticket is None:
                    raise ConnectionRefusedError("unknown ticket")
                return ticket.office_id, "public"
            if current_user.is_authenticated and current_user.role in STAFF_ROLES:
                office_id = (auth or {}).get("office_id") or current_user.office_id
                if current_user.role != Role.ADMIN.value and office_id != current_user.office_id:
                    raise ConnectionRefusedError("not your office")
                if s.get(Office, office_id) is None:
                    raise ConnectionRefusedError("unknown office")
                return int(office_id), "counter"
        raise ConnectionRefusedError("authentication required")

    @socketio.on("connect")
    def on_connect(auth=None):
        office_id, audience = _identify(auth)
        sessions[request.sid] = (office_id, audience)
        join_room(room(office_id, audience))
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        sessions.pop(request.sid, None)

    @socketio.on("sync")
    def on_sync(data=None):
        office_id, audience = sessions.get(request.sid, (None, None))
        if office_id is None:
            return {"error": "not connected"}
        try:
            seq = emitter.current_seq(office_id, stream_of(audience))
        except Exception:
            seq = -1  # numbering unavailable (Redis down): the client will retry
        with db.session() as s:
            office = s.get(Office, office_id)
            state = office_snapshot(s, office, audience)
            if audience == "public" and data and data.get("ticket"):
                ticket = s.scalars(select(Ticket).where(Ticket.public_id == str(data["ticket"]))).first()
                if ticket is not None and ticket.office_id == office_id:
                    state["ticket"] = ticket_status(s, ticket)
        return {"seq": seq, "state": state}
