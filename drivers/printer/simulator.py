"""A simulated ESC/POS ticket printer that reads the bytes a real one would get.

:class:`SimulatedPrinter` takes the exact bytes of :func:`render_ticket` and parses them
with :func:`parse_escpos` (text lines, native QR payloads, cuts), so a layout bug shows up
in the simulator as on paper. Faults on demand: :meth:`SimulatedPrinter.set_state`.
Used by the tests and by ``loket demo`` (which writes each ticket to a text file).
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

from escpos.capabilities import get_profile
from escpos.codepages import CodePages

from ..errors import DeviceError, DeviceUnavailable
from .base import PRINTABLE_STATES, EscposTicketPrinter, PrinterState, PrinterStatus

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
# Total length (prefix, command byte and fixed arguments) of fixed-size commands.
_ESC_FIXED = {**dict.fromkeys(b"@2<", 2), **dict.fromkeys(b"EatM!-{dJGVr 3=U%Re", 3),
              **dict.fromkeys(b"cB$\\", 4), ord("p"): 5}
_GS_FIXED = {**dict.fromkeys(b"!BhwHfbaIr", 3), **dict.fromkeys(b"LWP", 4)}
_FS_FIXED = {ord("."): 2, ord("&"): 2, ord("C"): 3, ord("p"): 4}
_DLE_FIXED = {0x04: 3, 0x05: 3, 0x14: 5}

REASONS = {
    PrinterState.PAPER_OUT: "kertas habis / paper out",
    PrinterState.OFFLINE: "printer offline",
    PrinterState.ERROR: "printer bermasalah / printer error",
}


@lru_cache(maxsize=None)
def _codepage(n: int) -> tuple[str, ...]:
    """Characters 128-255 of ESC/POS code page ``n`` (default profile), as python-escpos encodes."""
    name = get_profile().codePages.get(str(n), "Unknown")
    try:
        page = CodePages.get_encoding(name)
    except KeyError:
        return ("?",) * 128
    if "data" in page:
        return tuple("".join(page["data"]))
    chars = []
    for code in range(128, 256):
        try:
            chars.append(bytes([code]).decode(page["python_encode"]))
        except (UnicodeDecodeError, LookupError, KeyError):
            chars.append("?")
    return tuple(chars)


class _Paper:
    """The parser's state: the ticket being printed and the current text mode."""

    def __init__(self) -> None:
        self.tickets: list[dict] = []
        self.reset_mode()
        self.new_ticket()

    def reset_mode(self) -> None:
        self.codepage, self.size, self.qr_store = 0, 1, b""

    def new_ticket(self) -> None:
        self.ticket: dict = {"lines": [], "large": [], "qr": [], "cut": False}
        self.line: list[str] = []
        self.line_large, self.dirty = False, False

    def text(self, data: bytes) -> None:
        page = _codepage(self.codepage)
        self.line.append("".join(chr(b) if b < 128 else page[b - 128] for b in data))
        self.line_large |= self.size > 1
        self.dirty = True

    def end_line(self) -> None:
        line = "".join(self.line)
        self.ticket["lines"].append(line)
        if self.line_large:
            self.ticket["large"].append(line)
        self.line, self.line_large, self.dirty = [], False, True

    def cut(self) -> None:
        if self.line:
            self.end_line()
        self.ticket["cut"] = True
        self.tickets.append(self.ticket)
        self.new_ticket()

    def finish(self) -> list[dict]:
        if self.line:
            self.end_line()
        if self.dirty:
            self.tickets.append(self.ticket)
        return self.tickets


def _store_2d(paper: _Paper, body: bytes) -> None:
    """``GS ( k`` function body (cn fn [m] data): keep the QR payload, print it on fn 81."""
    cn, fn = body[0], body[1]
    if cn != 49:  # not QR (PDF417, MaxiCode, ...): ignored
        return
    if fn == 80:
        paper.qr_store = body[3:]
    elif fn == 81:
        paper.ticket["qr"].append(paper.qr_store.decode("utf-8", errors="replace"))
        paper.dirty = True


def _variable_length(data: bytes | bytearray, i: int) -> int:
    """Length of the variable-size command at ``i``; ValueError when unknown."""
    prefix, cmd = data[i], data[i + 1]
    if prefix == GS and cmd == ord("("):
        return 5 + data[i + 3] + 256 * data[i + 4]
    if prefix == GS and cmd == ord("V"):
        return 4 if data[i + 2] in (65, 66) else 3
    if prefix == GS and cmd == ord("v"):  # GS v 0 m xL xH yL yH d...
        return 8 + (data[i + 4] + 256 * data[i + 5]) * (data[i + 6] + 256 * data[i + 7])
    if prefix == GS and cmd == ord("k"):  # barcode: NUL-terminated (m <= 6) or counted
        m = data[i + 2]
        return data.index(0, i + 3) - i + 1 if m <= 6 else 4 + data[i + 3]
    if prefix == ESC and cmd == ord("*"):  # bit image column format
        dots = data[i + 3] + 256 * data[i + 4]
        return 5 + dots * (1 if data[i + 2] in (0, 1) else 3)
    if prefix == ESC and cmd == ord("D"):  # tab stops, NUL-terminated
        return data.index(0, i + 2) - i + 1
    raise ValueError(f"unknown ESC/POS command {bytes(data[i:i + 2])!r} at byte {i}")


