"""Counter LED displays on a serial port (pyserial), and the serial port they share.

:class:`SerialLink` is one pyserial port (``/dev/ttyUSB0``, a pty path, ``loop://``,
``socket://host:port``...) opened on demand, shared by the displays on one RS-485 bus and
reopened after a failure; every pyserial error becomes :class:`DeviceUnavailable`.
:class:`SerialLedDisplay` sends one frame per :meth:`~LedDisplay.show` in a format of
:mod:`.frames`.
"""
from __future__ import annotations

import enum
import logging
import os
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timezone

from ..errors import DeviceError, DeviceUnavailable
from .frames import ACK, NAK, FrameFormat, make_format

log = logging.getLogger(__name__)


class SerialLink:
    """One serial port, opened on demand; see the module docstring.

    ``url``: a device path or pyserial URL; ``baudrate``; ``timeout``: seconds a read
    waits; ``write_timeout``: seconds a write may block (a stalled port).
    """

    def __init__(self, url: str, *, baudrate: int = 9600, timeout: float = 0.1, write_timeout: float = 1.0) -> None:
        self.url = url
        self.baudrate, self.timeout, self.write_timeout = baudrate, timeout, write_timeout
        self.lock = threading.RLock()  # held by a writer for a whole exchange (frame + answer)
        self._serial = None

    def __repr__(self) -> str:
        return f"SerialLink({self.url!r})"

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def open(self):
        """Open the port if it is closed; returns the pyserial object; raises DeviceUnavailable."""
        with self.lock:
            if self._serial is None:
                import serial  # the field's library; imported here so the package loads without it

                try:
                    self._serial = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=self.timeout,
                                                         write_timeout=self.write_timeout)
                except Exception as exc:  # SerialException, OSError, ValueError (bad settings)
                    raise DeviceUnavailable(f"{self.url}: cannot open: {_reason(exc)}") from exc
                log.info("serial port %s open", self.url)
            return self._serial

    def close(self) -> None:
        """Close the port (the next operation reopens it)."""
        with self.lock:
            port, self._serial = self._serial, None
        if port is not None:
            try:
                port.close()
            except Exception as exc:
                log.debug("closing %s: %s", self.url, exc)

    def write(self, data: bytes) -> None:
        """Write all of ``data``; raises DeviceUnavailable (and closes the port) on failure."""
        with self.lock:
            port = self.open()
            try:
                port.write(data)
            except Exception as exc:
                raise self._failed(port, "write", exc) from exc

    def read(self, size: int = 256) -> bytes:
        """Up to ``size`` bytes, waiting at most ``timeout`` s (b"" if none); DeviceUnavailable on failure."""
        port = self.open()
        try:
            return port.read(max(1, min(size, port.in_waiting or 1)))
        except Exception as exc:
            raise self._failed(port, "read", exc) from exc

    def discard_input(self) -> None:
        """Drop bytes received but not read (stale answers)."""
        port = self.open()
        try:
            port.reset_input_buffer()
        except Exception as exc:
            raise self._failed(port, "reset", exc) from exc

    def _failed(self, port, action: str, exc: Exception) -> DeviceUnavailable:
        with self.lock:
            if self._serial is port:
                self.close()
        return DeviceUnavailable(f"{self.url}: {action} failed: {_reason(exc)}")


def _reason(exc: Exception) -> str:
    """A short reason: the OS error text when there is one ("No such file or directory")."""
    errno = getattr(exc, "errno", None)
    if isinstance(errno, int):
        return os.strerror(errno)
    return str(exc) or type(exc).__name__


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DisplayState(enum.Enum):
    """What a counter display can do right now."""

    OK = "ok"
    """The last frame was taken (and acknowledged, when the display answers)."""

    OFFLINE = "offline"
    """The port cannot be opened or written, or the display did not answer: unplugged, off."""

    ERROR = "error"
    """The display answers but rejected the frame (NAK: wiring noise, wrong format)."""


@dataclass(frozen=True)
class DisplayStatus:
    """``state``; ``detail``: a short reason ("" when OK); ``last_answer_at``: when the
    display last took a frame (acknowledged it, for answering displays), UTC, or None."""

    state: DisplayState
    detail: str = ""
    last_answer_at: datetime | None = None


