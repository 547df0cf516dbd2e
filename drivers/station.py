"""StationAgent: the Socket.IO side every station agent shares (kiosk, display, pickup,
activation). It owns the connection to the server and nothing else; the agent subclasses
own their devices.

Protocol (server side in ``server.realtime.handlers``):

- connect to the agents' namespace :data:`NAMESPACE` "/agents" with ``auth={"token":
  DEVICE_TOKEN}``, websocket transport only; the server puts the agent in its device room
  (and a display agent in its office's display room, so it hears ``counter`` and ``call``
  events). Every handler and every event of an agent is in that namespace (:meth:`StationAgent.on`,
  :meth:`StationAgent.sid`);
- ``health`` ``{"devices": {name: DeviceHealth.as_dict()}}``, acked ``{"ok": true}``: sent
  every ``health_interval_s`` seconds and at once whenever a device's health changes;
- anything else the agent reports goes through :meth:`send`: an ordered outbox, each
  message delivered with an ack and retried after a reconnect, so nothing is lost while
  the server is away.

The server rejecting the token makes the agent retry with back-off (up to
``max_backoff_s``): a revoked station keeps trying quietly rather than crashing. Background
tasks are threads, or greenlets under gevent's monkey patch.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Callable

import socketio

log = logging.getLogger(__name__)

#: the Socket.IO namespace of station agents (the server's ``server.realtime.emitter.AGENTS``)
NAMESPACE = "/agents"


@dataclass(frozen=True)
class DeviceHealth:
    """One device's health as the server stores it.

    ``kind``: printer, led_display, keypad, camera, scanner, card_reader, ...; ``state``:
    the driver's State value ("ok", "paper_out", "offline", ...); ``detail``: a short text
    for staff; ``last_answer_at``: when the device last answered (ISO 8601) or None.
    """

    kind: str
    state: str
    detail: str = ""
    last_answer_at: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def as_dict(self) -> dict:
        return asdict(self)


def iso_now() -> str:
    """The current UTC time in ISO 8601."""
    return datetime.now(timezone.utc).isoformat()


class StationAgent:
    """Base class: connection, health reports and a reliable outbox.

    ``server_url``: the Loket server's base URL; ``token``: this station's device token;
    ``health_interval_s``: seconds between health reports; ``ack_timeout_s``: seconds to
    wait for the server's ack; ``max_backoff_s``: longest wait between connection attempts.
    Subclasses override :meth:`health` and :meth:`on_connected`, register socket handlers
    with :meth:`on` (namespace :attr:`namespace`) and may run loops with :meth:`spawn`.
    """

    name = "station"
    namespace = NAMESPACE

    def __init__(self, server_url: str, token: str, *, health_interval_s: float = 5.0,
                 ack_timeout_s: float = 5.0, max_backoff_s: float = 10.0) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.health_interval_s, self.ack_timeout_s, self.max_backoff_s = health_interval_s, ack_timeout_s, max_backoff_s
        self.connects = 0
        self.sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        self.on("connect", self._on_connect)
        self._outbox: deque[tuple[str, dict, Callable | None]] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._tasks: list = []
        self._last_health: dict | None = None

    # -- for subclasses -----------------------------------------------------------------
    def on(self, event: str, handler: Callable) -> None:
        """Handle ``event`` from the server (in the agents' namespace)."""
        self.sio.on(event, handler, namespace=self.namespace)

    def sid(self) -> str | None:
        """This connection's session id in the agents' namespace (None when not connected)."""
        return self.sio.get_sid(self.namespace)

    def health(self) -> dict[str, DeviceHealth]:
        """The health of every device this station owns (name → DeviceHealth)."""
        return {}

    def on_connected(self) -> None:
        """Called after each successful connection (e.g. to resend state)."""

    def spawn(self, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` as a background task stopped by :meth:`stop` (it should watch
        :attr:`stopping`)."""
        self._tasks.append(self.sio.start_background_task(fn, *args))

    @property
    def stopping(self) -> threading.Event:
        """Set when the agent is stopping; loops wait on it instead of sleeping."""
        return self._stop

    def send(self, event: str, payload: dict, on_ack: Callable[[object], None] | None = None) -> None:
        """Queue ``event`` for the server; delivered in order with an ack, retried after a
        reconnect. ``on_ack(answer)`` is called with the server's answer."""
        with self._lock:
            self._outbox.append((event, payload, on_ack))
        self._wake.set()

    def health_changed(self) -> None:
        """Ask for a health report now (call it when a device's state changes)."""
        self._wake.set()

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        """Connect (retrying until the server answers) and report, in the background."""
        if self._tasks:
            return
        self._stop.clear()
        self._tasks = [self.sio.start_background_task(self._connection_loop),
                       self.sio.start_background_task(self._outbox_loop)]
        self.started()

    def started(self) -> None:
        """Hook: start device loops here with :meth:`spawn`."""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every task and disconnect (the outbox stays in memory)."""
        self._stop.set()
        self._wake.set()
        for task in self._tasks:
            task.join(timeout)
        self._tasks = []
        self.sio.start_background_task(self._disconnect).join(1.0)

    @property
    def connected(self) -> bool:
        return bool(self.sio.connected)

    def pending(self) -> int:
        """Messages not yet acknowledged by the server."""
        with self._lock:
            return len(self._outbox)

    # -- internals ----------------------------------------------------------------------
    def _disconnect(self) -> None:
        try:
            self.sio.disconnect()
        except Exception as exc:
            log.debug("disconnect: %s", exc)

    def _on_connect(self) -> None:
        self.connects += 1
        self._last_health = None  # the server gets a fresh report after each connect
        log.info("%s agent connected to %s", self.name, self.server_url)
        self.on_connected()
        self._wake.set()

    def _connection_loop(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            if not self.sio.connected:
                try:
                    self.sio.connect(self.server_url, auth={"token": self.token}, namespaces=[self.namespace],
                                     transports=["websocket"], wait_timeout=5)
                    delay = 0.5
                except Exception as exc:  # refused, down, token revoked: retry later
                    log.debug("%s agent connect failed: %s", self.name, exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.max_backoff_s)
                    continue
            self._stop.wait(0.5)

    def _outbox_loop(self) -> None:
        last_report = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            if self.sio.connected:
                now = time.monotonic()
                health = {name: h.as_dict() for name, h in self._safe_health().items()}
                if health != self._last_health or now - last_report >= self.health_interval_s:
                    if self._call("health", {"devices": health}) is not None:
                        self._last_health, last_report = health, now
                self._flush()
            self._wake.wait(min(1.0, self.health_interval_s))

    def _safe_health(self) -> dict[str, DeviceHealth]:
        try:
            return self.health()
        except Exception as exc:  # a driver must not take the agent down
            log.exception("health check failed")
            return {"agent": DeviceHealth("agent", "error", str(exc))}

    def _flush(self) -> None:
        while self.sio.connected and not self._stop.is_set():
            with self._lock:
                if not self._outbox:
                    return
                event, payload, on_ack = self._outbox[0]
            answer = self._call(event, payload)
            if answer is None:
                return  # not delivered: try again later
            with self._lock:
                if self._outbox and self._outbox[0][1] is payload:
                    self._outbox.popleft()
            if on_ack is not None:
                try:
                    on_ack(answer)
                except Exception:
                    log.exception("ack handler of %s failed", event)

    def _call(self, event: str, payload: dict):
        try:
            answer = self.sio.call(event, payload, namespace=self.namespace, timeout=self.ack_timeout_s)
        except Exception as exc:
            log.info("%s not delivered yet: %s", event, exc)
            return None
        return answer if answer is not None else {}

