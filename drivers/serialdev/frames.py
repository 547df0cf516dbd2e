"""Byte formats of the counter LED displays and the call keypads.

LED display frame formats (one per vendor family, chosen by name, see :data:`FORMATS`):

``loket-ascii`` (our default; what the simulator and most RS-232/RS-485 counter displays
with an address switch understand)::

    STX  ADDR  CMD  PAYLOAD...  ETX  BCC
    0x02 '1'   'N'  "A012"      0x03 xor(ADDR..ETX)

- ``ADDR``: one byte, ``0x30 + address`` (address 1 → ``'1'``, 10 → ``':'``; 0-78). Several
  displays can share one RS-485 bus, each answering its own address.
- ``CMD``: ``'N'`` = show number (the only command Loket sends).
- ``PAYLOAD``: the text right-aligned to the display's width (default 4 digits), printable
  ASCII only: ``"A012"``, ``"  12"``, ``"----"`` when the counter is idle. A longer text
  keeps its rightmost characters.
- ``BCC``: XOR of every byte from ``ADDR`` to ``ETX`` inclusive (it may be any value,
  even 0x02 or 0x03: parsers take the byte after ETX positionally).
- Optional answer (``ack=True`` on the display): ``ACK`` 0x06 for a good frame addressed
  to it, ``NAK`` 0x15 for a bad checksum. Write-only displays never answer.

``plain-line`` (cheap text displays, USB-serial "LED name boards")::

    <address in decimal>:<text>\\r\\n        e.g. b"3:A012\\r\\n"

Call keypad protocol (one keypad per counter, several may share a bus)::

    K<address>:<KEY>\\r\\n                  e.g. b"K1:NEXT\\r\\n", b"K2:R\\r\\n"

``KEY`` is NEXT, RECALL, SKIP or FINISH, or its single-letter code N, R, S, F (any case).
A bare ``\\n`` ends a line too. Anything else is garbage: :func:`parse_key_line` raises
:class:`ProtocolError` with the reason, and the reader logs it and goes on.

Adding a vendor format: subclass :class:`FrameFormat` (``encode``, ``take``, ``decode``)
and :func:`register_format` it; see README.md in this package.
"""
from __future__ import annotations

import enum
import logging
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STX, ETX, ACK, NAK = 0x02, 0x03, 0x06, 0x15
#: The text an idle counter's display shows.
IDLE_TEXT = "----"
#: Longest frame or line a parser keeps waiting for before it drops the bytes as garbage.
MAX_FRAME = 128


class ProtocolError(ValueError):
    """Bytes that are not a valid frame or key line; ``str(exc)`` says why."""


@dataclass(frozen=True)
class Frame:
    """One display frame: ``address``, ``text`` as sent (padded), ``command`` letter."""

    address: int
    text: str
    command: str = "N"

    @property
    def shown(self) -> str:
        """The text as a person reads it on the display (padding removed)."""
        return self.text.strip()


def printable(text: str) -> str:
    """``text`` in printable ASCII: other characters become ``?``, line breaks go."""
    return "".join(c if " " <= c <= "~" else "?" for c in str(text).replace("\r", "").replace("\n", ""))


def fit(text: str, width: int) -> str:
    """``text`` right-aligned in ``width`` characters, keeping the rightmost ones if longer."""
    text = printable(text)
    return text[-width:].rjust(width) if width > 0 else text


def _describe(data: bytes) -> str:
    return repr(bytes(data[:40])) + ("..." if len(data) > 40 else "")


class FrameFormat(ABC):
    """A display frame format: builds frames and cuts and parses a byte stream of them.

    ``width``: characters of the display (the text is fitted to it; 0 = as given).
    ``acknowledges``: True when the format defines ACK/NAK answers.
    """

    name: str = ""
    acknowledges: bool = False

    def __init__(self, width: int = 4) -> None:
        if width < 0:
            raise ValueError("width must be >= 0")
        self.width = width

    @abstractmethod
    def encode(self, address: int, text: str) -> bytes:
        """The bytes that make display ``address`` show ``text``; ValueError on a bad address."""

    @abstractmethod
    def take(self, buffer: bytearray) -> bytes | None:
        """Remove and return the next complete frame from ``buffer`` (None: wait for more).

        Raises ProtocolError after removing garbage, so a caller can log it and go on.
        """

    @abstractmethod
    def decode(self, data: bytes) -> Frame:
        """Parse exactly one frame; raises ProtocolError."""

    def parser(self) -> "FrameParser":
        """A stream parser for this format."""
        return FrameParser(self)