class LedDisplay(ABC):
    """A counter's number display."""

    @abstractmethod
    def show(self, text: str) -> None:
        """Show ``text`` (e.g. "A012", "----"); raises DeviceUnavailable or DeviceError."""

    @abstractmethod
    def status(self) -> DisplayStatus:
        """The state after the last :meth:`show` (never raises)."""

    @property
    def shown(self) -> str | None:
        """The text last shown successfully, None before the first."""
        return None

    def close(self) -> None:
        """Release the port (no-op by default)."""


class SerialLedDisplay(LedDisplay):
    """A counter display on a serial port (or a bus shared with others via one SerialLink).

    ``port``: a device path / pyserial URL, or a :class:`SerialLink` shared with other
    displays; ``address``: the display's address on the bus (usually the counter number);
    ``frame_format``: a format name of :data:`.frames.FORMATS` or a FrameFormat;
    ``width``: characters of the display (loket-ascii default 4); ``ack``: wait up to
    ``ack_timeout_s`` for the display's ACK (only for displays that answer).
    """

    def __init__(self, port: str | SerialLink, *, address: int = 1, frame_format: str | FrameFormat = "loket-ascii",
                 baudrate: int = 9600, width: int | None = None, ack: bool = False, ack_timeout_s: float = 0.5) -> None:
        self.link = port if isinstance(port, SerialLink) else SerialLink(port, baudrate=baudrate)
        if isinstance(frame_format, FrameFormat):
            self.format = frame_format
        else:
            self.format = make_format(frame_format, **({} if width is None else {"width": width}))
        if ack and not self.format.acknowledges:
            raise ValueError(f"format {self.format.name} has no acknowledgement")
        self.format.encode(address, "")  # ValueError now on an address the format cannot carry
        self.address, self.ack, self.ack_timeout_s = address, ack, ack_timeout_s
        self._status = DisplayStatus(DisplayState.OFFLINE, "belum tersambung / not yet used")
        self._shown: str | None = None

    def __repr__(self) -> str:
        return f"SerialLedDisplay({self.link.url!r}, address={self.address}, format={self.format.name!r})"

    @property
    def shown(self) -> str | None:
        return self._shown

    def status(self) -> DisplayStatus:
        return self._status

    def show(self, text: str) -> None:
        frame = self.format.encode(self.address, text)
        with self.link.lock:
            was_open = self.link.is_open
            try:
                self._exchange(frame)
            except DeviceUnavailable as first:
                if not was_open:
                    raise self._failed(DisplayState.OFFLINE, first) from first
                # The port was open but is dead (unplugged and plugged back): reopen once now.
                try:
                    self._exchange(frame)
                except DeviceUnavailable as exc:
                    raise self._failed(DisplayState.OFFLINE, exc) from exc
                except DeviceError as exc:
                    raise self._failed(DisplayState.ERROR, exc) from exc
            except DeviceError as exc:
                raise self._failed(DisplayState.ERROR, exc) from exc
        self._shown = text
        self._status = DisplayStatus(DisplayState.OK, "", utcnow())

    def _exchange(self, frame: bytes) -> None:
        if self.ack:
            self.link.discard_input()
        self.link.write(frame)
        if self.ack:
            self._wait_ack()

    def _wait_ack(self) -> None:
        deadline = time.monotonic() + self.ack_timeout_s
        while time.monotonic() < deadline:
            for byte in self.link.read(16):
                if byte == ACK:
                    return
                if byte == NAK:
                    raise DeviceError(f"display {self.address} menolak data / rejected the frame (NAK)")
        raise DeviceUnavailable(f"display {self.address} tidak menjawab / no answer on {self.link.url}")

    def _failed(self, state: DisplayState, exc: DeviceError) -> DeviceError:
        """Record the failure (logged once per new reason) and return ``exc`` to raise."""
        previous = self._status
        self._status = DisplayStatus(state, str(exc), previous.last_answer_at)
        if previous.state != state or previous.detail != str(exc):
            log.warning("LED display %s at %s: %s", self.address, self.link.url, exc)
        return exc

    def close(self) -> None:
        self.link.close()
