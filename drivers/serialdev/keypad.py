"""Call keypads: a background reader of ``K<address>:<KEY>`` lines on a serial port.

The protocol is in :mod:`.frames`. One :class:`Keypad` reads one port (several keypads
may share it, each with its own address). It survives the port going away (USB-serial
unplugged, pty closed): it reopens with back-off, from ``min_backoff_s`` doubling up to
``max_backoff_s``. Garbage lines are logged, counted and ignored; an exception in the
callback is logged and never stops the reader.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from ..errors import DeviceUnavailable
from .display import SerialLink, utcnow
from .frames import KeyLineReader, KeyPress

log = logging.getLogger(__name__)


class KeypadState(enum.Enum):
    """Whether presses can arrive."""

    OK = "ok"
    """The port is open and being read."""

    OFFLINE = "offline"
    """The port cannot be opened or read (unplugged); the reader retries with back-off."""

    ERROR = "error"
    """The port works but only garbage arrived lately (wrong baud rate, wiring noise)."""


@dataclass(frozen=True)
class KeypadStatus:
    """``state``; ``detail``: a short reason; ``last_answer_at``: the last valid line (UTC)."""

    state: KeypadState
    detail: str = ""
    last_answer_at: datetime | None = None


class Keypad:
    """Reads presses from ``port`` and passes each :class:`KeyPress` to ``on_press``.

    ``port``: a device path / pyserial URL, or a :class:`SerialLink`; ``on_press``: called
    in the reader's task (may be set after construction); ``on_state``: called with the
    new :class:`KeypadState` when it changes.
    """

    def __init__(self, port: str | SerialLink, on_press: Callable[[KeyPress], None] | None = None, *,
                 baudrate: int = 9600, min_backoff_s: float = 0.5, max_backoff_s: float = 10.0,
                 on_state: Callable[[KeypadState], None] | None = None) -> None:
        self.link = port if isinstance(port, SerialLink) else SerialLink(port, baudrate=baudrate, timeout=0.2)
        self.on_press, self.on_state = on_press, on_state
        self.min_backoff_s, self.max_backoff_s = min_backoff_s, max_backoff_s
        self.presses = 0
        self._reader = KeyLineReader()
        self._status = KeypadStatus(KeypadState.OFFLINE, "belum dibuka / not yet opened")
        self._stop = threading.Event()
        self._task: Any = None  # a Thread, or what spawn() returned (joinable)

    def __repr__(self) -> str:
        return f"Keypad({self.link.url!r})"

    @property
    def errors(self) -> list[str]:
        """Reasons of the garbage lines seen (most recent last)."""
        return self._reader.errors

    def status(self) -> KeypadStatus:
        return self._status

    def start(self, spawn: Callable | None = None) -> None:
        """Start reading in the background (``spawn(fn)`` → joinable task; default a thread)."""
        if self._task is not None:
            return
        self._stop.clear()
        try:
            self.link.open()  # now, so no press sent right after start() is lost
        except DeviceUnavailable as exc:
            self._set(KeypadStatus(KeypadState.OFFLINE, str(exc)))
        if spawn is None:
            self._task = threading.Thread(target=self._run, name=f"keypad {self.link.url}", daemon=True)
            self._task.start()
        else:
            self._task = spawn(self._run)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop reading and close the port."""
        self._stop.set()
        if self._task is not None:
            self._task.join(timeout)
            self._task = None
        self.link.close()

    def _run(self) -> None:
        delay = self.min_backoff_s
        while not self._stop.is_set():
            try:
                data = self.link.read(64)
            except DeviceUnavailable as exc:
                self._set(KeypadStatus(KeypadState.OFFLINE, str(exc), self._status.last_answer_at))
                self._stop.wait(delay)
                delay = min(delay * 2, self.max_backoff_s)
                continue
            delay = self.min_backoff_s
            if self._status.state == KeypadState.OFFLINE:
                self._set(KeypadStatus(KeypadState.OK, "", self._status.last_answer_at))
            if data:
                self._received(data)

    def _received(self, data: bytes) -> None:
        garbage = len(self._reader.errors)
        presses = self._reader.feed(data, at=time.monotonic())
        if presses:
            self._set(KeypadStatus(KeypadState.OK, "", utcnow()))
        elif len(self._reader.errors) != garbage:
            self._set(KeypadStatus(KeypadState.ERROR, "data tidak dikenal / garbage: " + self._reader.errors[-1][:80],
                                   self._status.last_answer_at))
        for press in presses:
            self.presses += 1
            log.info("keypad %s: %s %s", self.link.url, press.address, press.key.name)
            if self.on_press is None:
                continue
            try:
                self.on_press(press)
            except Exception:
                log.exception("keypad press handler failed")

    def _set(self, status: KeypadStatus) -> None:
        changed = status.state != self._status.state
        if changed and status.state != KeypadState.OK:
            log.warning("keypad %s: %s", self.link.url, status.detail)
        self._status = status
        if changed and self.on_state is not None:
            try:
                self.on_state(status.state)
            except Exception:
                log.exception("keypad state handler failed")
