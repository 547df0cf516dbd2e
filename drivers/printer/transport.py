"""The part every python-escpos transport shares: sessions, status queries, error translation.

A transport (:mod:`.transports`) says how to open its ``escpos.printer`` object and, when it
can read, how to read one reply; :class:`EscposTransport` does the rest:

- ``print_ticket``: read the printer's status first (``DLE EOT 1`` and ``4``) and refuse with
  DeviceUnavailable unless it can print (a printer out of paper may take the bytes without a
  word), send the ticket, then ask ``DLE EOT 1`` and ``4`` once more: the first answer comes
  only after the printer received every byte before it (the confirmation), and the two
  bytes decide (:func:`.status.printed_whole`): paper end or offline means the slip was
  cut short, and no answer that the printer died mid-job; both raise PrintInterrupted
  (reprint it, marked). Any failure after the first byte of the job was written is
  PrintInterrupted; before it, plain DeviceUnavailable (nothing reached the paper);
- ``status``: the same query, never raising (an unreachable printer is OFFLINE);
- every library or OS error (socket timeouts, ``ConnectionResetError``, ``BrokenPipeError``,
  ``serial.SerialException``, ``usb.core.USBError``, ``escpos.exceptions.*``) becomes
  DeviceUnavailable (retry later) or DeviceError (this data cannot print).

Transports that cannot read (file, USB here) report OK whenever the device opens and
trust a write that succeeds; see drivers/printer/README.md.
"""
from __future__ import annotations

import sys
import threading
import time
from abc import abstractmethod
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from escpos import exceptions as escpos_errors

if sys.platform != "win32":  # pyserial lets termios.error (not an OSError) out of flush / reset_input_buffer
    from termios import error as _termios_error
else:  # pragma: no cover - not POSIX: no termios
    class _termios_error(Exception):  # noqa: N801
        pass

from ..errors import DeviceError, DeviceUnavailable
from .base import EscposTicketPrinter, PrinterState, PrinterStatus, PrintInterrupted
from .status import (ERROR_OCCURRED, OFFLINE_BIT, PAPER_END, REASONS, decode_status, is_status_byte, printed_whole,
                     query)

#: Detail of an OK status on a transport that cannot read the printer's state.
NO_READBACK = "tanpa status dari printer / no status read-back"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:160]


@contextmanager
def translated(where: str) -> Iterator[None]:
    """Turn library and OS errors raised inside into DeviceUnavailable / DeviceError."""
    try:
        yield
    except DeviceError:
        raise
    except escpos_errors.DeviceNotFoundError as exc:  # open failed; the OSError is its context
        raise DeviceUnavailable(f"printer tidak terjangkau / unreachable ({where}: {_short(exc.__context__ or exc)})") from exc
    except TimeoutError as exc:  # socket.timeout
        raise DeviceUnavailable(f"printer tidak menjawab / timed out ({where})") from exc
    except ConnectionError as exc:  # reset, refused, broken pipe, aborted
        raise DeviceUnavailable(f"koneksi printer terputus / connection lost ({where}: {_short(exc)})") from exc
    except (OSError, _termios_error) as exc:  # serial.SerialException, usb.core.USBError, ENODEV, EIO...
        raise DeviceUnavailable(f"printer tidak tersedia / I/O error ({where}: {_short(exc)})") from exc
    except (escpos_errors.Error, ValueError, RuntimeError, AssertionError, AttributeError) as exc:
        raise DeviceError(f"printer: {where}: {_short(exc)}") from exc


