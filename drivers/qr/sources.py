"""Where codes come from: camera frames (opencv) and barcode-scanner lines (serial or text).

:class:`FrameSource` wraps ``cv2.VideoCapture`` on a device index (``0``, ``/dev/video0``),
an RTSP/HTTP URL or a video file; :class:`ScannerReader` reads the lines a barcode scanner
types, over a serial port (pyserial: ``/dev/ttyACM0``, ``loop://``, a pty) or a text stream
(a keyboard-wedge scanner typing into ``stdin``, a FIFO). Both expose a :class:`SourceState`
and when the device last answered, and raise only :mod:`drivers.errors` exceptions.
"""
from __future__ import annotations

import enum
import logging
import os
import select
import stat
import sys
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np

from drivers.errors import DeviceError, DeviceUnavailable

log = logging.getLogger(__name__)


class SourceState(enum.Enum):
    """What a camera or scanner can do right now."""

    OK = "ok"
    """Open and delivering (frames or lines)."""

    OFFLINE = "offline"
    """Not open, unplugged, stream lost or ended: raises DeviceUnavailable; reopen later."""

    ERROR = "error"
    """Opened but misbehaving (a library fault): raises DeviceError."""


@dataclass(frozen=True)
class SourceStatus:
    """One reading of a source: ``state``, a short ``detail`` ("" when OK) and when it last
    delivered something (``last_answer_at``, aware UTC, None if never)."""

    state: SourceState
    detail: str = ""
    last_answer_at: datetime | None = None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class EndOfStream(DeviceUnavailable):
    """A video file (or a finite simulated camera) has played to its end; it will not
    deliver more frames unless reopened."""


def parse_camera(spec: str | int) -> int | str:
    """A ``--camera`` value as ``cv2.VideoCapture`` takes it: ``"0"`` → device index 0;
    URLs and paths unchanged."""
    if isinstance(spec, int):
        return spec
    spec = str(spec).strip()
    return int(spec) if spec.isdigit() else spec


