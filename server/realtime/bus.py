"""How a committed entry of the office event log reaches every server process.

- :class:`LocalBus` (one process: ``loket demo``, tests): straight to this process's
  :class:`~server.realtime.delivery.Delivery`.
- :class:`RedisStreamBus` (``loket serve`` with several workers): the entries of each
  commit go to this process's Delivery at once and are appended to one Redis Stream
  (``XADD … MAXLEN ~``); every worker reads that stream (``XREAD BLOCK`` from the last id it
  read, so a reader that reconnects misses nothing Redis still has) and hands what it reads
  to its own Delivery, which drops its own entries as already delivered.

Redis only carries entries; it neither numbers nor orders them (the database does,
``services.stream_log``). When Redis is down, restarted or loses its data, the entries of
that time are not lost: each worker's Delivery finds them in the database (its gap and head
checks) and delivers them in order, within about a second.
"""
from __future__ import annotations

import json
import logging
import queue
import time

from ..services.stream_log import Entry

log = logging.getLogger(__name__)

STREAM_MAXLEN = 10_000
BLOCK_MS = 5_000


class LocalBus:
    """One process: publishing is delivering."""

    def __init__(self, delivery) -> None:
        self.delivery = delivery

    def publish(self, entries: list[Entry]) -> None:
        """Deliver ``entries`` to this process's clients."""
        self.delivery.receive(entries)

    def run(self, stopping=lambda: False) -> None:
        """Nothing to read in one process."""


class RedisStreamBus:
    """Several processes sharing one Redis Stream ``loket:log:<channel>``; see the module
    docstring. ``sleep``: the async mode's sleep (``socketio.sleep``).

    Appending to Redis is off the request path: :meth:`publish` delivers here and queues the
    entries; :meth:`send` (a background task, started with :meth:`run`) appends them, all
    that are queued in one ``XADD``. Until the sender runs (or when it is not started),
    :meth:`publish` appends itself."""

    def __init__(self, delivery, redis_url: str, channel: str, sleep=time.sleep) -> None:
        import redis

        self.delivery = delivery
        self.key = f"loket:log:{channel}"
        self.sleep = sleep
        self._writer = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._reader = redis.Redis.from_url(redis_url, socket_timeout=BLOCK_MS / 1000 + 5, socket_connect_timeout=2)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._sending = False
        self.published = self.publish_failures = 0

    def publish(self, entries: list[Entry]) -> None:
        """Deliver here, then have them appended for the other workers (a failure is
        logged: they find the entries in the database)."""
        self.delivery.receive(entries)
        if self._sending:
            self._queue.put(entries)
        else:
            self._append(entries)

    def send(self, stopping=lambda: False) -> None:
        """Append queued entries to the stream until ``stopping()`` (background task)."""
        self._sending = True
        while not stopping():
            try:
                batch = list(self._queue.get(timeout=1.0))
            except queue.Empty:
                continue
            while not self._queue.empty():
                batch += self._queue.get_nowait()
            self._append(batch)

    def _append(self, entries: list[Entry]) -> None:
        try:
            self._writer.xadd(self.key, {"e": json.dumps([e.as_dict() for e in entries])},
                              maxlen=STREAM_MAXLEN, approximate=True)
            self.published += 1
        except Exception as exc:
            self.publish_failures += 1
            log.warning("event log entries not sent to the other workers (%s); they read them from the database", exc)

    def run(self, stopping=lambda: False) -> None:
        """Read the stream until ``stopping()``; reconnects with back-off on any error."""
        last, delay = None, 0.2
        while not stopping():
            try:
                if last is None:  # start at the current end: older entries are already delivered
                    top = self._reader.xrevrange(self.key, count=1)
                    last = top[0][0] if top else b"0-0"
                replies = self._reader.xread({self.key: last}, block=BLOCK_MS, count=500)
                delay = 0.2
            except Exception as exc:
                log.warning("event log reader: %s (retrying in %.1f s)", exc, delay)
                self.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            for _key, items in replies or []:
                for entry_id, fields in items:
                    last = entry_id
                    self._deliver(fields)

    def _deliver(self, fields: dict) -> None:
        try:
            raw = json.loads(fields.get(b"e") or fields.get("e") or "[]")
            entries = [Entry.from_dict(item) for item in raw]
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("event log reader: malformed entry skipped (%s)", exc)
            return
        self.delivery.receive(entries)
