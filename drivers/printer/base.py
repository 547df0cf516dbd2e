"""The ticket printer interface the kiosk agent sees, whatever the transport.

It prints any print job: a queue ticket (``kind`` "ticket" or absent, layout in
:mod:`.layout`) or a resi, the application receipt (``kind`` "resi", layout in
:mod:`.resi_layout`; source: issue 4, "The resi").

A transport (simulator now; USB, serial, network later) subclasses :class:`EscposTicketPrinter`
and implements only :meth:`EscposTicketPrinter.send` and :meth:`TicketPrinter.status`,
translating its library's errors into :mod:`drivers.errors`.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from ..errors import DeviceError, DeviceUnavailable
from .layout import columns, render_ticket
from .resi_layout import render_resi

#: Print job kind rendered as a resi (application receipt); "ticket" or no kind: a ticket.
RESI_KIND = "resi"


class PrinterState(enum.Enum):
    """What the printer can do right now."""

    OK = "ok"
    """Online, paper loaded, no fault: tickets print."""

    PAPER_LOW = "paper_low"
    """Near-end sensor tripped: tickets still print, staff should change the roll soon."""

    PAPER_OUT = "paper_out"
    """No paper (or cover open on most models): printing raises DeviceUnavailable."""

    OFFLINE = "offline"
    """No answer (unplugged, powered off, cable or network down): printing raises DeviceUnavailable."""

    ERROR = "error"
    """The printer answers but reports a fault (cutter jam, head too hot): printing raises DeviceUnavailable."""


class PrintInterrupted(DeviceUnavailable):
    """Some of the job's bytes went to the printer but it did not print the slip whole: the
    paper ran out or the printer went offline during the job (the status read right after
    it says so), or it lost power / the link before confirming it.

    A part of the slip may be on the paper, without its cut. The caller prints the job
    again, marked as a reprint, once the printer is back. ``str(exc)`` is a short reason
    for staff, e.g. "tiket tidak tercetak utuh / ticket not printed whole: kertas habis /
    paper out".
    """


#: States in which a ticket can be printed.
PRINTABLE_STATES = frozenset({PrinterState.OK, PrinterState.PAPER_LOW})
#: States that need a person at the kiosk (change paper, clear a jam, plug in).
ATTENTION_STATES = frozenset({PrinterState.PAPER_LOW, PrinterState.PAPER_OUT, PrinterState.OFFLINE, PrinterState.ERROR})


@dataclass(frozen=True)
class PrinterStatus:
    """One status reading.

    ``state``: see :class:`PrinterState`. ``detail``: a short human reason ("" when OK).
    ``last_answer_at``: when the printer last answered (timezone-aware UTC), None if never.
    """

    state: PrinterState
    detail: str = ""
    last_answer_at: datetime | None = None

    @property
    def printable(self) -> bool:
        """True when a ticket can be printed in this state."""
        return self.state in PRINTABLE_STATES


class TicketPrinter(ABC):
    """A queue-ticket printer; it also prints resi (application receipts)."""

    @abstractmethod
    def print_ticket(self, job: dict) -> None:
        """Print one print job: a queue ticket (shape in ``server.services.printing``) or,
        with ``kind: "resi"``, a resi (shape in ``server.services.applications.resi_print``).

        Returns when the printer accepted the whole slip. Raises DeviceUnavailable when the
        printer cannot print now and nothing of the job was sent (retry later),
        PrintInterrupted (a DeviceUnavailable) when part of it may be on the paper (reprint
        it, marked as a reprint, when the printer is back), DeviceError when this job cannot
        be printed.
        """

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Read the printer's state now (never raises: an unreachable printer is OFFLINE)."""

    def close(self) -> None:
        """Release the connection to the printer (no-op by default)."""


class EscposTicketPrinter(TicketPrinter):
    """An ESC/POS printer: lays out the job with :func:`render_ticket` or :func:`render_resi`
    (by the job's ``kind``), then :meth:`send`.

    ``width_mm``: paper width, 58 or 80. ``tz``: IANA zone the issue / registration time is
    printed in (None: as given by the job; a job's ``office.timezone`` wins).
    """

    def __init__(self, width_mm: int = 80, tz: str | None = None) -> None:
        columns(width_mm)  # raises ValueError on an unsupported width
        self.width_mm = width_mm
        self.tz = tz

    def render(self, job: dict) -> bytes:
        """The ESC/POS bytes of ``job``: a resi when ``job["kind"]`` is "resi", a queue ticket
        when it is "ticket" or absent.

        Raises DeviceError on a malformed job or an unknown ``kind`` ("unknown print job kind").
        """
        kind = job.get("kind") if isinstance(job, dict) else None
        if kind == RESI_KIND:
            return render_resi(job, self.width_mm, tz=self.tz)
        if kind is None or kind == "ticket":
            return render_ticket(job, self.width_mm, tz=self.tz)
        raise DeviceError(f"jenis cetakan tidak dikenal / unknown print job kind: {kind!r}")

    def print_ticket(self, job: dict) -> None:
        """Render ``job`` (ticket or resi) and send it; see :meth:`TicketPrinter.print_ticket`."""
        self.send(self.render(job))

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Write raw ESC/POS bytes to the printer.

        Raises DeviceUnavailable when the printer cannot take them now, DeviceError otherwise.
        """
