"""The receiving side of an ESC/POS printer: a byte stream in, status replies and tickets out.

:class:`PrinterStream` is what the simulators on real transports (the TCP endpoint in
:mod:`.tcp_simulator`, the serial printer of the tests) put behind their socket or pty: fed
the bytes as they arrive, in chunks of any size, it answers the status queries at once
(``DLE EOT n`` in real time, ``GS r 1`` in order), keeps every other byte of the ticket
being printed, and at each cut (``GS V``) parses that ticket with :func:`parse_escpos`.
Faults on demand: :meth:`PrinterStream.set_state`, and :meth:`PrinterStream.paper_out_after`
(the roll ends after N more print bytes: a partial slip without a cut, then paper end).
Thread-safe.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .base import PrinterState
from .simulator import _DLE_FIXED, _ESC_FIXED, _FS_FIXED, _GS_FIXED, _variable_length, parse_escpos
from .status import encode_paper_sensor, encode_status

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
_TABLES = {ESC: _ESC_FIXED, GS: _GS_FIXED, FS: _FS_FIXED, DLE: _DLE_FIXED}
_VARIABLE = {(GS, ord("(")), (GS, ord("V")), (GS, ord("v")), (GS, ord("k")), (ESC, ord("*")), (ESC, ord("D"))}
_REALTIME = {0x04, 0x05, 0x14}  # DLE EOT, DLE ENQ, DLE DC4: answered or acted on, never printed
QR_ECC = {48: "L", 49: "M", 50: "Q", 51: "H"}


def command_length(buf: bytes | bytearray, i: int) -> int | None:
    """Length of the command (or text run) starting at ``buf[i]``; None until it is complete.

    Raises ValueError on a command no ESC/POS printer of ours knows.
    """
    n, b = len(buf), buf[i]
    if b >= 0x20:
        j = i
        while j < n and buf[j] >= 0x20:
            j += 1
        return j - i
    if b not in _TABLES:
        return 1  # LF, CR, HT...: parse_escpos judges them
    if i + 1 >= n:
        return None
    cmd = buf[i + 1]
    length = _TABLES[b].get(cmd)
    if length is None:
        if (b, cmd) not in _VARIABLE:
            raise ValueError(f"unknown ESC/POS command {bytes(buf[i:i + 2])!r}")
        try:
            length = _variable_length(buf, i)
        except (IndexError, ValueError):  # header or NUL terminator not here yet
            return None
    return length if i + length <= n else None


@dataclass(frozen=True)
class QrSymbol:
    """A native QR code as the printer was told to print it (``GS ( k``, cn 49)."""

    data: str
    module_size: int = 3
    ecc: str = "L"
    model: int = 2


@dataclass
class ReceivedTicket:
    """One ticket as printed: :func:`parse_escpos` fields, the QR settings, the exact bytes
    (status queries left out) and when its cut arrived (``time.time()``)."""

    lines: list[str]
    large: list[str]
    qr: list[str]
    cut: bool
    qr_codes: list[QrSymbol] = field(default_factory=list)
    raw: bytes = b""
    received_at: float = 0.0


def qr_symbols(data: bytes) -> list[QrSymbol]:
    """The QR codes printed by ``data``, with the module size and ECC level in force."""
    module_size, ecc, model = 3, "L", 2
    stored, i = b"", 0
    out: list[QrSymbol] = []
    while i < len(data):
        length = command_length(data, i) or len(data) - i
        if data[i] == GS and data[i + 1:i + 3] == b"(k" and length >= 7 and data[i + 5] == 49:
            fn, arg = data[i + 6], data[i + 7:i + length]
            if fn == 65 and arg:  # 'A': model (49 model 1, 50 model 2, 51 micro)
                model = {49: 1, 50: 2, 51: 0}.get(arg[0], 2)
            elif fn == 67 and arg:  # 'C': module size in dots
                module_size = arg[0]
            elif fn == 69 and arg:  # 'E': error correction level
                ecc = QR_ECC.get(arg[0], "L")
            elif fn == 80:  # 'P': store data (after m = '0')
                stored = arg[1:]
            elif fn == 81:  # 'Q': print the stored symbol
                out.append(QrSymbol(stored.decode("utf-8", errors="replace"), module_size, ecc, model))
        i += length
    return out


class PrinterStream:
    """A printer's input side; see the module docstring.

    ``tickets``: :class:`ReceivedTicket` in order (a slip cut short has ``cut`` False);
    ``received``: every byte fed; ``swallowed``: print bytes dropped while out of paper;
    ``errors``: unparsable input. In PAPER_OUT the printer answers status with the
    paper-end bits and silently drops the print data (what a real one in that state may
    do: the sender sees a good write). In OFFLINE it answers nothing (the transport
    endpoint also drops connections).

    ``on_cut``: called with each complete ticket as its cut is read, before any status
    query after it is answered (tests use it to act "the moment the printer has the cut").
    It runs with the stream's lock held: it must not call back into the stream.
    """

    def __init__(self, state: PrinterState = PrinterState.OK,
                 on_cut: Callable[[ReceivedTicket], None] | None = None) -> None:
        self.state = PrinterState(state)
        self.tickets: list[ReceivedTicket] = []
        self.received = bytearray()
        self.swallowed = 0
        self.errors: list[str] = []
        self.on_cut = on_cut
        self._paper_left: int | None = None  # print bytes left on the roll (None: plenty)
        self._pending = bytearray()  # bytes not yet a complete command
        self._ticket = bytearray()  # commands of the ticket being printed
        self._cond = threading.Condition()

    def set_state(self, state: PrinterState) -> None:
        """Switch to ``state`` (ok, paper_low, paper_out, offline, error); a new roll (any
        state) also ends a pending :meth:`paper_out_after`."""
        with self._cond:
            self.state = PrinterState(state)
            self._paper_left = None

    def paper_out_after(self, nbytes: int) -> None:
        """The roll ends after ``nbytes`` more print bytes (status queries do not count).

        As a printer with "paper-end stop" (Epson ``ESC c 4``): the bytes that fit are
        printed; the ticket in progress stays on the paper as it is, without its cut (kept
        in :attr:`tickets` with ``cut`` False); the rest of the data is dropped; from then
        on the printer answers paper end (and offline) until :meth:`set_state`.
        ``nbytes`` 0: at the next print byte. Raises ValueError when negative.
        """
        if nbytes < 0:
            raise ValueError("nbytes must be >= 0")
        with self._cond:
            self._paper_left = int(nbytes)

    def feed(self, data: bytes) -> bytes:
        """Take ``data`` as received; returns the status replies to send back."""
        replies = bytearray()
        with self._cond:
            self.received += data
            self._pending += data
            buf, i = self._pending, 0
            while i < len(buf):
                try:
                    length = command_length(buf, i)
                except ValueError as exc:
                    self.errors.append(f"{exc} after {len(self.received) - len(buf) + i} bytes")
                    i = len(buf)  # cannot resynchronise: drop what we have
                    break
                if length is None:
                    break
                self._command(bytes(buf[i:i + length]), replies)
                i += length
            del buf[:i]
            self._cond.notify_all()
        return bytes(replies)

    def _command(self, cmd: bytes, replies: bytearray) -> None:
        answering = self.state is not PrinterState.OFFLINE
        if cmd[0] == DLE and cmd[1] in _REALTIME:
            if cmd[1] == 0x04 and answering:
                replies.append(encode_status(self.state, cmd[2]))
            return
        if cmd[0] == GS and cmd[1] == ord("r"):
            if cmd[2] in (1, 49) and answering:
                replies.append(encode_paper_sensor(self.state))
            return
        if self.state is PrinterState.PAPER_OUT or not answering:
            self.swallowed += len(cmd)
            return
        if self._paper_left is not None:
            if len(cmd) > self._paper_left:
                self._run_out(cmd)
                return
            self._paper_left -= len(cmd)
        self._ticket += cmd
        if cmd[0] == GS and cmd[1] == ord("V"):
            self._finish(cut=True)
        if self._paper_left == 0:
            self._run_out()

    def _run_out(self, cmd: bytes = b"") -> None:
        """The roll ends inside ``cmd``: a text run prints the characters that fit, a
        command is lost whole; the partial slip is kept uncut, the printer is out of paper."""
        left = self._paper_left
        assert left is not None  # called only while a roll length is set (_take)
        fit = left if cmd[:1] >= b"\x20" else 0
        self._ticket += cmd[:fit]
        self.swallowed += len(cmd) - fit
        if self._ticket:
            self._finish(cut=False)
        self.state, self._paper_left = PrinterState.PAPER_OUT, None

    def _finish(self, cut: bool) -> None:
        data = bytes(self._ticket)
        self._ticket.clear()
        try:
            parsed = parse_escpos(data)
        except ValueError as exc:
            self.errors.append(str(exc))
            return
        now = time.time()
        for t in parsed:
            ticket = ReceivedTicket(t["lines"], t["large"], t["qr"], t["cut"] and cut, qr_symbols(data), data, now)
            self.tickets.append(ticket)
            if ticket.cut and self.on_cut is not None:
                self.on_cut(ticket)

    def end_of_stream(self, aborted: bool = False) -> None:
        """The connection ended: print what is left without a cut, or drop it when ``aborted``
        (the printer lost power mid-job)."""
        with self._cond:
            self._pending.clear()
            if aborted:
                self._ticket.clear()
            elif self._ticket:
                self._finish(cut=False)
            self._cond.notify_all()

    def wait_for_tickets(self, count: int, timeout: float = 10.0) -> list[ReceivedTicket]:
        """The tickets once at least ``count`` have arrived; TimeoutError after ``timeout`` s."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.tickets) >= count, timeout):
                raise TimeoutError(f"{len(self.tickets)} of {count} tickets after {timeout} s")
            return list(self.tickets)
