"""The kiosk agent: takes print jobs from the server over Socket.IO and prints them.

Protocol (server side in ``server.realtime.handlers``): connect with
``auth={"token": DEVICE_TOKEN, "agent": True}`` over the websocket transport; the server
sends ``print_job`` (shape in ``server.services.printing``) to the room of this device; the
agent answers ``print_result`` ``{"job_id", "ticket_id", "ok", "error"}`` with an ack.

Rules: a job id is printed at most once; jobs print in arrival order; when the printer is
unavailable the agent reports the failure at once (the kiosk page shows the ticket on
screen) and keeps the job, polls ``printer.status()`` every ``poll_s`` and prints it when
the printer is back, then reports success. Jobs still unprinted after ``job_ttl_s`` are
dropped (the citizen has long left with the on-screen ticket). Results that cannot be
delivered are kept and sent again after reconnecting. Two background tasks (connection,
worker) run as threads, or as greenlets under gevent's monkey patch.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

import socketio

from drivers.errors import DeviceUnavailable
from drivers.printer.base import PrinterState, PrinterStatus, TicketPrinter

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    job: dict
    received: float = field(default_factory=time.monotonic)
    failure_reported: bool = False


class KioskAgent:
    """Socket.IO client of one kiosk, owning its ticket printer.

    ``server_url``: base URL of the Loket server. ``token``: the kiosk's device token.
    ``poll_s``: seconds between printer status checks while it is unavailable.
    ``job_ttl_s``: seconds after which an unprinted job is dropped. ``report_timeout_s``:
    seconds to wait for the server's ack of a result. ``done_limit``: job ids remembered.
    """

    def __init__(self, server_url: str, token: str, printer: TicketPrinter, *, poll_s: float = 2.0,
                 job_ttl_s: float = 600.0, report_timeout_s: float = 5.0, done_limit: int = 1000,
                 max_backoff_s: float = 10.0) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.printer = printer
        self.poll_s, self.job_ttl_s, self.report_timeout_s = poll_s, job_ttl_s, report_timeout_s
        self.done_limit, self.max_backoff_s = done_limit, max_backoff_s
        self.connects = 0  # successful connections so far (diagnostics, tests)
        self.sio = socketio.Client(reconnection=False, logger=False, engineio_logger=False)
        self.sio.on("connect", self._on_connect)
        self.sio.on("print_job", self._on_print_job)
        self._jobs: deque[_Pending] = deque()
        self._done: OrderedDict[str, None] = OrderedDict()
        self._reports: deque[dict] = deque()
        self._blocked = False
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._tasks: list = []

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Start connecting (retrying until the server answers) and printing, in the background."""
        if self._tasks:
            return
        self._stop.clear()
        self._tasks = [self.sio.start_background_task(self._connection_loop),
                       self.sio.start_background_task(self._worker_loop)]

    def stop(self, timeout: float = 10.0) -> None:
        """Stop both tasks and disconnect; queued jobs and unsent results are kept in memory.

        Waits up to ``timeout`` s for the tasks and 1 s for the disconnect: the websocket
        client waits up to 3 s for the server's close frame, that part ends in the background.
        """
        self._stop.set()
        self._wake.set()
        for task in self._tasks:
            task.join(timeout)
        self._tasks = []
        self.sio.start_background_task(self._disconnect).join(1.0)

    def _disconnect(self) -> None:
        try:
            self.sio.disconnect()
        except Exception as exc:  # already gone
            log.debug("disconnect: %s", exc)

    @property
    def connected(self) -> bool:
        """True while the Socket.IO connection is up."""
        return bool(self.sio.connected)

    def pending_jobs(self) -> list[str]:
        """Ids of the jobs waiting to be printed, in order."""
        with self._lock:
            return [p.job["job_id"] for p in self._jobs]

    def pending_reports(self) -> int:
        """Number of results not yet acknowledged by the server."""
        with self._lock:
            return len(self._reports)

    # -- socket events ----------------------------------------------------------------
    def _on_connect(self) -> None:
        self.connects += 1
        log.info("kiosk agent connected to %s", self.server_url)
        self._wake.set()  # send results kept while offline

    def _on_print_job(self, job=None) -> None:
        if not isinstance(job, dict) or not job.get("job_id") or job.get("ticket_id") is None:
            log.warning("ignored malformed print job: %r", job)
            return
        job_id = str(job["job_id"])
        with self._lock:
            if job_id in self._done or any(p.job["job_id"] == job_id for p in self._jobs):
                log.info("print job %s already received: not printed again", job_id)
                return
            self._jobs.append(_Pending(dict(job, job_id=job_id)))
        self._wake.set()

    # -- connection -------------------------------------------------------------------
    def _connection_loop(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            if not self.sio.connected:
                try:
                    self.sio.connect(self.server_url, auth={"token": self.token, "agent": True},
                                     transports=["websocket"], wait_timeout=5)
                except Exception as exc:  # refused, server down, token revoked: retry later
                    log.debug("kiosk agent connect to %s failed: %s", self.server_url, exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.max_backoff_s)
                    continue
                delay = 0.5
            self._stop.wait(0.5)

    # -- printing ---------------------------------------------------------------------
    def _worker_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._send_reports()
            self._expire_jobs()
            with self._lock:
                head = self._jobs[0] if self._jobs else None
            if head is None:
                self._wake.wait(self.poll_s)
                continue
            if self._blocked:
                status = self._status()
                if not status.printable:
                    self._report_waiting(status.detail or status.state.value)
                    self._wake.wait(self.poll_s)
                    continue
            self._print(head)

    def _print(self, pending: _Pending) -> None:
        job = pending.job
        try:
            self.printer.print_ticket(job)
        except DeviceUnavailable as exc:
            log.warning("print job %s waiting: %s", job["job_id"], exc)
            self._blocked = True
            self._report_waiting(str(exc))
            self._wake.wait(self.poll_s)
            return
        except Exception as exc:  # DeviceError or a bad job: this job never prints
            log.error("print job %s failed: %s", job["job_id"], exc)
            self._finish(pending, ok=False, error=str(exc) or type(exc).__name__)
            return
        self._blocked = False
        self._finish(pending, ok=True, error=None)

    def _finish(self, pending: _Pending, ok: bool, error: str | None) -> None:
        """Take the job off the queue, remember its id, and queue its result."""
        job_id = pending.job["job_id"]
        with self._lock:
            if self._jobs and self._jobs[0] is pending:
                self._jobs.popleft()
            else:
                self._jobs = deque(p for p in self._jobs if p is not pending)
            self._done[job_id] = None
            while len(self._done) > self.done_limit:
                self._done.popitem(last=False)
            if ok:  # a failure not yet delivered is now moot
                self._reports = deque(r for r in self._reports if r["job_id"] != job_id)
        if ok or not pending.failure_reported:
            self._queue_report(pending.job, ok, error)

    def _report_waiting(self, reason: str) -> None:
        """Report the failure of every queued job not yet reported (they stay queued)."""
        with self._lock:
            fresh = [p for p in self._jobs if not p.failure_reported]
            for p in fresh:
                p.failure_reported = True
        for p in fresh:
            self._queue_report(p.job, False, reason)
        if fresh:
            self._send_reports()

    def _expire_jobs(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [p for p in self._jobs if now - p.received > self.job_ttl_s]
        for p in old:
            log.warning("print job %s dropped after %.0f s unprinted", p.job["job_id"], self.job_ttl_s)
            self._finish(p, ok=False, error="kedaluwarsa, tidak tercetak / expired unprinted")

    def _status(self) -> PrinterStatus:
        try:
            return self.printer.status()
        except Exception as exc:  # a driver should not raise here; treat as offline
            return PrinterStatus(PrinterState.OFFLINE, str(exc))

    # -- results ----------------------------------------------------------------------
    def _queue_report(self, job: dict, ok: bool, error: str | None) -> None:
        report = {"job_id": job["job_id"], "ticket_id": job["ticket_id"], "ok": ok, "error": error}
        with self._lock:
            self._reports.append(report)

    def _send_reports(self) -> None:
        """Send queued results in order while connected; keep the rest for later."""
        while self.sio.connected and not self._stop.is_set():
            with self._lock:
                if not self._reports:
                    return
                report = self._reports[0]
            try:
                answer = self.sio.call("print_result", report, timeout=self.report_timeout_s)
            except Exception as exc:  # disconnected or no ack: retry later
                log.info("print result %s not delivered yet: %s", report["job_id"], exc)
                return
            with self._lock:
                if self._reports and self._reports[0] is report:
                    self._reports.popleft()
            if not (isinstance(answer, dict) and answer.get("ok")):
                log.warning("server rejected print result %s: %r", report["job_id"], answer)


def start_demo_agent(app, base_url: str, token: str) -> KioskAgent:
    """Run a kiosk agent with a simulated printer inside the demo server's process.

    The printer is stored as ``app.extensions["loket_demo_printer"]`` (and the agent as
    ``"loket_demo_agent"``); each printed ticket is written as text to
    ``<DATA_DIR>/printed/<job_id>.txt``. The agent keeps retrying until the server is up.
    """
    from drivers.printer.simulator import SimulatedPrinter

    printer = SimulatedPrinter(width_mm=80, tz=_office_timezone(app, token),
                               paper_dir=Path(app.config["DATA_DIR"]) / "printed")
    agent = KioskAgent(base_url, token, printer)
    app.extensions["loket_demo_printer"] = printer
    app.extensions["loket_demo_agent"] = agent
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