class LoketAsciiFormat(FrameFormat):
    """STX, address byte, command, fitted text, ETX, XOR checksum (module docstring)."""

    name = "loket-ascii"
    acknowledges = True
    MAX_ADDRESS = 0x7E - 0x30

    def encode(self, address: int, text: str, command: str = "N") -> bytes:
        if not 0 <= int(address) <= self.MAX_ADDRESS:
            raise ValueError(f"loket-ascii address must be 0-{self.MAX_ADDRESS}, not {address}")
        payload = fit(text, self.width).encode("ascii")
        body = bytes([0x30 + int(address)]) + command.encode("ascii") + payload + bytes([ETX])
        return bytes([STX]) + body + bytes([checksum(body)])

    def take(self, buffer: bytearray) -> bytes | None:
        start = buffer.find(STX)
        if start < 0:
            if buffer:
                junk = bytes(buffer)
                del buffer[:]
                raise ProtocolError(f"{len(junk)} stray bytes outside a frame: {_describe(junk)}")
            return None
        if start > 0:
            junk = bytes(buffer[:start])
            del buffer[:start]
            raise ProtocolError(f"{len(junk)} stray bytes before a frame: {_describe(junk)}")
        end = buffer.find(ETX, 1)
        restart = buffer.find(STX, 1)
        if restart >= 0 and (end < 0 or restart < end):
            junk = bytes(buffer[:restart])
            del buffer[:restart]
            raise ProtocolError(f"frame cut short by a new STX: {_describe(junk)}")
        if end < 0:
            if len(buffer) > MAX_FRAME:
                junk = bytes(buffer)
                del buffer[:]
                raise ProtocolError(f"no ETX within {MAX_FRAME} bytes: {_describe(junk)}")
            return None
        if len(buffer) < end + 2:
            return None  # the checksum byte has not arrived yet
        frame = bytes(buffer[:end + 2])
        del buffer[:end + 2]
        return frame

    def decode(self, data: bytes) -> Frame:
        data = bytes(data)
        if len(data) < 5 or data[0] != STX or data[-2] != ETX:
            raise ProtocolError(f"not a loket-ascii frame (STX ADDR CMD TEXT ETX BCC): {_describe(data)}")
        body = data[1:-1]
        if checksum(body) != data[-1]:
            raise ProtocolError(f"bad checksum {data[-1]:#04x}, expected {checksum(body):#04x}: {_describe(data)}")
        address, command, payload = body[0] - 0x30, chr(body[1]), body[2:-1]
        if not 0 <= address <= self.MAX_ADDRESS:
            raise ProtocolError(f"bad address byte {body[0]:#04x}")
        if not command.isalpha() or any(not 0x20 <= b <= 0x7E for b in payload):
            raise ProtocolError(f"bad command or text: {_describe(data)}")
        return Frame(address, payload.decode("ascii"), command)


class PlainLineFormat(FrameFormat):
    """``<address>:<text>\\r\\n`` in ASCII (module docstring); width 0 sends the text as is."""

    name = "plain-line"
    acknowledges = False
    _LINE = re.compile(rb"^(\d{1,3}):([\x20-\x7e]*)$")

    def __init__(self, width: int = 0) -> None:
        super().__init__(width)

    def encode(self, address: int, text: str) -> bytes:
        if not 0 <= int(address) <= 999:
            raise ValueError(f"plain-line address must be 0-999, not {address}")
        shown = fit(text, self.width) if self.width else printable(text)
        return f"{int(address)}:{shown}\r\n".encode("ascii")

    def take(self, buffer: bytearray) -> bytes | None:
        return _take_line(buffer)

    def decode(self, data: bytes) -> Frame:
        match = self._LINE.match(bytes(data).rstrip(b"\r\n"))
        if match is None:
            raise ProtocolError(f"not a plain-line frame (<address>:<text>): {_describe(data)}")
        return Frame(int(match.group(1)), match.group(2).decode("ascii"))


def _take_line(buffer: bytearray) -> bytes | None:
    """Remove and return one ``\\n``-terminated line; drop an overlong one as garbage."""
    end = buffer.find(b"\n")
    if end < 0:
        if len(buffer) > MAX_FRAME:
            junk = bytes(buffer)
            del buffer[:]
            raise ProtocolError(f"no line end within {MAX_FRAME} bytes: {_describe(junk)}")
        return None
    line = bytes(buffer[:end + 1])
    del buffer[:end + 1]
    return line


