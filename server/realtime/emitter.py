"""The only place that emits Socket.IO events (DEVELOPERS.md: one module emits).

Rooms, per office ``o``: ``o{o}:display`` (TV screens), ``o{o}:kiosk`` (kiosks),
``o{o}:public`` (public ticket pages), ``o{o}:survey`` (counter survey tablets) share the
*public* stream; ``o{o}:counter`` (staff
consoles, worklists, kartu kendali pages) gets the *staff* stream. ``MESSAGES`` go to both
streams, ``STAFF_ONLY`` messages (application files) to the staff stream alone. Every
message of a stream carries ``seq``, a per-office, per-stream sequence number without
gaps. A screen that sees ``seq != last + 1`` asks for the full state again (``sync``). The
counter is Redis ``INCR`` when LOKET_REDIS_URL is set (shared by every worker), else a
counter in this process.

Every message also carries ``epoch``, the identity of the numbering: a random id kept
beside the counter (in Redis, or made at process start without Redis). When the numbering
starts over (Redis restarted without its data, the single demo process restarted) the
epoch changes, and a screen that sees another epoch resyncs too.

Flask-SocketIO's Redis queue drops cross-worker messages silently while Redis is down
and replays nothing. So when numbering or publishing fails, the stream is marked broken and
the next successful call burns one number: every screen then sees a gap and resyncs. A
heartbeat (every HEARTBEAT_S seconds, to this worker's own clients only) carries the
current number and epoch so a quiet screen notices a lost message too.
"""
from __future__ import annotations

import logging
import secrets
import threading
from collections import defaultdict
from typing import Iterable

from ..services import events as ev

log = logging.getLogger(__name__)

PUBLIC, STAFF = "public", "staff"
STREAM_ROOMS = {PUBLIC: ("display", "kiosk", "public", "survey"), STAFF: ("counter",)}

# domain event → socket message name (its payload: the event data, plus seq and epoch)
MESSAGES = {
    ev.TICKET_ISSUED: "ticket",
    ev.TICKET_CHANGED: "ticket",
    ev.TICKET_CALLED: "call",
    ev.COUNTER_CHANGED: "counter",
    ev.DEVICE_CHANGED: "device",
    ev.OFFICE_CHANGED: "resync",
}
# domain event → socket message sent on the staff stream only: never to public screens
STAFF_ONLY = {
    ev.APPLICATION_CHANGED: "application",
    ev.RESI_PRINT_RESULT: "resi_print",  # a printer's answer to a resi job (the intake dialog shows it)
}


def room(office_id: int, audience: str) -> str:
    """The Socket.IO room name of ``audience`` (display, kiosk, public, counter) in an office."""
    return f"o{office_id}:{audience}"


def device_room(device_id: int) -> str:
    """The room of one device's agent (print jobs for a kiosk)."""
    return f"d{device_id}"


def station_room(device_id: int) -> str:
    """The room of the staff pages of one station (pickup lane, activation counter), and of a
    kiosk's own page (its agent's booking scans)."""
    return f"d{device_id}:station"


def stream_of(audience: str) -> str:
    """The stream (public or staff) an audience's room receives."""
    return STAFF if audience == "counter" else PUBLIC