class EscposTransport(EscposTicketPrinter):
    """A ticket printer on a python-escpos transport; see the module docstring.

    ``reads_status``: query the printer's real status (needs a transport that can read).
    ``status_timeout``: seconds to wait for one status reply. ``keep_open``: keep the device
    open between operations (serial, file, USB) instead of one connection per operation
    (network). Thread-safe: operations are serialised.
    """

    keep_open = True
    can_read = False

    def __init__(self, width_mm: int = 80, tz: str | None = None, *, reads_status: bool | None = None,
                 status_timeout: float = 1.0, confirm_timeout: float = 5.0) -> None:
        super().__init__(width_mm, tz)
        self.reads_status = self.can_read if reads_status is None else (reads_status and self.can_read)
        self.status_timeout, self.confirm_timeout = status_timeout, confirm_timeout
        self.last_answer_at: datetime | None = None
        self._printer = None
        self._lock = threading.RLock()

    # -- for transports -------------------------------------------------------------------
    @property
    @abstractmethod
    def where(self) -> str:
        """Where the printer is, for messages ("tcp 10.0.0.5:9100")."""

    @abstractmethod
    def _open(self):
        """Open and return the ``escpos.printer`` object (library errors are translated)."""

    def _read_reply(self, printer, timeout: float) -> bytes:
        """Bytes the printer sent, waiting up to ``timeout`` s (b"" when none came)."""
        raise NotImplementedError

    def _discard_input(self, printer) -> None:
        """Drop bytes already received (a late reply must not answer the next query)."""

    # -- TicketPrinter --------------------------------------------------------------------
    def print_ticket(self, job: dict) -> None:
        """Check the status, send the ticket, confirm it printed whole; see TicketPrinter.

        Raises DeviceUnavailable (nothing sent: the printer cannot print now, or cannot be
        reached), PrintInterrupted (sent, but not printed whole or not confirmed: reprint),
        DeviceError (this job cannot print).
        """
        data = self.render(job)
        sending = False
        with self._lock:
            try:
                with self._session() as printer:
                    if self.reads_status:
                        status = self._query(printer)
                        if not status.printable:
                            raise DeviceUnavailable(status.detail or status.state.value)
                    sending = True  # from here on part of the slip may reach the paper
                    printer._raw(data)
                    if self.reads_status:
                        self._confirm(printer)
                    else:
                        self._answered()
            except PrintInterrupted:
                raise
            except DeviceUnavailable as exc:
                if sending:  # the link or the printer died during the job
                    raise PrintInterrupted(f"{REASONS['interrupted']}: {exc}") from exc
                raise

    def send(self, data: bytes) -> None:
        """Write raw bytes, without any status check (a paper-out printer may swallow them)."""
        with self._lock, self._session() as printer:
            printer._raw(bytes(data))
            self._answered()

    def status(self) -> PrinterStatus:
        """The printer's state now; never raises (unreachable: OFFLINE with the reason)."""
        with self._lock:
            try:
                with self._session() as printer:
                    if self.reads_status:
                        return self._query(printer)
                    return PrinterStatus(PrinterState.OK, NO_READBACK, self._answered())
            except DeviceError as exc:
                return PrinterStatus(PrinterState.OFFLINE, str(exc), self.last_answer_at)

    def close(self) -> None:
        """Close the device (reopened by the next operation)."""
        with self._lock:
            self._drop()

    # -- internals ------------------------------------------------------------------------
    @contextmanager
    def _session(self):
        """The open device for one operation: closed afterwards unless ``keep_open``, and
        always after an error (the next operation reopens it)."""
        ok = False
        try:
            with translated(self.where):
                if self._printer is None:
                    self._printer = self._open()
                yield self._printer
            ok = True
        finally:
            if not ok or not self.keep_open:
                self._drop()

    def _drop(self) -> None:
        printer, self._printer = self._printer, None
        if printer is not None:
            try:
                printer.close()
            except Exception:  # a dead device (serial close flushes first): close the handle only,
                handle = getattr(printer, "_device", None)  # and stop Escpos.__del__ retrying
                try:
                    if handle:
                        handle.close()
                except Exception:
                    pass
                printer._device = False

    def _answered(self) -> datetime:
        self.last_answer_at = datetime.now(timezone.utc)
        return self.last_answer_at

    def _confirm(self, printer) -> None:
        """After a job: ``DLE EOT 1`` (answered once every byte before it arrived) and ``4``,
        and ``2`` / ``3`` for the reason when offline; PrintInterrupted unless the printer
        is online with paper (:func:`.status.printed_whole`) or when it does not answer."""
        try:
            with translated(self.where):  # a reset while asking: no confirmation either
                online = self._ask(printer, 1, self.confirm_timeout)
                paper = self._ask(printer, 4)
                cause = error = None
                if online & OFFLINE_BIT and not paper & PAPER_END:
                    cause = self._ask(printer, 2)
                    if cause & ERROR_OCCURRED:
                        error = self._ask(printer, 3)
        except DeviceUnavailable as exc:
            raise PrintInterrupted(f"{REASONS['no_confirmation']}: {exc}") from exc
        whole, _state, reason = printed_whole(online, paper, cause, error)
        if not whole:
            raise PrintInterrupted(f"{REASONS['interrupted']}: {reason}")

    def _query(self, printer) -> PrinterStatus:
        """``DLE EOT`` 1 and 4, and 2 / 3 to explain an offline printer."""
        online, paper = self._ask(printer, 1), self._ask(printer, 4)
        cause = error = None
        if online & OFFLINE_BIT and not paper & PAPER_END:
            cause = self._ask(printer, 2)
            if cause & ERROR_OCCURRED:
                error = self._ask(printer, 3)
        state, detail = decode_status(online, paper, cause, error)
        return PrinterStatus(state, detail, self.last_answer_at)

    def _ask(self, printer, n: int, timeout: float | None = None) -> int:
        """Send ``DLE EOT n``; the reply byte (other bytes, e.g. ASB, are skipped)."""
        self._discard_input(printer)
        printer._raw(query(n))
        deadline = time.monotonic() + (timeout or self.status_timeout)
        while (remaining := deadline - time.monotonic()) > 0:
            for byte in self._read_reply(printer, remaining):
                if is_status_byte(byte):
                    self._answered()
                    return byte
        raise DeviceUnavailable(f"{REASONS['no_answer']} ({self.where})")
