"""The ticket printer interface the kiosk agent sees, whatever the transport.

A transport (simulator now; USB, serial, network later) subclasses :class:`EscposTicketPrinter`
and implements only :meth:`EscposTicketPrinter.send` and :meth:`TicketPrinter.status`,
translating its library's errors into :mod:`drivers.errors`.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from .layout import columns, render_ticket


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
    """A queue-ticket printer."""

    @abstractmethod
    def print_ticket(self, job: dict) -> None:
        """Print one ticket; ``job`` has the shape documented in ``server.services.printing``.

        Returns when the printer accepted the whole ticket. Raises DeviceUnavailable when the
        printer cannot print now (retry later), DeviceError when this job cannot be printed.
        """

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Read the printer's state now (never raises: an unreachable printer is OFFLINE)."""

    def close(self) -> None:
        """Release the connection to the printer (no-op by default)."""


class EscposTicketPrinter(TicketPrinter):
    """An ESC/POS printer: lays out the ticket with :func:`render_ticket`, then :meth:`send`.

    ``width_mm``: paper width, 58 or 80. ``tz``: IANA zone the issue time is printed in
    (None: as given by the job's ``issued_at``; a job's ``office.timezone`` wins).
    """

    def __init__(self, width_mm: int = 80, tz: str | None = None) -> None:
        columns(width_mm)  # raises ValueError on an unsupported width
        self.width_mm = width_mm
        self.tz = tz

    def render(self, job: dict) -> bytes:
        """The ESC/POS bytes of ``job``'s ticket; raises DeviceError on a malformed job."""
        return render_ticket(job, self.width_mm, tz=self.tz)

    def print_ticket(self, job: dict) -> None:
        """Render ``job`` and send it; see :meth:`TicketPrinter.print_ticket`."""
        self.send(self.render(job))

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Write raw ESC/POS bytes to the printer.

        Raises DeviceUnavailable when the printer cannot take them now, DeviceError otherwise.
        """