class Emitter:
    """Numbers and emits domain events; see the module docstring."""

    def __init__(self, socketio, redis_url: str | None) -> None:
        self.socketio = socketio
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._local_epoch = secrets.token_hex(6)
        self._local_last: dict[str, int] = defaultdict(int)
        self._broken: set[str] = set()
        self._lock = threading.Lock()

    # -- sequence numbers -------------------------------------------------------------
    @staticmethod
    def _key(office_id: int, stream: str) -> str:
        return f"loket:seq:{office_id}:{stream}"

    def _redis_epoch(self, key: str, current: bytes | None) -> str:
        if current is not None:
            return current.decode()
        self._redis.set(key + ":epoch", secrets.token_hex(6), nx=True)
        return self._redis.get(key + ":epoch").decode()

    def next_seq(self, office_id: int, stream: str) -> tuple[int, str]:
        """Take the next (number, epoch) of a stream; raises redis errors when Redis is down."""
        key = self._key(office_id, stream)
        if self._redis is None:
            with self._lock:
                self._local_last[key] += 1
                return self._local_last[key], self._local_epoch
        pipe = self._redis.pipeline(transaction=False)
        if key in self._broken:
            pipe.incr(key)  # burn one number: screens will see a gap and resync
        pipe.incr(key)
        pipe.get(key + ":epoch")
        *_burned, seq, epoch = pipe.execute()
        self._broken.discard(key)
        return int(seq), self._redis_epoch(key, epoch)

    def current_seq(self, office_id: int, stream: str) -> tuple[int, str]:
        """The last (number, epoch) of a stream (number 0 before the first); burns one if broken."""
        key = self._key(office_id, stream)
        if self._redis is None:
            return self._local_last[key], self._local_epoch
        if key in self._broken:
            self._redis.incr(key)
            self._broken.discard(key)
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.get(key + ":epoch")
        seq, epoch = pipe.execute()
        return int(seq or 0), self._redis_epoch(key, epoch)

    # -- publishing -------------------------------------------------------------------
    def publish(self, domain_events: Iterable[ev.DomainEvent]) -> None:
        """Emit committed domain events to the streams of their office (never raises):
        ``MESSAGES`` to every stream, ``STAFF_ONLY`` to the staff stream."""
        for event in domain_events:
            if event.name == ev.PRINT_JOB:
                self._send_print_job(event.data["device_id"], event.data["job"])
                continue
            if event.name == ev.STATION_EVENT:
                self._send_station_event(event.data)
                continue
            if event.name in STAFF_ONLY:
                self._emit(event.office_id, STAFF, STREAM_ROOMS[STAFF], STAFF_ONLY[event.name], event.data)
                continue
            name = MESSAGES.get(event.name)
            if name is None:
                continue
            for stream, audiences in STREAM_ROOMS.items():
                self._emit(event.office_id, stream, audiences, name, event.data)

    def _emit(self, office_id: int, stream: str, audiences, name: str, data: dict) -> None:
        key = self._key(office_id, stream)
        try:
            seq, epoch = self.next_seq(office_id, stream)
            self.socketio.emit(name, {"seq": seq, "epoch": epoch, **data}, to=[room(office_id, a) for a in audiences])
        except Exception as exc:  # Redis down: mark the stream broken, screens resync later
            self._broken.add(key)
            log.warning("realtime %s for office %s not delivered: %s", name, office_id, exc)

    def _send_print_job(self, device_id: int, job: dict) -> None:
        try:
            self.socketio.emit("print_job", job, to=device_room(device_id))
        except Exception as exc:  # the kiosk page times out and shows the on-screen ticket
            log.warning("print job %s not delivered: %s", job.get("job_id"), exc)

    def resend_print_jobs(self, sid: str, jobs: list[dict]) -> None:
        """Send unprinted jobs to a kiosk agent that has just connected (sid)."""
        for job in jobs:
            try:
                self.socketio.emit("print_job", job, to=sid)
            except Exception as exc:
                log.warning("print job %s not re-sent: %s", job.get("job_id"), exc)

    def _send_station_event(self, data: dict) -> None:
        try:
            self.socketio.emit(data["kind"], data["event"], to=station_room(data["device_id"]))
        except Exception as exc:
            log.warning("station event for device %s not delivered: %s", data["device_id"], exc)

    def heartbeat(self, office_ids: Iterable[int]) -> None:
        """Send each office's current numbers to this worker's own clients."""
        for office_id in office_ids:
            for stream, audiences in STREAM_ROOMS.items():
                try:
                    seq, epoch = self.current_seq(office_id, stream)
                except Exception as exc:
                    log.debug("heartbeat skipped: %s", exc)
                    continue
                for audience in audiences:
                    self.socketio.server.emit(
                        "heartbeat", {"seq": seq, "epoch": epoch}, to=room(office_id, audience),
                        namespace="/", ignore_queue=True,
                    )

