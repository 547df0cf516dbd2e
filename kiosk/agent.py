"""The kiosk agent: takes print jobs from the server over Socket.IO and prints them.

The same program is a counter's resi printer (``loket agent printer``, a ``printer``
device): both print whatever jobs the server sends to their device.

Built on :class:`drivers.station.StationAgent` (connection with back-off, health reports,
reliable outbox). The server sends ``print_job`` to this device's room: a queue ticket
(``kind`` "ticket" or absent, with ``ticket_id``; shape in ``server.services.printing``) or
a resi (``kind`` "resi", with ``application_id``; shape in
``server.services.applications.resi_print``). The agent answers ``print_result``
``{"job_id", "ticket_id", "ok", "error"}`` (a resi: ``"application_id"`` instead of
``"ticket_id"``) through the outbox (acked, kept and resent after a reconnect), and reports
its printer as ``health`` ``{"printer": DeviceHealth}``.

Optionally the kiosk also owns a QR camera and/or a barcode scanner (``--camera``,
``--scanner``; :mod:`kiosk.scanning`): each booking QR it reads goes to the server as
``scan`` and opens this kiosk's check-in screen with the booking code filled in; the
camera and scanner are reported in ``health`` next to the printer.

Rules: a job id is printed at most once; jobs print in arrival order; when the printer is
unavailable the agent reports the failure at once (the kiosk page shows the ticket on
screen) and keeps the job, polls ``printer.status()`` every ``poll_s`` and prints it when
the printer is back, then reports success. Jobs still unprinted after ``job_ttl_s`` are
dropped (the citizen has long left with the on-screen ticket). While idle the printer is
polled every ``status_interval_s`` (a printer out of paper may accept bytes silently, so
the agent trusts its status, not a write); every state change is reported at once.

Command line (``loket agent kiosk ...`` or ``python -m kiosk.agent ...``): see :func:`main`.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.printer.base import PrinterState, PrinterStatus, TicketPrinter
from drivers.qr.decoders import Decoder
from drivers.qr.reading import add_reading_options, devices_from_args
from drivers.qr.sources import FrameSource, ScannerReader
from drivers.station import DeviceHealth, StationAgent

from .scanning import DEFAULT_HOLD_S, KioskScanning, demo_scanner

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    job: dict
    received: float = field(default_factory=time.monotonic)
    failure_reported: bool = False


def _well_formed(job) -> bool:
    """A job this agent can take: a dict with a job id and the id its result names (the
    ticket's, or for ``kind`` "resi" the application's)."""
    if not isinstance(job, dict) or not job.get("job_id"):
        return False
    if job.get("kind") == "resi":
        return job.get("application_id") is not None
    return job.get("kind") in (None, "ticket") and job.get("ticket_id") is not None


class KioskAgent(StationAgent):
    """Station agent of one kiosk, owning its ticket printer.

    ``server_url``: base URL of the Loket server. ``token``: the kiosk's device token.
    ``poll_s``: seconds between printer status checks while it is unavailable.
    ``status_interval_s``: seconds between status checks while idle. ``job_ttl_s``: seconds
    after which an unprinted job is dropped. ``report_timeout_s``: seconds to wait for the
    server's ack. ``done_limit``: job ids remembered. ``camera``/``scanner``: the kiosk's
    own QR camera (FrameSource) and barcode scanner (ScannerReader), both optional;
    ``decoder``, ``fps``, ``hold_s``: see :class:`kiosk.scanning.KioskScanning`. Other
    options: see StationAgent.
    """

    name = "kiosk"

    def __init__(self, server_url: str, token: str, printer: TicketPrinter, *, poll_s: float = 2.0,
                 status_interval_s: float = 5.0, job_ttl_s: float = 600.0, report_timeout_s: float = 5.0,
                 done_limit: int = 1000, max_backoff_s: float = 10.0, health_interval_s: float = 5.0,
                 camera: FrameSource | None = None, scanner: ScannerReader | None = None,
                 decoder: Decoder | None = None, fps: float = 10.0, hold_s: float = DEFAULT_HOLD_S) -> None:
        super().__init__(server_url, token, health_interval_s=health_interval_s, ack_timeout_s=report_timeout_s,
                         max_backoff_s=max_backoff_s)
        self.printer = printer
        self.poll_s, self.status_interval_s, self.job_ttl_s = poll_s, status_interval_s, job_ttl_s
        self.done_limit = done_limit
        self.sio.on("print_job", self._on_print_job)
        self._jobs: deque[_Pending] = deque()
        self._done: OrderedDict[str, None] = OrderedDict()
        self._blocked = False
        self._printer_status: PrinterStatus | None = None
        self._next_poll = 0.0
        self._jobs_lock = threading.Lock()
        self._work = threading.Event()
        self.scanning = (KioskScanning(self, camera=camera, scanner=scanner, decoder=decoder, fps=fps, hold_s=hold_s)
                         if camera is not None or scanner is not None else None)

    # -- StationAgent ---------------------------------------------------------------------
    def started(self) -> None:
        self.spawn(self._worker_loop)
        if self.scanning is not None:
            self.scanning.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop printing and disconnect; queued jobs and unsent results are kept in memory."""
        self.stopping.set()
        self._work.set()
        super().stop(timeout)

    def health(self) -> dict[str, DeviceHealth]:
        """``{"printer": DeviceHealth}`` from the last status reading (none before the first),
        plus ``"camera"`` / ``"scanner"`` when the kiosk has them."""
        out = self.scanning.health() if self.scanning is not None else {}
        status = self._printer_status
        if status is not None:
            when = status.last_answer_at.isoformat() if status.last_answer_at else None
            out["printer"] = DeviceHealth("printer", status.state.value, status.detail, when)
        return out

    def pending_jobs(self) -> list[str]:
        """Ids of the jobs waiting to be printed, in order."""
        with self._jobs_lock:
            return [p.job["job_id"] for p in self._jobs]

    def pending_reports(self) -> int:
        """Number of results not yet acknowledged by the server."""
        return self.pending()

    # -- socket events --------------------------------------------------------------------
    def _on_print_job(self, job=None) -> None:
        if not _well_formed(job):
            log.warning("ignored malformed print job: %r", job)
            return
        job_id = str(job["job_id"])
        with self._jobs_lock:
            if job_id in self._done or any(p.job["job_id"] == job_id for p in self._jobs):
                log.info("print job %s already received: not printed again", job_id)
                return
            self._jobs.append(_Pending(dict(job, job_id=job_id)))
        self._work.set()

    # -- printing -------------------------------------------------------------------------
    def _worker_loop(self) -> None:
        while not self.stopping.is_set():
            self._work.clear()
            self._expire_jobs()
            with self._jobs_lock:
                head = self._jobs[0] if self._jobs else None
            if head is not None and self._blocked:
                status = self._check_printer()
                if not status.printable:
                    self._report_waiting(status.detail or status.state.value)
                    self._work.wait(self.poll_s)
                    continue
            if head is not None:
                self._print(head)
                continue
            if time.monotonic() >= self._next_poll:
                self._check_printer()
            self._work.wait(max(0.05, self._next_poll - time.monotonic()))

    def _print(self, pending: _Pending) -> None:
        job = pending.job
        try:
            self.printer.print_ticket(job)
        except DeviceUnavailable as exc:
            log.warning("print job %s waiting: %s", job["job_id"], exc)
            self._blocked = True
            self._report_waiting(str(exc))
            self._check_printer()
            self._work.wait(self.poll_s)
            return
        except Exception as exc:  # DeviceError or a bad job: this job never prints
            log.error("print job %s failed: %s", job["job_id"], exc)
            self._finish(pending, ok=False, error=str(exc) or type(exc).__name__)
            return
        self._blocked = False
        log.info("print job %s printed", job["job_id"])
        self._finish(pending, ok=True, error=None)
        self._check_printer()  # paper may have run low (or out) on this ticket

    def _finish(self, pending: _Pending, ok: bool, error: str | None) -> None:
        """Take the job off the queue, remember its id, and report its result."""
        job_id = pending.job["job_id"]
        with self._jobs_lock:
            if self._jobs and self._jobs[0] is pending:
                self._jobs.popleft()
            else:
                self._jobs = deque(p for p in self._jobs if p is not pending)
            self._done[job_id] = None
            while len(self._done) > self.done_limit:
                self._done.popitem(last=False)
        if ok or not pending.failure_reported:
            self._report(pending.job, ok, error)

    def _report_waiting(self, reason: str) -> None:
        """Report the failure of every queued job not yet reported (they stay queued)."""
        with self._jobs_lock:
            fresh = [p for p in self._jobs if not p.failure_reported]
            for p in fresh:
                p.failure_reported = True
        for p in fresh:
            self._report(p.job, False, reason)

    def _expire_jobs(self) -> None:
        now = time.monotonic()
        with self._jobs_lock:
            old = [p for p in self._jobs if now - p.received > self.job_ttl_s]
        for p in old:
            log.warning("print job %s dropped after %.0f s unprinted", p.job["job_id"], self.job_ttl_s)
            self._finish(p, ok=False, error="kedaluwarsa, tidak tercetak / expired unprinted")

    def _check_printer(self) -> PrinterStatus:
        """Read the printer's status, keep it for :meth:`health`, report a change at once."""
        try:
            status = self.printer.status()
        except Exception as exc:  # a driver should not raise here; treat as offline
            status = PrinterStatus(PrinterState.OFFLINE, str(exc) or type(exc).__name__)
        self._next_poll = time.monotonic() + self.status_interval_s
        old, self._printer_status = self._printer_status, status
        if old is None or (old.state, old.detail) != (status.state, status.detail):
            log.log(logging.INFO if status.state is PrinterState.OK else logging.WARNING,
                    "printer %s%s", status.state.value, f": {status.detail}" if status.detail else "")
            self.health_changed()
        return status

    # -- results --------------------------------------------------------------------------
    def _report(self, job: dict, ok: bool, error: str | None) -> None:
        if job.get("kind") == "resi":
            report = {"job_id": job["job_id"], "application_id": job["application_id"], "ok": ok, "error": error}
        else:
            report = {"job_id": job["job_id"], "ticket_id": job["ticket_id"], "ok": ok, "error": error}

        def acked(answer) -> None:
            if not (isinstance(answer, dict) and answer.get("ok")):
                log.warning("server rejected print result %s: %r", report["job_id"], answer)

        self.send("print_result", report, acked)


