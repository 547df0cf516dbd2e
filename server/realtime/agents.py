"""Socket.IO handlers for station agents, namespace "/agents" (``emitter.AGENTS``; its
connect: ``realtime.handlers``; the agent side: ``drivers.station``).

Each handler answers an ack: ``{"ok": true, ...}`` or ``{"ok": false, "error": code,
"message": text}``; nothing an agent sends can raise inside the server.

- ``print_result`` {"job_id", "ticket_id", "ok", "error"}: a kiosk's print outcome of a
  ticket job; {"job_id", "application_id", "ok", "error"} of a resi job (kiosk or counter
  printer);
- ``print_backlog`` {}: a kiosk or counter printer agent, on every connect, before it prints
  anything pushed: answers ``{"ok": true, "jobs": [job, ...]}``, its own device's unprinted
  jobs (tickets and resi) in issue order (``order`` ascending; ``printing.backlog``);
  other agents get ``forbidden``;
- ``health`` {"devices": {name: {kind, state, detail, last_answer_at}}}: any station;
- ``keypad`` {"counter": number, "action": next|recall|skip|finish}: a display station's
  call keypad, acting like the counter console (answer carries the counter's state);
- ``scan`` {"code", "source"}: a pickup station's decoded QR or scanner line; from a kiosk,
  a booking QR for check-in, shown on that kiosk's page only (``booking.kiosk_scans``);
- ``card`` {"event", "reader", "uid", "atr"}: an activation station's card reader.

Device tokens act only as their kind (issue 13): ``AGENT_EVENTS`` names the device kinds
that may send each event; any other device gets ``forbidden`` before its data is read.
"""
from __future__ import annotations

import logging

from flask import request

from ..input_limits import bad_value
from ..models import Counter, Device, DeviceKind
from ..services import devices as station
from ..services import printing
from ..services.applications import resi_print
from ..services.booking import bookings, kiosk_scans
from ..services.errors import LoketError
from ..services.printing import record_result
from ..services.resi import ResiSigner, derive_key
from ..services.queue.access import current_ticket
from ..services.queue.presenters import counter_public, ticket_stream
from .emitter import AGENTS

log = logging.getLogger(__name__)


K = DeviceKind
#: Which device kinds may send each agent event; nothing else may (issue 13).
AGENT_EVENTS = {
    "print_result": {K.KIOSK.value, K.PRINTER.value},
    "print_backlog": {K.KIOSK.value, K.PRINTER.value},
    "health": {k.value for k in DeviceKind},
    "keypad": {K.DISPLAY.value},
    "scan": {K.PICKUP.value, K.KIOSK.value},
    "card": {K.ACTIVATION.value},
}


def _error(exc: Exception) -> dict:
    if isinstance(exc, LoketError):
        return {"ok": False, "error": exc.code, "message": exc.message}
    return {"ok": False, "error": "bad_request", "message": str(exc) or type(exc).__name__}


def register(socketio, app, sessions: dict, on) -> None:
    """Attach the agent handlers to "/agents"; ``sessions`` maps sid → (office, audience,
    device id) of that namespace's connections; ``on``: ``handlers.on`` (one handler per event)."""
    db = app.extensions["loket"].db

    def agent_device() -> int | None:
        _office, audience, device_id = sessions.get(request.sid, (None, None, None))
        return device_id if audience == "agent" else None

    kinds: dict[int, str | None] = {}  # device id -> kind (a device's kind never changes)

    def kind_of(device_id: int) -> str | None:
        if device_id not in kinds:
            with db.session() as s:
                device = s.get(Device, device_id)
                kinds[device_id] = device.kind if device is not None else None
        return kinds[device_id]

    def guarded(fn):
        event = fn.__name__.removeprefix("on_")
        allowed = AGENT_EVENTS[event]

        def handler(data=None):
            device_id = agent_device()
            if device_id is None:
                return {"ok": False, "error": "forbidden", "message": "not an agent"}
            if kind_of(device_id) not in allowed:
                return {"ok": False, "error": "forbidden",
                        "message": f"{event} comes from {', '.join(sorted(allowed))} agents only"}
            if not isinstance(data, dict):
                return {"ok": False, "error": "validation_error", "message": "expected an object"}
            field = bad_value(data)  # the input rule of every request (server.input_limits)
            if field is not None:
                return {"ok": False, "error": "validation_error", "field": field,
                        "message": f"{field}: control character or number out of range"}
            try:
                return fn(device_id, data)
            except (LoketError, TypeError, ValueError, KeyError) as exc:
                return _error(exc)
        handler.__name__ = fn.__name__
        return handler

    @guarded
    def on_print_result(device_id: int, data: dict) -> dict:
        with db.session() as s:
            device = s.get(Device, device_id)
            if data.get("ticket_id") is None and data.get("application_id") is not None:
                resi_print.record_result(s, device, int(data["application_id"]), str(data.get("job_id") or ""),
                                         bool(data.get("ok")), data.get("error"))
            else:
                record_result(s, device, int(data.get("ticket_id")), bool(data.get("ok")), data.get("error"),
                              job_id=data.get("job_id"))
        return {"ok": True}

    def resi_payload(office, application) -> str:
        """The signed resi QR payload, with the signer ``server.api.resi`` makes (one per app)."""
        signer = app.extensions.get("loket_resi_signer") or app.extensions.setdefault(
            "loket_resi_signer", ResiSigner(derive_key(app.config["SECRET_KEY"])))
        return signer.make_payload(application.id, office.code, application.resi_number)

    @guarded
    def on_print_backlog(device_id: int, data: dict) -> dict:
        base_url = app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")
        with db.session() as s:
            jobs = printing.backlog(s, device_id, base_url, resi_payload=resi_payload)
        return {"ok": True, "jobs": jobs}

    @guarded
    def on_health(device_id: int, data: dict) -> dict:
        with db.session() as s:
            station.record_health(s, device_id, data.get("devices") or {})
        return {"ok": True}

    @guarded
    def on_keypad(device_id: int, data: dict) -> dict:
        number = int(data.get("counter"))
        with db.session() as s:
            counter = station.keypad_press(s, device_id, number, str(data.get("action", "")))
            counter_id = counter.id
        with db.session() as s:
            counter = s.get(Counter, counter_id)
            current = current_ticket(s, counter)
            return {"ok": True, "counter": counter_public(counter, current),
                    "ticket": ticket_stream(current) if current else None}

    def booking_signer():
        signer = app.extensions.get("loket_booking_signer")  # the one server.api.bookings makes
        return signer or app.extensions.setdefault("loket_booking_signer",
                                                   bookings.booking_signer(app.config["SECRET_KEY"]))

    @guarded
    def on_scan(device_id: int, data: dict) -> dict:
        with db.session() as s:
            if kiosk_scans.is_kiosk(s, device_id):
                return {"ok": True, "scan": kiosk_scans.record_kiosk_scan(s, device_id, data, booking_signer())}
            return {"ok": True, "event": station.record_station_event(s, device_id, "scan", data)}

    @guarded
    def on_card(device_id: int, data: dict) -> dict:
        with db.session() as s:
            return {"ok": True, "event": station.record_station_event(s, device_id, "card", data)}

    for handler in (on_print_result, on_print_backlog, on_health, on_keypad, on_scan, on_card):
        on(socketio, handler.__name__.removeprefix("on_"), AGENTS)(handler)
