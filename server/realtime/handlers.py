"""Socket.IO handlers: authenticate on connect, join rooms, answer ``sync``.

Clients connect with ``auth={"token": DEVICE_TOKEN}`` (kiosk, display), with the staff
session cookie (counter consoles, worklists: any staff role), or with
``auth={"ticket": PUBLIC_ID}`` (public ticket page). After connecting, and whenever they
see a gap, they emit ``sync`` with ``{"after": last position, "log": log id}`` (nothing
the first time) and get the entries after that position, ``{"log", "position",
"entries": [{"name", "data"}]}`` (``replay.sync_answer``), or the full state ``{"log",
"position", "state"}`` when those entries are gone, too many, or of another log. The state
is read after the position, so it may already include entries above it (deltas are
idempotent upserts; calls are announced once by their id).
"""
from __future__ import annotations

import logging

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from ..input_limits import bad_value
from ..models import Device, DeviceKind, Office, Role, Ticket
from ..security import office_allowed
from ..services.accounts import authenticate_device
from . import agents, replay, stations
from .emitter import device_room, room, station_room

log = logging.getLogger(__name__)

AGENT_KINDS = {k.value for k in DeviceKind}
DEVICE_AUDIENCE = {DeviceKind.DISPLAY.value: "display", DeviceKind.KIOSK.value: "kiosk",
                   DeviceKind.SURVEY.value: "survey"}  # survey tablets: finished tickets at their counters
#: Every staff role may follow its office's staff stream: counter consoles, and the
#: worklists and kartu kendali pages of every role of the approval chain.
STAFF_ROLES = {r.value for r in Role}


def register(socketio, app) -> None:
    """Attach the connect/sync handlers to ``socketio``."""
    sessions: dict[str, tuple[int, str, int | None]] = {}  # sid -> (office, audience, device)
    db = app.extensions["loket"].db
    delivery = app.extensions["loket"].delivery

    def _identify(auth: dict) -> tuple[int, str, int | None]:
        if not isinstance(auth or {}, dict) or bad_value(auth or {}) is not None:
            # the input rule of every request (server.input_limits): no control characters,
            # no number beyond 2**53 (a NUL reached PostgreSQL: an unhandled DataError)
            raise ConnectionRefusedError("invalid auth")
        token = (auth or {}).get("token")
        # the signed-in user is loaded (its own session) before this one opens: never a
        # second transaction inside the first (server.db.guard_nested_transactions)
        staff = current_user._get_current_object() if current_user.is_authenticated else None
        with db.session() as s:
            if token:
                device = authenticate_device(s, token)
                if device is None:
                    raise ConnectionRefusedError("invalid device token")
                if (auth or {}).get("agent"):
                    return device.office_id, "agent", device.id
                if device.kind not in DEVICE_AUDIENCE:
                    raise ConnectionRefusedError("this device kind has no screen")
                return device.office_id, DEVICE_AUDIENCE[device.kind], device.id
            public_id = (auth or {}).get("ticket")
            if public_id:
                ticket = s.scalars(select(Ticket).where(Ticket.public_id == str(public_id))).first()
                if ticket is None:
                    raise ConnectionRefusedError("unknown ticket")
                return ticket.office_id, "public", None
            if staff is not None and staff.role in STAFF_ROLES:
                try:
                    office_id = int((auth or {}).get("office_id") or staff.office_id or 0)
                except (TypeError, ValueError):
                    raise ConnectionRefusedError("office_id must be a number") from None
                if not office_allowed(office_id):
                    raise ConnectionRefusedError("not your office")
                if not office_id or s.get(Office, office_id) is None:
                    raise ConnectionRefusedError("unknown office: give office_id")
                return int(office_id), "counter", None
        raise ConnectionRefusedError("authentication required")

    @socketio.on("connect")
    def on_connect(auth=None):
        office_id, audience, device_id = _identify(auth)
        sessions[request.sid] = (office_id, audience, device_id)
        if audience == "agent":
            join_room(device_room(device_id))
            kind = agent_kind(device_id)
            if kind == DeviceKind.DISPLAY.value:  # LED displays follow the counters
                join_room(room(office_id, "display"))
            # printing agents pull their unprinted jobs themselves (agents.print_backlog)
        else:
            join_room(room(office_id, audience))
            if audience == "kiosk":  # its own agent's booking scans (booking.kiosk_scans)
                join_room(station_room(device_id))
        return True

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        sessions.pop(request.sid, None)

    @socketio.on("sync")
    def on_sync(data=None):
        office_id, audience, device_id = sessions.get(request.sid, (None, None, None))
        if office_id is None:
            return {"error": "not connected"}
        audience = "display" if audience == "agent" else audience
        if not isinstance(data, dict) or bad_value(data) is not None:
            data = {}  # a malformed position: answered as a first sync (the full state)
        try:
            with db.session() as s:
                return replay.sync_answer(s, delivery, office_id, audience, device_id, data)
        except Exception as exc:  # database away: the client retries
            log.warning("sync for office %s failed: %s", office_id, exc)
            return {"error": "unavailable"}

    def agent_kind(device_id: int) -> str | None:
        with db.session() as s:
            device = s.get(Device, device_id)
            return device.kind if device else None

    agents.register(socketio, app, sessions)
    stations.register(socketio, app, sessions, on_connect)  # lane screens, join_station