def start_demo_agent(app, base_url: str, token: str, key: str = "", scanner: bool = False) -> KioskAgent:
    """Run a kiosk (or counter printer) agent with a simulated printer inside the demo
    server's process; with ``scanner``, also a simulated booking scanner: the named pipe
    ``<DATA_DIR>/kiosk-scanner`` (``echo <booking QR text> > …/kiosk-scanner`` scans it).

    The printer is stored as ``app.extensions["loket_demo_printer"]`` (and the agent as
    ``"loket_demo_agent"``); with ``key`` (e.g. "counter_printer") as
    ``"loket_demo_<key>"`` and ``"loket_demo_<key>_agent"``. Each printed slip is written
    as text to ``<DATA_DIR>/printed/<job_id>.txt``. The agent keeps retrying until the
    server is up.
    """
    from drivers.printer.simulator import SimulatedPrinter

    printer = SimulatedPrinter(width_mm=80, tz=_office_timezone(app, token),
                               paper_dir=Path(app.config["DATA_DIR"]) / "printed")
    reader = demo_scanner(Path(app.config["DATA_DIR"]) / "kiosk-scanner") if scanner else None
    agent = KioskAgent(base_url, token, printer, scanner=reader)
    app.extensions[f"loket_demo_{key}" if key else "loket_demo_printer"] = printer
    app.extensions[f"loket_demo_{key}_agent" if key else "loket_demo_agent"] = agent
    agent.start()
    return agent


