"""How a committed entry of the office event log, and a message for one device, reaches
every server process.

- :class:`LocalBus` (one process: ``loket demo``, tests): straight to this process's
  :class:`~server.realtime.delivery.Delivery` and clients.
- :class:`RedisStreamBus` (``loket serve`` with several workers): what a commit publishes
  goes to this process's Delivery and clients at once and is appended to one Redis Stream
  (``XADD … MAXLEN ~``); every worker reads that stream (``XREAD BLOCK`` from the last id it
  read, so a reader that reconnects misses nothing Redis still has) and hands what the
  other workers appended to its own Delivery and clients (its own appends are skipped
  unread: they were delivered when published). While entries keep coming it reads at most
  once in :data:`READ_GAP_S`, so a busy office's commits reach it a few per read.

Device messages (a print job for a kiosk's agent, a station event for a station's pages:
``(room, name, payload)``) travel in the same stream items as the entries, instead of
Flask-SocketIO's Redis message queue, which every worker receives and decodes: a worker
decodes them only when it holds a client in one of their rooms (the rooms travel beside
them, undecoded), and emits them to its own clients of that room only. They are not
logged: one lost with Redis down is not sent again (the printing agent pulls its backlog
when it reconnects, ``services.printing.backlog``), as before.

Redis only carries entries; it neither numbers nor orders them (the database does,
``services.stream_log``). When Redis is down, restarted or loses its data, the entries of
that time are not lost: each worker's Delivery finds them in the database (its gap and head
checks) and delivers them in order, within about a second.
"""
from __future__ import annotations

import json
import logging
import queue
import secrets
import time
from typing import Callable

from ..services.stream_log import Entry

log = logging.getLogger(__name__)

STREAM_MAXLEN = 10_000
BLOCK_MS = 5_000
#: while the other workers keep appending, a reader reads at most once in this long (s):
#: a busy office's entries then arrive a few per read instead of one read (a Redis round
#: trip on each worker) per commit; a read after a quiet moment is not delayed
READ_GAP_S = 0.005

#: a message for the clients of one room, not logged: (room, socket message name, payload)
DeviceMessage = tuple[str, str, dict]


class LocalBus:
    """One process: publishing is delivering. ``send_local(messages)`` emits device
    messages to this process's clients (``Emitter.emit_messages``)."""

    def __init__(self, delivery, send_local: Callable[[list[DeviceMessage]], None] | None = None) -> None:
        self.delivery = delivery
        self.send_local = send_local

    def publish(self, entries: list[Entry], messages: list[DeviceMessage] = ()) -> None:
        """Deliver ``entries`` and ``messages`` to this process's clients."""
        if entries:
            self.delivery.receive(entries)
        if messages and self.send_local is not None:
            self.send_local(list(messages))

    def run(self, stopping=lambda: False) -> None:
        """Nothing to read in one process."""


