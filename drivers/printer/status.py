"""ESC/POS real-time status bytes (``DLE EOT n``, ``GS r 1``): the bits, both ways.

Transports decode the printer's replies with :func:`decode_status`; simulators build them
with :func:`encode_status` and :func:`encode_paper_sensor`, so both sides share one table.
Bit layout from Epson's ESC/POS reference (TM-T20/T82/T88 and most clones agree):

``DLE EOT n`` answers one byte whose fixed bits are ``0b0xx1_xx10``: bits 1 and 4 set,
bits 0 and 7 clear (``byte & 0x93 == 0x12``), which tells it apart from other data.

- n=1 printer status: bit 3 (0x08) offline.
- n=2 offline cause: bit 2 (0x04) cover open, bit 3 (0x08) paper fed by the FEED button,
  bit 5 (0x20) printing stopped at paper end, bit 6 (0x40) an error occurred.
- n=3 error cause: bit 2 (0x04) recoverable error, bit 3 (0x08) autocutter error,
  bit 5 (0x20) unrecoverable error, bit 6 (0x40) auto-recoverable error (head too hot).
- n=4 roll paper sensor: bits 2-3 (0x0C) near end, bits 5-6 (0x60) paper end.

``GS r 1`` (paper sensor, processed in order with the data, not real-time) answers one byte
with bit 4 clear: bits 0-1 (0x03) near end, bits 2-3 (0x0C) paper end.

After a ticket, :func:`printed_whole` decides from the ``DLE EOT 1`` and ``4`` replies
whether it printed whole: a printer that stops at paper end goes offline (Epson: "paper
end stop", ``ESC c 4``), so paper end or offline right after the job means it did not.
"""
from __future__ import annotations

from .base import PrinterState

DLE, EOT, GS = 0x10, 0x04, 0x1D
FIXED_MASK, FIXED_BITS = 0x93, 0x12

PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, ROLL_PAPER = 1, 2, 3, 4
OFFLINE_BIT = 0x08
COVER_OPEN, FEED_BUTTON, PAPER_END_STOP, ERROR_OCCURRED = 0x04, 0x08, 0x20, 0x40
RECOVERABLE, AUTOCUTTER, UNRECOVERABLE, AUTO_RECOVERABLE = 0x04, 0x08, 0x20, 0x40
NEAR_END, PAPER_END = 0x0C, 0x60
GS_R_NEAR_END, GS_R_PAPER_END = 0x03, 0x0C

#: Short reasons for staff (Indonesian / English), as the simulator and the agent use them.
REASONS = {
    "paper_out": "kertas habis / paper out",
    "paper_low": "kertas hampir habis / paper near end",
    "cover_open": "tutup printer terbuka / cover open",
    "offline": "printer offline",
    "autocutter": "pemotong kertas macet / autocutter error",
    "unrecoverable": "printer rusak, matikan dan nyalakan / unrecoverable error, power-cycle",
    "auto_recoverable": "kepala cetak terlalu panas / print head too hot",
    "error": "printer bermasalah / printer error",
    "no_answer": "printer tidak menjawab / no status reply",
    "interrupted": "tiket tidak tercetak utuh / ticket not printed whole",
    "no_confirmation": "printer tidak mengonfirmasi tiket / no confirmation of the ticket",
}


def query(n: int) -> bytes:
    """The ``DLE EOT n`` command."""
    return bytes((DLE, EOT, n))


def is_status_byte(byte: int) -> bool:
    """True when ``byte`` has the fixed bits of a ``DLE EOT`` reply."""
    return byte & FIXED_MASK == FIXED_BITS


def decode_status(printer: int, paper: int, offline_cause: int | None = None,
                  error_cause: int | None = None) -> tuple[PrinterState, str]:
    """(state, reason) from the replies to ``DLE EOT`` 1 and 4 (and 2, 3 when offline).

    Paper end wins over everything (real printers also go offline at paper end); a set
    offline bit is explained by the n=2 and n=3 replies when given; near end still prints.
    """
    if paper & PAPER_END:
        return PrinterState.PAPER_OUT, REASONS["paper_out"]
    if printer & OFFLINE_BIT:
        cause = offline_cause or 0
        if cause & COVER_OPEN:
            return PrinterState.PAPER_OUT, REASONS["cover_open"]
        if cause & PAPER_END_STOP:
            return PrinterState.PAPER_OUT, REASONS["paper_out"]
        if cause & ERROR_OCCURRED:
            err = error_cause or 0
            for bit, key in ((AUTOCUTTER, "autocutter"), (UNRECOVERABLE, "unrecoverable"),
                             (AUTO_RECOVERABLE, "auto_recoverable")):
                if err & bit:
                    return PrinterState.ERROR, REASONS[key]
            return PrinterState.ERROR, REASONS["error"]
        return PrinterState.OFFLINE, REASONS["offline"]
    if paper & NEAR_END:
        return PrinterState.PAPER_LOW, REASONS["paper_low"]
    return PrinterState.OK, ""


def printed_whole(printer: int, paper: int, offline_cause: int | None = None,
                  error_cause: int | None = None) -> tuple[bool, PrinterState, str]:
    """Whether the job just sent printed whole, from the ``DLE EOT 1`` and ``4`` replies read
    right after it (and ``2`` / ``3`` when offline, for the reason).

    Returns (whole, state, reason): ``whole`` is False when the roll reports paper end or
    the printer is offline (paper-end stop, cover opened, cutter jam: the slip may be cut
    short or left uncut); ``state`` and ``reason`` as :func:`decode_status`. Near end
    still prints whole. A paper end reached exactly with the job's last line also reads
    as not whole (the reprint is then a duplicate: the side chosen, see README).
    """
    state, reason = decode_status(printer, paper, offline_cause, error_cause)
    whole = not (paper & PAPER_END) and not (printer & OFFLINE_BIT)
    return whole, state, reason


def encode_status(state: PrinterState, n: int) -> int:
    """The byte a printer in ``state`` answers to ``DLE EOT n`` (for simulators)."""
    state = PrinterState(state)
    out, error = state is PrinterState.PAPER_OUT, state is PrinterState.ERROR
    byte = FIXED_BITS
    if n == PRINTER and (out or error):
        byte |= OFFLINE_BIT
    elif n == OFFLINE_CAUSE:
        byte |= (PAPER_END_STOP if out else 0) | (ERROR_OCCURRED if error else 0)
    elif n == ERROR_CAUSE and error:
        byte |= AUTOCUTTER
    elif n == ROLL_PAPER:
        byte |= (NEAR_END if state in (PrinterState.PAPER_LOW, PrinterState.PAPER_OUT) else 0) | (PAPER_END if out else 0)
    return byte


def encode_paper_sensor(state: PrinterState) -> int:
    """The byte a printer in ``state`` answers to ``GS r 1`` (for simulators)."""
    state = PrinterState(state)
    byte = GS_R_NEAR_END if state in (PrinterState.PAPER_LOW, PrinterState.PAPER_OUT) else 0
    return byte | (GS_R_PAPER_END if state is PrinterState.PAPER_OUT else 0)
