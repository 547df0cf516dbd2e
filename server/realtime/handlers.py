"""Socket.IO handlers: one namespace per kind of client, each with its own connect.

- **Screens**, namespace "/" (:data:`~.emitter.SCREENS`): the TV, kiosk and survey pages
  connect with ``auth={"token": DEVICE_TOKEN}`` of a screen kind (display, kiosk, survey),
  the public ticket page with ``auth={"ticket": PUBLIC_ID}``, a pickup station's lane
  screen with ``auth={"token": <the pickup device's token>, "lane": true}``
  (``realtime.stations``). A staff session alone, or an agent (``"agent": true``), is
  refused here.
- **Staff**, namespace "/staff" (:data:`~.emitter.STAFF`): the staff session cookie of any
  staff role (counter consoles, worklists, kartu kendali pages, dashboards, station pages),
  with ``auth={"office_id"}`` (default: the officer's own office; ``office_allowed``
  decides). Device tokens and ticket ids are refused here. ``join_station``:
  ``realtime.stations``.
- **Agents**, namespace "/agents" (:data:`~.emitter.AGENTS`): a station agent's device
  token (``auth={"token"}``; an ``"agent": true`` flag is accepted and ignored) of a kind
  that runs an agent (not a survey tablet). The events: ``realtime.agents``.

After connecting, and whenever they see a gap, screens, staff pages and LED display agents
emit ``sync`` with ``{"after": last position, "log": log id}`` (nothing the first time) and
get the entries after that position, ``{"log", "position", "entries": [{"name",
"data"}]}`` (``replay.sync_answer``), or the full state ``{"log", "position", "state"}``
when those entries are gone, too many, or of another log. The state is read after the
position, so it may already include entries above it (deltas are idempotent upserts;
calls are announced once by their id).

Each namespace has exactly one ``connect`` handler: :func:`on` refuses to register an
event twice in a namespace (python-socketio would replace the first handler silently).
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from ..input_limits import bad_value
from ..models import DeviceKind, Office, Role, Ticket
from ..security import office_allowed
from ..services.accounts import authenticate_device
from . import agents, replay, stations
from .emitter import AGENTS, SCREENS, STAFF, device_room, room, station_room

log = logging.getLogger(__name__)

DEVICE_AUDIENCE = {DeviceKind.DISPLAY.value: "display", DeviceKind.KIOSK.value: "kiosk",
                   DeviceKind.SURVEY.value: "survey"}  # survey tablets: finished tickets at their counters
#: Device kinds that run a station agent (``loket agent KIND``; a counter printer runs the
#: kiosk's program); a survey tablet is a screen only.
AGENT_KINDS = {k.value for k in DeviceKind} - {DeviceKind.SURVEY.value}
#: Every staff role may follow its office's staff stream: counter consoles, and the
#: worklists and kartu kendali pages of every role of the approval chain.
STAFF_ROLES = {r.value for r in Role}


def on(socketio, event: str, namespace: str):
    """``socketio.on(event, namespace=namespace)``, refusing a second handler of ``event``
    in ``namespace`` (the library would replace the first one without a word)."""
    if event in (socketio.server.handlers.get(namespace) or {}):
        raise RuntimeError(f"Socket.IO {namespace} already has a {event!r} handler")
    return socketio.on(event, namespace=namespace)


def checked_auth(auth) -> dict:
    """``auth`` as a dict, refused when it breaks the input rule of every request
    (server.input_limits: no control characters, no number beyond 2**53; a NUL reached
    PostgreSQL: an unhandled DataError)."""
    auth = auth or {}
    if not isinstance(auth, dict) or bad_value(auth) is not None:
        raise ConnectionRefusedError("invalid auth")
    return auth


#: A connected client: (office id, audience, device id or None).
Session = tuple[int, str, "int | None"]


def serve_namespace(socketio, namespace: str, label: str, identify: Callable[[dict], tuple[Session, list[str]]],
                    sync_audience: str | None, answer_sync: Callable) -> dict[str, Session]:
    """Register ``namespace``'s ``connect``, ``disconnect`` and ``sync`` handlers, named
    ``on_<label>_connect`` etc. (tracebacks and logs say which kind of client).

    In: ``identify(auth)`` returns the client's :data:`Session` and the rooms it joins, or
    raises ``ConnectionRefusedError`` (its message is the refusal the client sees);
    ``sync_audience`` the stream a ``sync`` replays (None: the session's own audience);
    ``answer_sync(session, audience, data)`` the answer. Out: the namespace's sessions by
    Socket.IO sid (filled on connect, emptied on disconnect)."""
    sessions: dict[str, Session] = {}

    def connect(auth=None):
        session, rooms = identify(checked_auth(auth))
        sessions[request.sid] = session
        for name in rooms:
            join_room(name)
        return True

    def disconnect(*_args):
        sessions.pop(request.sid, None)

    def sync(data=None):
        session = sessions.get(request.sid)
        audience = sync_audience or (session[1] if session else "")
        return answer_sync(session, audience, data)

    for event, handler in (("connect", connect), ("disconnect", disconnect), ("sync", sync)):
        handler.__name__ = handler.__qualname__ = f"on_{label}_{event}"
        on(socketio, event, namespace)(handler)
    return sessions


def register(socketio, app) -> None:
    """Attach the handlers of the three namespaces to ``socketio``."""
    db = app.extensions["loket"].db
    delivery = app.extensions["loket"].delivery

    def answer_sync(session: tuple | None, audience: str, data) -> dict:
        if session is None:
            return {"error": "not connected"}
        office_id, _audience, device_id = session
        if not isinstance(data, dict) or bad_value(data) is not None:
            data = {}  # a malformed position: answered as a first sync (the full state)
        try:
            with db.session() as s:
                return replay.sync_answer(s, delivery, office_id, audience, device_id, data)
        except Exception as exc:  # database away: the client retries
            log.warning("sync for office %s failed: %s", office_id, exc)
            return {"error": "unavailable"}

    # -- "/": public screens --------------------------------------------------------------
    def identify_screen(auth: dict) -> tuple[Session, list[str]]:
        if auth.get("agent"):
            raise ConnectionRefusedError("station agents connect to the /agents namespace")
        token = auth.get("token")
        with db.session() as s:
            if token:
                device = authenticate_device(s, str(token))
                if auth.get("lane"):  # the lane screen: its station's room only
                    if device is None or device.kind != DeviceKind.PICKUP.value:
                        raise ConnectionRefusedError("a lane screen needs its pickup station's token")
                    return (device.office_id, stations.LANE, device.id), [station_room(device.id)]
                if device is None:
                    raise ConnectionRefusedError("invalid device token")
                if device.kind not in DEVICE_AUDIENCE:
                    raise ConnectionRefusedError("this device kind has no screen")
                audience = DEVICE_AUDIENCE[device.kind]
                rooms = [room(device.office_id, audience)]
                if audience == "kiosk":  # its own agent's booking scans (booking.kiosk_scans)
                    rooms.append(station_room(device.id))
                return (device.office_id, audience, device.id), rooms
            public_id = auth.get("ticket")
            if public_id:
                ticket = s.scalars(select(Ticket).where(Ticket.public_id == str(public_id))).first()
                if ticket is None:
                    raise ConnectionRefusedError("unknown ticket")
                return (ticket.office_id, "public", None), [room(ticket.office_id, "public")]
        raise ConnectionRefusedError("a screen connects with its device token or a ticket; staff pages use /staff")

    serve_namespace(socketio, SCREENS, "screen", identify_screen, None, answer_sync)

    # -- "/staff": staff sessions ----------------------------------------------------------
    def identify_staff(auth: dict) -> tuple[Session, list[str]]:
        if auth.get("token") or auth.get("ticket"):
            raise ConnectionRefusedError("device tokens and tickets connect to / (screens) or /agents")
        # the signed-in user is loaded (its own session) before this one opens: never a
        # second transaction inside the first (server.db.guard_nested_transactions)
        staff = current_user._get_current_object() if current_user.is_authenticated else None
        if staff is None or staff.role not in STAFF_ROLES:
            raise ConnectionRefusedError("authentication required")
        try:
            office_id = int(auth.get("office_id") or staff.office_id or 0)
        except (TypeError, ValueError):
            raise ConnectionRefusedError("office_id must be a number") from None
        if not office_allowed(office_id):
            raise ConnectionRefusedError("not your office")
        with db.session() as s:
            if not office_id or s.get(Office, office_id) is None:
                raise ConnectionRefusedError("unknown office: give office_id")
        return (office_id, "counter", None), [room(office_id, "counter")]

    staff_sessions = serve_namespace(socketio, STAFF, "staff", identify_staff, "counter", answer_sync)

    # -- "/agents": station agents ---------------------------------------------------------
    def identify_agent(auth: dict) -> tuple[Session, list[str]]:
        if auth.get("lane") or auth.get("ticket"):
            raise ConnectionRefusedError("screens connect to the / namespace")
        token = auth.get("token")
        if not token:
            raise ConnectionRefusedError("a station agent connects with its device token")
        with db.session() as s:
            device = authenticate_device(s, str(token))
            if device is None:
                raise ConnectionRefusedError("invalid device token")
            if device.kind not in AGENT_KINDS:
                raise ConnectionRefusedError("this device kind has no station agent")
            rooms = [device_room(device.id)]
            if device.kind == DeviceKind.DISPLAY.value:  # LED displays follow the counters
                rooms.append(room(device.office_id, "display"))
            # printing agents pull their unprinted jobs themselves (agents.print_backlog)
            return (device.office_id, "agent", device.id), rooms

    # LED display agents sync the display's public stream
    agent_sessions = serve_namespace(socketio, AGENTS, "agent", identify_agent, "display", answer_sync)

    agents.register(socketio, app, agent_sessions, on)
    stations.register(socketio, app, staff_sessions, on)  # join_station