class RedisStreamBus:
    """Several processes sharing one Redis Stream ``loket:log:<channel>``; see the module
    docstring. ``sleep``: the async mode's sleep (``socketio.sleep``); ``send_local``:
    emits device messages to this process's clients; ``has_local(room)``: whether this
    process holds a client in ``room`` (both ``Emitter``'s).

    Appending to Redis is off the request path: :meth:`publish` delivers here and queues
    what it got; :meth:`send` (a background task, started with :meth:`run`) appends all
    that is queued in one ``XADD``. Until the sender runs (or when it is not started:
    ``loket worker``), :meth:`publish` appends itself.

    A stream item's fields: ``e`` the entries (JSON list of ``Entry.as_dict``), ``w`` the
    appending process's id, and with device messages ``m`` (JSON list of ``[room, name,
    payload]``) and ``r`` (their rooms, space-separated)."""

    def __init__(self, delivery, redis_url: str, channel: str, sleep=time.sleep,
                 send_local: Callable[[list[DeviceMessage]], None] | None = None,
                 has_local: Callable[[str], bool] | None = None) -> None:
        import redis

        self.delivery = delivery
        self.key = f"loket:log:{channel}"
        self.sleep = sleep
        self.send_local = send_local
        self.has_local = has_local or (lambda _room: True)
        self.process_id = secrets.token_hex(8).encode()
        self._writer = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._reader = redis.Redis.from_url(redis_url, socket_timeout=BLOCK_MS / 1000 + 5, socket_connect_timeout=2)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._sending = False
        self.published = self.publish_failures = 0

    def publish(self, entries: list[Entry], messages: list[DeviceMessage] = ()) -> None:
        """Deliver here, then have them appended for the other workers (a failure is
        logged: they find the entries in the database)."""
        messages = list(messages)
        if entries:
            self.delivery.receive(entries)
        if messages and self.send_local is not None:
            self.send_local(messages)
        if not (entries or messages):
            return
        if self._sending:
            self._queue.put((entries, messages))
        else:
            self._append(entries, messages)

    def send(self, stopping=lambda: False) -> None:
        """Append queued entries and messages to the stream until ``stopping()`` (background task)."""
        self._sending = True
        while not stopping():
            try:
                entries, messages = self._queue.get(timeout=1.0)
            except queue.Empty:
                continue
            self.sleep(0)  # let the requests ready to run publish theirs too: one XADD for all
            entries, messages = list(entries), list(messages)
            while not self._queue.empty():
                more, more_messages = self._queue.get_nowait()
                entries += more
                messages += more_messages
            self._append(entries, messages)

    def _append(self, entries: list[Entry], messages: list[DeviceMessage] = ()) -> None:
        fields = {"e": json.dumps([e.as_dict() for e in entries]), "w": self.process_id}
        if messages:
            fields["m"] = json.dumps([list(m) for m in messages])
            fields["r"] = " ".join(room for room, _name, _payload in messages)
        try:
            self._writer.xadd(self.key, fields, maxlen=STREAM_MAXLEN, approximate=True)
            self.published += 1
        except Exception as exc:
            self.publish_failures += 1
            log.warning("event log entries not sent to the other workers (%s); they read them from the database", exc)

    def run(self, stopping=lambda: False) -> None:
        """Read the stream until ``stopping()``; reconnects with back-off on any error."""
        last, delay, read_at = None, 0.2, 0.0
        while not stopping():
            try:
                if last is None:  # start at the current end: older entries are already delivered
                    top = self._reader.xrevrange(self.key, count=1)
                    last = top[0][0] if top else b"0-0"
                read_at = time.monotonic()
                replies = self._reader.xread({self.key: last}, block=BLOCK_MS, count=500)
                delay = 0.2
            except Exception as exc:
                log.warning("event log reader: %s (retrying in %.1f s)", exc, delay)
                self.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            for _key, items in replies or []:
                last = items[-1][0] if items else last
                self._deliver([fields for _id, fields in items])
            if replies:  # let other work run before the next read (it reads more at once), and
                # while entries keep coming, read at most once in READ_GAP_S
                self.sleep(max(0.0, READ_GAP_S - (time.monotonic() - read_at)))

    def _deliver(self, items: list[dict]) -> None:
        """Hand the other processes' entries of ``items`` (stream fields, in stream order) to
        the Delivery in one call, and their device messages for this process's clients."""
        entries: list[Entry] = []
        messages: list[DeviceMessage] = []
        for fields in items:
            if fields.get(b"w") == self.process_id:  # ours: delivered when published
                continue
            try:
                got = [Entry.from_dict(item) for item in json.loads(fields.get(b"e") or "[]")]
                rooms = (fields.get(b"r") or b"").decode().split()
                if any(self.has_local(room) for room in rooms):  # else left undecoded
                    messages += [(str(room), str(name), dict(payload))
                                 for room, name, payload in json.loads(fields[b"m"]) if self.has_local(room)]
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                log.warning("event log reader: malformed entry skipped (%s)", exc)
                continue
            entries += got
        if entries:
            self.delivery.receive(entries)
        if messages and self.send_local is not None:
            self.send_local(messages)
