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
station events (scans, card taps, lane and activation updates) to ``d<device>:station``;
they travel on the same bus as the entries (not Flask-SocketIO's Redis message queue), and
each worker sends them only to its own clients in that room (``realtime.bus``).

Namespaces (one per kind of client, each with its own connect: ``realtime.handlers``):
:data:`SCREENS` "/" holds the public stream's rooms (TV, kiosk page, public ticket page,
survey tablet) and the station rooms of a kiosk's page and a lane screen; :data:`STAFF`
"/staff" the staff stream's room and the station rooms of staff station pages;
:data:`AGENTS` "/agents" the device rooms of the agents and the display room of LED
display agents. A room name may live in several namespaces (``o<o>:display``: TVs and LED
displays; ``d<device>:station``: staff pages and the kiosk page or lane screen): a message
for a room goes to every namespace where this process has a client in it.
"""
from __future__ import annotations

import logging

from ..services import events as ev
from .delivery import STREAM_ROOMS, room  # noqa: F401  (room names live with the delivery)

log = logging.getLogger(__name__)

#: public screens: TV pages, kiosk page, public ticket page, survey tablets, pickup lane screen
SCREENS = "/"
#: staff sessions: counter consoles, worklists, kartu kendali, dashboards, station pages
STAFF = "/staff"
#: station agents (device token): print jobs, health, keypads, scans, card taps
AGENTS = "/agents"
NAMESPACES = (SCREENS, STAFF, AGENTS)


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
    """Publishes committed domain events: logged entries and device messages (print jobs,
    station events) to the bus, which brings them to every worker's clients.
    ``bus``: a :mod:`realtime.bus` bus (set by the app factory)."""

    def __init__(self, socketio, bus=None) -> None:
        self.socketio = socketio
        self.bus = bus

    def publish(self, domain_events: list[ev.DomainEvent], entries: list) -> None:
        """After a commit: ``entries`` (``stream_log.Entry``, already numbered) to every
        worker's screens, print jobs and station events to their device's room in every
        worker (never raises)."""
        messages = []
        for event in domain_events:
            if event.name == ev.PRINT_JOB:
                messages.append((device_room(event.data["device_id"]), "print_job", event.data["job"]))
            elif event.name == ev.STATION_EVENT:
                data = event.data
                messages.append((station_room(data["device_id"]), data["kind"], data["event"]))
        if entries or messages:
            try:
                self.bus.publish(entries, messages)
            except Exception:  # the delivery's database checks will find the entries
                log.exception("publishing %d log entries and %d device messages failed", len(entries), len(messages))

    def emit_local(self, name: str, payload, rooms: list[str]) -> None:
        """Send ``name`` with ``payload`` to this process's clients in ``rooms`` only (the
        delivery's emit), each client once per namespace: ``socketio.Server.emit(…,
        ignore_queue=True)`` in each namespace holding a client in one of the rooms, and only
        there (the library would encode the frame first, for nobody: e.g. every staff-stream
        frame in ``loket demo``)."""
        for namespace in NAMESPACES:
            present = [r for r in rooms if self._in(namespace, r)]
            if present:
                self.socketio.server.emit(name, payload, to=present, namespace=namespace, ignore_queue=True)

    def has_local(self, room_name: str) -> bool:
        """Whether a client of this process is in ``room_name``, in any namespace."""
        return any(self._in(namespace, room_name) for namespace in NAMESPACES)

    def _in(self, namespace: str, room_name: str) -> bool:
        manager = self.socketio.server.manager
        return bool(manager.rooms.get(namespace, {}).get(room_name)) if manager is not None else False

    def emit_messages(self, messages: list) -> None:
        """Send device messages ``(room, name, payload)`` to this process's clients in their
        room, in order; a room without a client here costs nothing (never raises)."""
        for room_name, name, payload in messages:
            try:  # emit_local looks for the room's clients itself: nobody here, nothing sent
                self.emit_local(name, payload, [room_name])
            except Exception as exc:  # the kiosk page times out and shows the on-screen ticket
                log.warning("%s for %s not delivered: %s", name, room_name, exc)