def parse_escpos(data: bytes) -> list[dict]:
    """Read ESC/POS bytes as a printer would; returns the printed tickets in order.

    Each ticket: ``{"lines": [str], "large": [str], "qr": [str], "cut": bool}``: text lines
    (decoded with the selected code page; line feeds by ``ESC d`` are not lines), the lines
    printed with enlarged characters, the payloads of printed native QR codes, and whether
    a cut (``GS V``) ended it. Formatting commands are skipped by their known lengths.
    Raises ValueError on an unknown or truncated command.
    """
    paper = _Paper()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b >= 0x20:
            j = i
            while j < n and data[j] >= 0x20:
                j += 1
            paper.text(data[i:j])
            i = j
            continue
        if b in (0x0A, 0x0C):  # LF, FF
            paper.end_line()
            i += 1
            continue
        if b in (0x0D, 0x07, 0x00):  # CR, BEL, NUL: nothing printed
            i += 1
            continue
        if b == 0x09:
            paper.text(b" ")
            i += 1
            continue
        if b not in (ESC, GS, FS, DLE) or i + 1 >= n:
            raise ValueError(f"unexpected byte {b:#04x} at byte {i}")
        cmd = data[i + 1]
        table = {ESC: _ESC_FIXED, GS: _GS_FIXED, FS: _FS_FIXED, DLE: _DLE_FIXED}[b]
        try:
            length = table.get(cmd) or _variable_length(data, i)
        except IndexError:
            raise ValueError(f"truncated ESC/POS command at byte {i}") from None
        if i + length > n:
            raise ValueError(f"truncated ESC/POS command {bytes(data[i:i + 2])!r} at byte {i}")
        args = data[i + 2:i + length]
        if b == ESC and cmd == ord("@"):
            paper.reset_mode()
        elif b == ESC and cmd == ord("t"):
            paper.codepage = args[0]
        elif b == ESC and cmd == ord("!"):
            paper.size = 2 if args[0] & 0x30 else 1
        elif b == GS and cmd == ord("!"):
            paper.size = max((args[0] >> 4) + 1, (args[0] & 0x0F) + 1)
        elif b == GS and cmd == ord("(") and args[0] == ord("k"):
            _store_2d(paper, args[3:])
        elif b == GS and cmd == ord("V"):
            paper.cut()
        i += length
    return paper.finish()


class SimulatedPrinter(EscposTicketPrinter):
    """A ticket printer in memory: parses what it is sent, with faults on demand.

    ``printed``: parsed tickets (see :func:`parse_escpos`); ``raw``: every byte accepted.
    ``paper_dir``: when set, each ticket printed by :meth:`print_ticket` is also written to
    ``<paper_dir>/<job_id>.txt``. Thread-safe.
    """

    def __init__(self, width_mm: int = 80, tz: str | None = None, paper_dir: Path | str | None = None) -> None:
        super().__init__(width_mm, tz)
        self.paper_dir = Path(paper_dir) if paper_dir else None
        self.printed: list[dict] = []
        self.raw = bytearray()
        self._state, self._detail = PrinterState.OK, ""
        self._last_answer: datetime | None = None
        self._lock = threading.Lock()

    def set_state(self, state: PrinterState, detail: str = "") -> None:
        """Put the printer in ``state`` (e.g. PAPER_OUT); ``detail`` replaces the default reason."""
        with self._lock:
            self._state, self._detail = PrinterState(state), detail

    def status(self) -> PrinterStatus:
        """The simulated state; an offline printer does not answer (last_answer_at unchanged)."""
        with self._lock:
            if self._state != PrinterState.OFFLINE:
                self._last_answer = datetime.now(timezone.utc)
            detail = self._detail or REASONS.get(self._state, "")
            return PrinterStatus(self._state, detail, self._last_answer)

    def send(self, data: bytes) -> None:
        """Accept raw ESC/POS bytes; DeviceUnavailable unless printable, DeviceError if unparsable."""
        self._accept(data)

    def print_ticket(self, job: dict) -> None:
        """Render, print and (with ``paper_dir``) write the ticket's text; see TicketPrinter."""
        tickets = self._accept(self.render(job))
        if self.paper_dir is not None:
            name = "".join(c for c in str(job.get("job_id", "ticket")) if c.isalnum() or c in "-_") or "ticket"
            self.paper_dir.mkdir(parents=True, exist_ok=True)
            text = "\n\n".join("\n".join(t["lines"] + [f"[QR] {q}" for q in t["qr"]]) for t in tickets)
            (self.paper_dir / f"{name}.txt").write_text(text + "\n", encoding="utf-8")

    def _accept(self, data: bytes) -> list[dict]:
        with self._lock:
            if self._state not in PRINTABLE_STATES:
                reason = REASONS.get(self._state, self._state.value)
                raise DeviceUnavailable(f"{reason}: {self._detail}" if self._detail else reason)
            try:
                tickets = parse_escpos(bytes(data))
            except ValueError as exc:
                raise DeviceError(f"data tidak dikenali printer / bad ESC/POS data: {exc}") from exc
            self.raw += data
            self.printed.extend(tickets)
            self._last_answer = datetime.now(timezone.utc)
            return tickets
