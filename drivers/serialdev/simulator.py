"""Simulated counter displays and keypads that speak the real bytes, and socat pty pairs.

- :func:`pty_pair` starts ``socat -d -d pty,raw,echo=0,link=A pty,raw,echo=0,link=B``:
  two pseudo-terminals wired back to back, a null-modem cable inside the machine. The
  driver opens one end like a real ``/dev/ttyUSB0``, the simulator the other.
- :class:`LedDisplaySimulator` reads frames from its end and keeps what each address
  shows; with ``ack=True`` it answers ACK/NAK like an answering display. Faults:
  :meth:`LedDisplaySimulator.close` (unplugged) and ``answering = False`` (dead display).
- :class:`KeypadSimulator` writes key lines (and garbage on demand).

Both also work on a :class:`~.display.SerialLink` shared with the driver (``loop://``),
which is how ``loket demo`` runs without socat.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable

from ..errors import DeviceUnavailable
from .display import SerialLink
from .frames import ACK, NAK, Frame, FrameFormat, Key, encode_key_line, make_format

log = logging.getLogger(__name__)


# -- pty pairs ---------------------------------------------------------------------------
@dataclass
class PtyPair:
    """Two linked pseudo-terminals: ``a`` and ``b`` are the paths of the links to them."""

    a: str
    b: str
    process: subprocess.Popen
    _cleanup: Callable[[], None] = field(repr=False, default=lambda: None)
    _stderr: IO[bytes] | None = field(repr=False, default=None)  # socat's log file

    def log(self) -> str:
        """What socat wrote to stderr (its ``-d -d`` notices)."""
        stream = self._stderr
        if stream is None or stream.closed:
            return ""
        stream.seek(0)
        return stream.read().decode(errors="replace")

    def stop(self) -> None:
        """Stop socat: both ends disappear (like unplugging the cable and the adapter)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._cleanup()

    def __enter__(self) -> "PtyPair":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def pty_pair(directory: str | Path | None = None, names: tuple[str, str] = ("A", "B"), timeout: float = 5.0) -> PtyPair:
    """Start a socat pty pair with links ``directory/names[0]`` and ``directory/names[1]``.

    Without ``directory`` a temporary one is made (and removed by ``stop``). Starting a new
    pair on the same directory after ``stop`` gives the same paths (a replugged device).
    Raises RuntimeError when socat is missing or the links do not appear within ``timeout``.
    """
    socat = shutil.which("socat")
    if socat is None:
        raise RuntimeError("socat not found: apt-get install socat")
    temp = directory is None
    folder = Path(tempfile.mkdtemp(prefix="loket-pty-")) if directory is None else Path(directory)
    a, b = folder / names[0], folder / names[1]
    for link in (a, b):
        if link.is_symlink():
            link.unlink()  # left over by a socat that was killed
    stderr = tempfile.TemporaryFile()  # a file, not a pipe: socat never blocks on its log
    process = subprocess.Popen([socat, "-d", "-d", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)

    def cleanup() -> None:
        stderr.close()
        if temp:
            shutil.rmtree(folder, ignore_errors=True)

    pair = PtyPair(str(a), str(b), process, cleanup, stderr)
    deadline = time.monotonic() + timeout
    while not (a.exists() and b.exists()):
        if process.poll() is not None:
            err = pair.log().strip()
            pair.stop()
            raise RuntimeError(f"socat pty pair did not start: {err[-300:]}")
        if time.monotonic() > deadline:
            pair.stop()
            raise RuntimeError(f"socat pty links {a}, {b} did not appear within {timeout} s")
        time.sleep(0.01)
    return pair


# -- displays ----------------------------------------------------------------------------
class LedDisplaySimulator:
    """One or more LED displays on a bus: parses frames, keeps ``shown[address]``.

    ``port``: a path (its own port) or a SerialLink shared with the driver; ``frame_format``:
    name or FrameFormat; ``ack``: answer ACK/NAK; ``addresses``: the addresses present on
    the bus (None: every address; frames for others are ignored, as on a real bus).
    """

    def __init__(self, port: str | SerialLink, *, frame_format: str | FrameFormat = "loket-ascii", ack: bool = False,
                 addresses: set[int] | None = None, baudrate: int = 9600) -> None:
        self.link = port if isinstance(port, SerialLink) else SerialLink(port, baudrate=baudrate)
        self.format = frame_format if isinstance(frame_format, FrameFormat) else make_format(frame_format)
        self.ack, self.addresses = ack, addresses
        self.answering = True  # False: a display that is powered but dead (no ACK)
        self.shown: dict[int, str] = {}
        self.frames: list[Frame] = []
        self._parser = self.format.parser()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def errors(self) -> list[str]:
        """Reasons of the bad frames received."""
        return self._parser.errors

    def start(self) -> "LedDisplaySimulator":
        """Open the port and read in a thread (also used to plug back in after :meth:`close`)."""
        if self._thread is None:
            self._stop.clear()
            try:
                self.link.open()  # now: opening a tty drops what arrived before (pyserial flushes input)
            except DeviceUnavailable as exc:
                log.debug("LED simulator: %s", exc)
            self._thread = threading.Thread(target=self._run, name=f"led-sim {self.link.url}", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop reading and close this end (the display is unplugged)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self.link.close()

    def wait_shown(self, address: int, text: str, timeout: float = 5.0) -> bool:
        """Wait until display ``address`` shows ``text`` (padding ignored); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self.shown.get(address) != text:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def history(self, address: int) -> list[str]:
        """Every text display ``address`` was sent, in order."""
        return [f.shown for f in list(self.frames) if f.address == address]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.link.read(256)
            except DeviceUnavailable as exc:
                log.debug("LED simulator: %s", exc)
                self._stop.wait(0.1)
                continue
            if data:
                self._received(data)

    def _received(self, data: bytes) -> None:
        bad = len(self._parser.errors)
        frames = self._parser.feed(data)
        answers = b""
        if self.ack and self.answering:
            answers += bytes([NAK]) * (len(self._parser.errors) - bad)
        with self._changed:
            for frame in frames:
                if self.addresses is not None and frame.address not in self.addresses:
                    continue
                self.frames.append(frame)
                if frame.command == "N":
                    self.shown[frame.address] = frame.shown
                if self.ack and self.answering:
                    answers += bytes([ACK])
            self._changed.notify_all()
        if answers:
            try:
                self.link.write(answers)
            except DeviceUnavailable as exc:
                log.debug("LED simulator answer: %s", exc)


# -- keypads -----------------------------------------------------------------------------
class KeypadSimulator:
    """Keypads on a bus: :meth:`press` writes ``K<address>:<KEY>\\r\\n`` to ``port``."""

    def __init__(self, port: str | SerialLink, *, baudrate: int = 9600, short_codes: bool = False) -> None:
        self.link = port if isinstance(port, SerialLink) else SerialLink(port, baudrate=baudrate)
        self.short_codes = short_codes

    def press(self, address: int, key: Key | str) -> None:
        """Press ``key`` (a Key, its value "next", or its name "NEXT") on keypad ``address``."""
        key = _key(key)
        line = f"K{address}:{key.name[0]}\r\n".encode() if self.short_codes else encode_key_line(address, key)
        self.link.write(line)

    def send_raw(self, data: bytes) -> None:
        """Write arbitrary bytes (line noise, a wrong baud rate, another device's chatter)."""
        self.link.write(data)

    def close(self) -> None:
        self.link.close()


def _key(key: Key | str) -> Key:
    if isinstance(key, Key):
        return key
    try:
        return Key(key.lower())
    except ValueError:
        return Key[key.upper()]