def _office_timezone(app, token: str) -> str | None:
    """The time zone of the kiosk's office (for the printed issue time), None if unknown."""
    from server.models import Office
    from server.services.accounts import authenticate_device

    try:
        with app.extensions["loket"].db.session() as s:
            device = authenticate_device(s, token)
            office = s.get(Office, device.office_id) if device is not None else None
            return office.timezone if office is not None else None
    except Exception as exc:  # the ticket then shows the time as sent (UTC)
        log.warning("office time zone unknown: %s", exc)
        return None


# -- command line -------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of ``loket agent kiosk``."""
    parser = argparse.ArgumentParser(
        prog="loket agent kiosk",
        description="Kiosk or counter printer agent: prints the tickets issued at this kiosk, or the resi "
                    "sent to this counter printer (`loket agent printer` is the same program).",
        epilog="Printer URIs: tcp://HOST[:9100], serial:///dev/ttyUSB0?baudrate=19200, usb://VVVV:PPPP, "
               "file:///dev/usb/lp0, sim:// (see drivers/printer/README.md).")
    parser.add_argument("--server", required=True, help="Loket server base URL, e.g. https://antrian.example.go.id")
    parser.add_argument("--token", default=os.environ.get("LOKET_DEVICE_TOKEN"),
                        help="this kiosk's device token (default: $LOKET_DEVICE_TOKEN; keeps it out of `ps`)")
    parser.add_argument("--printer", required=True, help="printer URI")
    parser.add_argument("--paper", type=int, choices=(58, 80), default=80, help="paper width in mm (default 80)")
    parser.add_argument("--tz", default=None, help="IANA zone for the printed time when the job has none, e.g. Asia/Jakarta")
    parser.add_argument("--poll", type=float, default=2.0, help="status check interval (s) while the printer is unavailable")
    parser.add_argument("--status-interval", type=float, default=5.0, help="status check interval (s) while idle")
    add_reading_options(parser, what="booking QR", hold_s=DEFAULT_HOLD_S)
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or $LOKET_DEVICE_TOKEN) is required")
    return args