def checksum(body: bytes) -> int:
    """XOR of ``body`` (loket-ascii: ADDR through ETX)."""
    value = 0
    for byte in body:
        value ^= byte
    return value


class FrameParser:
    """Cuts a byte stream into frames; never raises: garbage goes to :attr:`errors`."""

    def __init__(self, fmt: FrameFormat, max_errors: int = 100) -> None:
        self.format = fmt
        self.errors: list[str] = []
        self._buffer = bytearray()
        self._max_errors = max_errors

    def feed(self, data: bytes) -> list[Frame]:
        """Add received bytes; return the frames now complete (bad ones are logged and counted)."""
        self._buffer += data
        frames: list[Frame] = []
        while True:
            try:
                chunk = self.format.take(self._buffer)
                if chunk is None:
                    return frames
                frames.append(self.format.decode(chunk))
            except ProtocolError as exc:
                self._error(str(exc))

    def _error(self, reason: str) -> None:
        log.warning("%s: %s", self.format.name, reason)
        self.errors.append(reason)
        del self.errors[:-self._max_errors]


#: Registered frame formats by name.
FORMATS: dict[str, type[FrameFormat]] = {}


def register_format(cls: type[FrameFormat]) -> type[FrameFormat]:
    """Make ``cls`` selectable by its ``name`` (usable as a class decorator)."""
    if not cls.name:
        raise ValueError("a frame format needs a name")
    FORMATS[cls.name] = cls
    return cls


def make_format(name: str, **options) -> FrameFormat:
    """The frame format called ``name`` (options such as ``width`` passed on); ValueError if unknown."""
    try:
        cls = FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown display format {name!r}; known: {', '.join(sorted(FORMATS))}") from None
    return cls(**options)


register_format(LoketAsciiFormat)
register_format(PlainLineFormat)


# -- call keypads ------------------------------------------------------------------------
class Key(str, enum.Enum):
    """A keypad key; its value is the action name the server's ``keypad`` event takes."""

    NEXT = "next"
    RECALL = "recall"
    SKIP = "skip"
    FINISH = "finish"


_KEY_WORDS = {**{k.name: k for k in Key}, **{k.name[0]: k for k in Key}}
_KEY_LINE = re.compile(r"^K(\d{1,3}):([A-Za-z]+)$")


@dataclass(frozen=True)
class KeyPress:
    """One press: keypad ``address``, ``key``, and ``at`` (``time.monotonic()`` when read)."""

    address: int
    key: Key
    at: float = field(default_factory=time.monotonic, compare=False)


def encode_key_line(address: int, key: Key | str) -> bytes:
    """The line a keypad sends for ``key`` (full word), e.g. ``b"K1:NEXT\\r\\n"``."""
    key = Key(key) if not isinstance(key, Key) else key
    return f"K{int(address)}:{key.name}\r\n".encode("ascii")


def parse_key_line(line: bytes | str, at: float | None = None) -> KeyPress:
    """Parse one keypad line (with or without its line end); raises ProtocolError on garbage."""
    if isinstance(line, bytes):
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            raise ProtocolError(f"keypad line is not ASCII: {_describe(line)}") from None
    else:
        text = line
    text = text.strip("\r\n").strip()
    match = _KEY_LINE.match(text)
    if match is None:
        raise ProtocolError(f"keypad line {text[:40]!r} is not K<address>:<KEY>")
    key = _KEY_WORDS.get(match.group(2).upper())
    if key is None:
        raise ProtocolError(f"keypad line {text!r}: unknown key {match.group(2)!r} "
                            "(NEXT, RECALL, SKIP, FINISH or N, R, S, F)")
    return KeyPress(int(match.group(1)), key, at if at is not None else time.monotonic())


class KeyLineReader:
    """Cuts a keypad byte stream into presses; never raises: garbage goes to :attr:`errors`."""

    def __init__(self, max_errors: int = 100) -> None:
        self.errors: list[str] = []
        self._buffer = bytearray()
        self._max_errors = max_errors

    def feed(self, data: bytes, at: float | None = None) -> list[KeyPress]:
        """Add received bytes (read at ``at``); return the complete, valid presses."""
        self._buffer += data
        presses: list[KeyPress] = []
        while True:
            try:
                line = _take_line(self._buffer)
                if line is None:
                    return presses
                if line.strip():
                    presses.append(parse_key_line(line, at))
            except ProtocolError as exc:
                log.warning("keypad: %s", exc)
                self.errors.append(str(exc))
                del self.errors[:-self._max_errors]