class FrameSource:
    """Frames from ``cv2.VideoCapture``.

    ``source``: a device index, ``/dev/videoN``, an ``rtsp://``/``http://`` URL or a video
    file path. ``width``/``height``: resolution asked of a live camera (None: its default).
    ``timeout_s``: open and read timeout for network streams (opencv's FFmpeg default is
    30 s). ``loop``: a video file starts again at its end instead of ending.

    :meth:`read` returns the next frame (BGR ``uint8``) or raises DeviceUnavailable when the
    camera is lost (state OFFLINE; call :meth:`open` again later), :class:`EndOfStream` at
    the end of a video file.
    """

    kind = "camera"

    def __init__(self, source: str | int, *, width: int | None = None, height: int | None = None,
                 timeout_s: float = 5.0, loop: bool = False) -> None:
        self.source = parse_camera(source)
        self.width, self.height, self.timeout_s, self.loop = width, height, timeout_s, loop
        self.state = SourceState.OFFLINE
        self.detail = "belum dibuka / not opened"
        self.last_frame_at: datetime | None = None
        self.frames_read = 0
        self._cap = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r})"

    @property
    def live(self) -> bool:
        """True for a camera or stream (frames come at the camera's pace), False for a file."""
        s = self.source
        return isinstance(s, int) or "://" in s or s.startswith("/dev/")

    # -- lifecycle --------------------------------------------------------------------
    def open(self) -> None:
        """Open (or reopen) the source; raises DeviceUnavailable if it cannot be opened."""
        self.close()
        try:
            cap = self._open_capture()
            opened = cap is not None and cap.isOpened()
        except DeviceError as exc:
            self._set(SourceState.OFFLINE, str(exc))
            raise
        except Exception as exc:  # cv2.error and friends
            self._set(SourceState.OFFLINE, f"kamera tidak bisa dibuka / camera cannot be opened: {exc}")
            raise DeviceUnavailable(self.detail) from exc
        if not opened:
            self._set(SourceState.OFFLINE, f"kamera tidak bisa dibuka / camera cannot be opened: {self.source}")
            raise DeviceUnavailable(self.detail)
        self._cap = cap
        self._set(SourceState.OK, "")

    def close(self) -> None:
        """Release the capture (safe to call twice)."""
        cap, self._cap = self._cap, None
        if cap is not None:
            try:
                cap.release()
            except Exception as exc:
                log.debug("release %s: %s", self, exc)
        if self.state is SourceState.OK:
            self._set(SourceState.OFFLINE, "ditutup / closed")

    @property
    def is_open(self) -> bool:
        return self._cap is not None

    def read(self) -> np.ndarray:
        """The next frame; raises DeviceUnavailable when the camera is lost or not open."""
        if self._cap is None:
            raise DeviceUnavailable(self.detail or "kamera tidak terbuka / camera not open")
        try:
            ok, frame = self._cap.read()
        except DeviceUnavailable as exc:
            self._lost(str(exc))
            raise
        except Exception as exc:
            self._lost(f"kamera terputus / camera lost: {exc}")
            raise DeviceUnavailable(self.detail) from exc
        if not ok or frame is None:
            if not self.live and self.loop and self.frames_read:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            if not ok or frame is None:
                if not self.live:
                    self._lost("video selesai / end of video")
                    raise EndOfStream(self.detail)
                self._lost("kamera terputus / camera lost")
                raise DeviceUnavailable(self.detail)
        self.frames_read += 1
        self.last_frame_at = _now()
        if self.state is not SourceState.OK:
            self._set(SourceState.OK, "")
        return frame

    def status(self) -> SourceStatus:
        """State, detail and the time of the last frame."""
        return SourceStatus(self.state, self.detail, self.last_frame_at)

    # -- for subclasses (the simulator) ---------------------------------------------------
    def _open_capture(self):
        """A ``cv2.VideoCapture``-like object for :attr:`source` (``read``, ``set``,
        ``isOpened``, ``release``)."""
        src = self.source
        if isinstance(src, str) and "://" in src:
            ms = int(self.timeout_s * 1000)
            cap = cv2.VideoCapture(src, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        elif self.live:
            cap = cv2.VideoCapture(src)
            if cap.isOpened():
                cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # newest frame, not a queue of old ones
                if self.width and self.height:
                    cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
                    cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        else:
            path = str(src)  # not live: a file path, never a camera index
            if not Path(path).is_file():
                raise DeviceUnavailable(f"video tidak ada / video not found: {src}")
            cap = cv2.VideoCapture(path)
        return cap

    def _set(self, state: SourceState, detail: str) -> None:
        self.state, self.detail = state, detail

    def _lost(self, detail: str) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            try:
                cap.release()
            except Exception:
                pass
        self._set(SourceState.OFFLINE, detail)


class ScannerReader:
    """Lines typed by a barcode scanner, stripped; empty and garbage lines are skipped.

    ``port``: ``stdin`` (or ``-``) for a keyboard-wedge scanner typing into this process; a
    serial device (``/dev/ttyACM0``, ``/dev/ttyUSB0``, a pty) or a pyserial URL
    (``loop://``, ``socket://host:port``, ``rfc2217://``) for a serial scanner; any other
    path is read as a text stream (a FIFO). ``baudrate``: for serial ports (USB CDC
    scanners ignore it). A line ends at CR or LF; a line that is not UTF-8, holds control
    characters or is longer than ``max_line`` bytes is garbage (logged, skipped).
    """

    kind = "scanner"

    def __init__(self, port: str, *, baudrate: int = 9600, max_line: int = 4096) -> None:
        self.port, self.baudrate, self.max_line = port, baudrate, max_line
        self.state = SourceState.OFFLINE
        self.detail = "belum dibuka / not opened"
        self.last_line_at: datetime | None = None
        self.garbage = 0  # lines skipped as garbage (diagnostics, tests)
        self._serial = None
        self._fd: int | None = None
        self._own_fd = False
        self._buffer = b""
        self._lines: deque[str] = deque()

    def __repr__(self) -> str:
        return f"ScannerReader({self.port!r})"

    @property
    def reopenable(self) -> bool:
        """False for stdin: once it ends it cannot come back."""
        return self.port not in ("stdin", "-")

    def open(self) -> None:
        """Open the port; raises DeviceUnavailable if it is not there."""
        self.close()
        self._buffer, self._lines = b"", deque()
        try:
            if self.port in ("stdin", "-"):
                self._fd, self._own_fd = sys.stdin.fileno(), False
            elif "://" in self.port or self._is_tty(self.port):
                import serial

                self._serial = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.2)
            else:
                self._fd, self._own_fd = os.open(self.port, os.O_RDONLY | os.O_NONBLOCK), True
        except Exception as exc:  # SerialException, OSError, ValueError
            self._set(SourceState.OFFLINE, f"pemindai tidak bisa dibuka / scanner cannot be opened: {exc}")
            raise DeviceUnavailable(self.detail) from exc
        self._set(SourceState.OK, "")

    def close(self) -> None:
        """Close the port (safe to call twice); stdin is left open."""
        ser, self._serial = self._serial, None
        fd, self._fd = self._fd, None
        try:
            if ser is not None:
                ser.close()
            if fd is not None and self._own_fd:
                os.close(fd)
        except Exception as exc:
            log.debug("close %s: %s", self, exc)
        if self.state is SourceState.OK:
            self._set(SourceState.OFFLINE, "ditutup / closed")

    @property
    def is_open(self) -> bool:
        return self._serial is not None or self._fd is not None

    def read_line(self, timeout_s: float = 0.5) -> str | None:
        """The next good line, or None if none came within about ``timeout_s`` seconds.

        Raises DeviceUnavailable when the scanner is gone (unplugged, stream ended).
        """
        if self._lines:
            return self._lines.popleft()
        if not self.is_open:
            raise DeviceUnavailable(self.detail or "pemindai tidak terbuka / scanner not open")
        chunk = self._read_chunk(timeout_s)
        if chunk:
            self._feed(chunk)
        return self._lines.popleft() if self._lines else None

    def status(self) -> SourceStatus:
        """State, detail and the time of the last good line."""
        return SourceStatus(self.state, self.detail, self.last_line_at)

    # -- internals ----------------------------------------------------------------------
    @staticmethod
    def _is_tty(path: str) -> bool:
        try:
            return stat.S_ISCHR(os.stat(path).st_mode)
        except OSError:
            return path.startswith("/dev/")  # not there (yet): let pyserial say so

    def _read_chunk(self, timeout_s: float) -> bytes:
        try:
            if self._serial is not None:
                self._serial.timeout = timeout_s
                return self._serial.read(max(1, self._serial.in_waiting))
            fd = self._fd
            assert fd is not None  # read_line checked is_open: a serial port or a descriptor
            ready, _, _ = select.select([fd], [], [], timeout_s)
            if not ready:
                return b""
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return b""
        except Exception as exc:  # SerialException (unplugged), OSError (EIO on a closed pty)
            self._gone(f"pemindai terputus / scanner lost: {exc}")
            raise DeviceUnavailable(self.detail) from exc
        if not chunk:
            self._gone("pemindai terputus / scanner stream ended")
            raise DeviceUnavailable(self.detail)
        return chunk

    def _feed(self, chunk: bytes) -> None:
        self._buffer += chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *complete, self._buffer = self._buffer.split(b"\n")
        if len(self._buffer) > self.max_line:  # noise with no line end: drop it
            complete.append(self._buffer)
            self._buffer = b""
        for raw in complete:
            line = self._parse(raw)
            if line is not None:
                self._lines.append(line)
                self.last_line_at = _now()

    def _parse(self, raw: bytes) -> str | None:
        if len(raw) > self.max_line:
            self._skip(raw, "too long")
            return None
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            self._skip(raw, "not UTF-8")
            return None
        if not line:
            return None
        if not line.isprintable():
            self._skip(raw, "control characters")
            return None
        return line

    def _skip(self, raw: bytes, why: str) -> None:
        self.garbage += 1
        log.info("scanner %s: skipped a line (%s): %r", self.port, why, raw[:80])

    def _gone(self, detail: str) -> None:
        self.close()
        self._set(SourceState.OFFLINE, detail)

    def _set(self, state: SourceState, detail: str) -> None:
        self.state, self.detail = state, detail