def build_agent(args: argparse.Namespace) -> KioskAgent:
    """The agent, its printer and its optional QR camera / scanner for parsed ``args``
    (ValueError / DeviceError on a bad printer or decoder)."""
    from drivers.printer.transports import printer_from_uri

    printer = printer_from_uri(args.printer, width_mm=args.paper, tz=args.tz)
    camera, scanner, decoder = devices_from_args(args)
    return KioskAgent(args.server, args.token, printer, poll_s=args.poll, status_interval_s=args.status_interval,
                      camera=camera, scanner=scanner, decoder=decoder, fps=args.fps, hold_s=args.hold)


def _not_escpos_chatter(record: logging.LogRecord) -> bool:
    """python-escpos logs each connection open/close on the root logger at INFO: drop those."""
    return record.levelno >= logging.WARNING or f"{os.sep}escpos{os.sep}" not in record.pathname


def main(argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """``loket agent kiosk --server URL --token T --printer URI [--paper 58|80] [--tz ZONE]
    [--scanner PORT] [--camera SOURCE] [--decoder zxing|pyzbar] [--width W --height H] [--loop]``.

    Runs until SIGINT / SIGTERM (or until ``stop`` is set, when given); logs to stderr.
    Returns the exit status: 0 after a clean stop, 2 on a bad printer or decoder option.
    """
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_not_escpos_chatter)
    # force: a library's module-level logging.info() may already have called basicConfig()
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=[handler], force=True)
    try:
        agent = build_agent(args)
    except (ValueError, DeviceError) as exc:
        log.error("printer %s / QR devices: %s", args.printer, exc)
        return 2
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    log.info("kiosk agent: server %s, printer %s (%d mm), scanner %s, camera %s", args.server, args.printer,
             args.paper, args.scanner or "-", args.camera or "-")
    agent.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("kiosk agent stopping (%d jobs unprinted, %d results unsent)", len(agent.pending_jobs()),
                 agent.pending_reports())
        agent.stop()
        agent.printer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
