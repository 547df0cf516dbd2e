"""The office stream on a python-socketio ``Client`` (display agents, tests, benchmarks).

:class:`OfficeStreamClient` registers the stream's message handlers on the client, feeds
every connect, disconnect, message and answer to a :class:`~.cursor.StreamCursor`, and calls
``on_state(state)`` / ``on_event(name, data)`` strictly in the cursor's order, one at a time
(python-socketio runs each message handler in a thread of its own, so arrival order is not
handling order: the cursor puts them back in position order). ``sync`` requests are made
by one loop (:meth:`run`), which also ticks the cursor every ``tick_s``.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

from .cursor import StreamCursor

log = logging.getLogger(__name__)

#: the office streams' one socket message: a list of entries {"name", "data"} in position order
MESSAGE = "entries"


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class OfficeStreamClient:
    """See the module docstring.

    ``sio``: a ``socketio.Client`` (not yet connected, or reconnecting by itself);
    ``on_state``/``on_event``: the callbacks; ``grace_ms``: see StreamCursor;
    ``sync_timeout_s``: how long one ``sync`` may take; ``retry_s``: wait after a failed one;
    ``tick_s``: the loop's period; ``args``: extra fields of every sync request;
    ``namespace``: the server's namespace of this client ("/" for screens, "/agents" for a
    display agent).
    ``own_connect``: register the client's connect/disconnect handlers (False when the
    owner has its own, e.g. ``drivers.station.StationAgent``: it then calls
    :meth:`connected` and :meth:`disconnected`).
    """

    def __init__(self, sio, on_state: Callable[[dict], None], on_event: Callable[[str, dict], None], *,
                 grace_ms: float = 300.0, sync_timeout_s: float = 5.0, retry_s: float = 2.0,
                 tick_s: float = 0.1, args: dict | None = None, own_connect: bool = True,
                 namespace: str = "/") -> None:
        self.sio = sio
        self.namespace = namespace
        self.on_state, self.on_event = on_state, on_event
        self.cursor = StreamCursor(grace_ms)
        self.sync_timeout_s, self.retry_s, self.tick_s = sync_timeout_s, retry_s, tick_s
        self.args = dict(args or {})
        self._lock = threading.RLock()
        self._requests: queue.Queue = queue.Queue()
        self._retry_at: float | None = None
        self._connection = 0
        if own_connect:
            sio.on("connect", self.connected, namespace=namespace)
            sio.on("disconnect", self.disconnected, namespace=namespace)
        sio.on(MESSAGE, self._on_entries, namespace=namespace)

    # -- socket side ----------------------------------------------------------------------
    def connected(self) -> None:
        """The socket has (re)connected: ask for what was missed."""
        with self._lock:
            self._connection += 1
            self._run(self.cursor.connect(_now_ms()))

    def disconnected(self, *_reason) -> None:
        """The socket dropped."""
        with self._lock:
            self._run(self.cursor.disconnect())

    def _on_entries(self, entries=None) -> None:
        with self._lock:
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict):
                    self._run(self.cursor.event(str(entry.get("name")), entry.get("data"), _now_ms()))

    def _run(self, actions: list) -> None:
        for action in actions:
            kind = action[0]
            try:
                if kind == "state":
                    self.on_state(action[1])
                elif kind == "event":
                    self.on_event(action[1], action[2])
            except Exception:  # a bad callback must not stop the stream
                log.exception("office stream %s handler failed", kind)
            if kind == "sync":
                self._requests.put((self._connection, {**self.args, **action[1]}))
            elif kind == "retry":
                self._retry_at = time.monotonic() + self.retry_s

    # -- the loop -------------------------------------------------------------------------
    def run(self, stopping: Callable[[], bool]) -> None:
        """Make the sync requests and tick the cursor until ``stopping()``; run it in a
        background task of its own (e.g. ``sio.start_background_task``)."""
        while not stopping():
            try:
                connection, args = self._requests.get(timeout=self.tick_s)
            except queue.Empty:
                connection = args = None
            if args is not None:
                self._sync(connection, args)
            with self._lock:
                if self._retry_at is not None and time.monotonic() >= self._retry_at:
                    self._retry_at = None
                    self._run(self.cursor.retry(_now_ms()))
                self._run(self.cursor.tick(_now_ms()))

    def _sync(self, connection: int, args: dict) -> None:
        deadline = time.monotonic() + self.sync_timeout_s
        while not self.sio.connected and time.monotonic() < deadline and connection == self._connection:
            time.sleep(0.02)  # the connect handler runs before python-socketio marks the client connected
        try:
            answer = self.sio.call("sync", args, namespace=self.namespace, timeout=self.sync_timeout_s) if self.sio.connected else None
        except Exception as exc:
            answer = {"error": str(exc) or type(exc).__name__}
        with self._lock:
            if connection != self._connection:
                return  # asked on a connection that has dropped since; the new one asked again
            if answer is None:
                self._run(self.cursor.disconnect())
                return
            self._run(self.cursor.answer(answer, _now_ms()))
