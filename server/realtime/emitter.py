"""The only place that emits Socket.IO events (DEVELOPERS.md: one module emits).

Office streams. Rooms per office ``o``: ``o{o}:display`` (TV screens), ``o{o}:kiosk``
(kiosks), ``o{o}:public`` (public ticket pages) and ``o{o}:survey`` (counter survey tablets)
receive the *public* stream; ``o{o}:counter`` (staff consoles, worklists, kartu kendali
pages, dashboards) the *staff* stream. Every message of a stream is an entry of the office
event log, numbered in commit order in the transaction that made it
(``services.stream_log``): its payload carries ``position`` and ``log``; screens receive
entries as the message ``entries`` (a list, in position order). After the commit
the entries go to the bus (``realtime.bus``: this process, and the other workers through a
Redis Stream), and each worker's ``realtime.delivery.Delivery`` emits them to its own
clients in position order, filling any gap from the database. A screen that connects,
reconnects or sees a gap asks ``sync`` with its last position and gets the entries after it
(``handlers``), or the full state when they are no longer kept.

Device messages (not logged): ``print_job`` to one printing agent's room ``d<device>``, and
station events (scans, card taps, lane and activation updates) to ``d<device>:station``.
"""
from __future__ import annotations

import logging

from ..services import events as ev
from .delivery import STREAM_ROOMS, room  # noqa: F401  (room names live with the delivery)

log = logging.getLogger(__name__)


def device_room(device_id: int) -> str:
    """The room of one device's agent (print jobs for a kiosk)."""
    return f"d{device_id}"


def station_room(device_id: int) -> str:
    """The room of the staff pages of one station (pickup lane, activation counter), and of a
    kiosk's own page (its agent's booking scans)."""
    return f"d{device_id}:station"


def stream_of(audience: str) -> str:
    """The stream (public or staff) an audience's room receives."""
    return "staff" if audience == "counter" else "public"


class Emitter:
    """Publishes committed domain events: logged entries to the bus, device messages to
    their device's room. ``bus``: a :mod:`realtime.bus` bus (set by the app factory)."""

    def __init__(self, socketio, bus=None) -> None:
        self.socketio = socketio
        self.bus = bus

    def publish(self, domain_events: list[ev.DomainEvent], entries: list) -> None:
        """After a commit: ``entries`` (``stream_log.Entry``, already numbered) to every
        worker's screens, print jobs and station events to their device (never raises)."""
        if entries:
            try:
                self.bus.publish(entries)
            except Exception:  # the delivery's database checks will find them
                log.exception("publishing %d log entries failed", len(entries))
        for event in domain_events:
            if event.name == ev.PRINT_JOB:
                self._send_print_job(event.data["device_id"], event.data["job"])
            elif event.name == ev.STATION_EVENT:
                self._send_station_event(event.data)

    def emit_local(self, name: str, payload: dict, rooms: list[str]) -> None:
        """Send to this process's clients in ``rooms`` only (the delivery's emit)."""
        self.socketio.server.emit(name, payload, to=rooms, namespace="/", ignore_queue=True)

    def _send_print_job(self, device_id: int, job: dict) -> None:
        try:
            self.socketio.emit("print_job", job, to=device_room(device_id))
        except Exception as exc:  # the kiosk page times out and shows the on-screen ticket
            log.warning("print job %s not delivered: %s", job.get("job_id"), exc)

    def _send_station_event(self, data: dict) -> None:
        try:
            self.socketio.emit(data["kind"], data["event"], to=station_room(data["device_id"]))
        except Exception as exc:
            log.warning("station event for device %s not delivered: %s", data["device_id"], exc)
