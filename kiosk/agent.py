"""The kiosk agent: takes print jobs from the server over Socket.IO and prints each once.

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

Rules (a slip in the tray is taken by the next citizen as theirs, so the agent never prints
one twice, and prints them in the order the numbers were taken):

- **Issue order.** Jobs print by their ``order`` (:mod:`kiosk.print_queue`). On every
  connect the agent first pulls its backlog (``print_backlog``: its unprinted jobs in
  order); ``print_job`` pushes arriving before that answer are held and merged with it,
  deduplicated by job id. A job waits ``settle_s`` after arriving before it prints, so a
  push whose handler thread ran late still takes its place.
- **Journal** (:mod:`kiosk.journal`, ``--journal``): a job is journaled "started" before its
  bytes are sent and "printed" once the printer confirmed it, before the result is
  reported. A job journaled printed is never printed again: pulled in a backlog it is
  reported printed instead (once per job: the ids re-reported are remembered for the last
  ``journal.keep`` jobs, as many finished jobs as the journal itself keeps). At start, a job left "started" (the agent died between sending
  it and the confirmation) is taken as printed when the printer is printable then (a
  duplicate would be taken by the next citizen; a missing slip is covered by the ticket on
  the kiosk screen), and reprinted marked "CETAK ULANG / REPRINT" when it is not.
- **Faults.** When the printer refuses a job (paper out, offline: nothing sent) the agent
  reports the failure at once (the kiosk page shows the ticket on screen), keeps the job,
  polls ``printer.status()`` every ``poll_s`` and prints it when the printer is back, then
  reports success. A job cut short (``PrintInterrupted``: paper ran out or power was lost
  mid-slip) is handled the same way but printed again marked as a reprint. Jobs still
  unprinted after ``job_ttl_s`` are dropped (the citizen has long left with the on-screen
  ticket). While idle the printer is polled every ``status_interval_s`` (a printer out of
  paper may accept bytes silently, so the agent trusts its status, not a write); every
  state change is reported at once.

Command line (``loket agent kiosk ...`` or ``python -m kiosk.agent ...``): see :func:`main`.
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
import time

from cachetools import LRUCache

from drivers.errors import DeviceUnavailable
from drivers.printer.base import PrinterState, PrinterStatus, PrintInterrupted, TicketPrinter
from drivers.qr.decoders import Decoder
from drivers.qr.sources import FrameSource, ScannerReader
from drivers.station import DeviceHealth, StationAgent

from .journal import FINISHED, PRINTED, STARTED, UNFINISHED, PrintJournal
from .print_queue import Pending, PrintQueue
from .scanning import DEFAULT_HOLD_S, KioskScanning

log = logging.getLogger(__name__)
#: Failed ``print_backlog`` calls (no answer) on one connection before printing pushes as they come.
BACKLOG_TRIES = 2


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
    server's ack. ``journal``: the :class:`kiosk.journal.PrintJournal` (default: in memory,
    keeping ``done_limit`` finished jobs). ``settle_s``: seconds a job waits after arriving
    before it prints. ``camera``/``scanner``: the kiosk's own QR camera (FrameSource) and
    barcode scanner (ScannerReader), both optional; ``decoder``, ``fps``, ``hold_s``: see
    :class:`kiosk.scanning.KioskScanning`. Other options: see StationAgent.

    Memory stays bounded however long the kiosk runs: the journal keeps ``journal.keep``
    finished jobs (plus the unfinished ones), the ids of finished jobs whose result was
    reported again after a backlog are remembered for the last ``journal.keep`` of them
    (a count of jobs; an LRU cache), the results awaiting the server's ack are forgotten
    once acked, and the scanner's histories are bounded (``KioskScanning``).
    """

    name = "kiosk"

    def __init__(self, server_url: str, token: str, printer: TicketPrinter, *, poll_s: float = 2.0,
                 status_interval_s: float = 5.0, job_ttl_s: float = 600.0, report_timeout_s: float = 5.0,
                 done_limit: int = 1000, max_backoff_s: float = 10.0, health_interval_s: float = 5.0,
                 journal: PrintJournal | None = None, settle_s: float = 0.05,
                 camera: FrameSource | None = None, scanner: ScannerReader | None = None,
                 decoder: Decoder | None = None, fps: float = 10.0, hold_s: float = DEFAULT_HOLD_S) -> None:
        super().__init__(server_url, token, health_interval_s=health_interval_s, ack_timeout_s=report_timeout_s,
                         max_backoff_s=max_backoff_s)
        self.printer = printer
        self.poll_s, self.status_interval_s, self.job_ttl_s = poll_s, status_interval_s, job_ttl_s
        self.settle_s = settle_s
        self.journal = journal if journal is not None else PrintJournal(None, keep=done_limit)
        self.on("print_job", self._on_print_job)
        self._queue = PrintQueue()
        self._backlog_sid: str | None = None  # the connection whose backlog is merged
        self._backlog_wanted = threading.Event()
        self._unacked: set[str] = set()  # job ids whose result the server has not acked
        # finished jobs reported again after a backlog: the last journal.keep of them (the
        # journal forgets older finished jobs too; at worst a result is reported once more)
        self._rereported: LRUCache[str, bool] = LRUCache(maxsize=self.journal.keep)
        self._blocked = False
        self._printer_status: PrinterStatus | None = None
        self._next_poll = 0.0
        self._jobs_lock = threading.Lock()
        self._work = threading.Event()
        self.scanning = (KioskScanning(self, camera=camera, scanner=scanner, decoder=decoder, fps=fps, hold_s=hold_s)
                         if camera is not None or scanner is not None else None)

    # -- StationAgent ---------------------------------------------------------------------
    def started(self) -> None:
        self._resume_journal()  # before any job is taken
        self.spawn(self._backlog_loop)
        self.spawn(self._worker_loop)
        if self.scanning is not None:
            self.scanning.start()

    def on_connected(self) -> None:
        self._backlog_wanted.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop printing and disconnect; queued jobs and unsent results are kept in memory."""
        self.stopping.set()
        self._work.set()
        self._backlog_wanted.set()
        super().stop(timeout)
        self.journal.close()

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
        """Ids of the jobs waiting to be printed, in print order."""
        with self._jobs_lock:
            return self._queue.ids()

    def held_jobs(self) -> int:
        """Number of pushed jobs held until this connection's backlog is merged."""
        with self._jobs_lock:
            return self._queue.held

    def pending_reports(self) -> int:
        """Number of results not yet acknowledged by the server."""
        return self.pending()

    # -- taking jobs ----------------------------------------------------------------------
    def _on_print_job(self, job=None) -> None:
        if not _well_formed(job):
            log.warning("ignored malformed print job: %r", job)
            return
        job = dict(job, job_id=str(job["job_id"]))
        with self._jobs_lock:
            if self._backlog_sid is None or self._backlog_sid != self.sid():
                self._queue.hold(job)  # merged with this connection's backlog
                return
            self._take(job, pulled=False)
        self._work.set()

    def _take(self, job: dict, pulled: bool) -> None:
        """Queue ``job`` unless it is queued or finished (caller holds the lock). A finished
        job listed in a backlog (``pulled``) has its result reported again, once."""
        if job["job_id"] in self._queue:
            return
        entry = self.journal.entry(job)
        if entry is not None and entry.state in FINISHED:
            if pulled and job["job_id"] not in self._unacked and job["job_id"] not in self._rereported:
                self._rereported[job["job_id"]] = True
                self._report(job, entry.state == PRINTED, None if entry.state == PRINTED else entry.why or "dropped")
            else:
                log.info("print job %s already %s: not printed again", job["job_id"], entry.state)
            return
        if entry is not None and entry.state in UNFINISHED:  # sent before: what comes out now is a reprint
            job = dict(entry.job or job, reprint=True)
        self._queue.add(job)

    def _backlog_loop(self) -> None:
        """On every connect: pull ``print_backlog`` and merge it with the held pushes."""
        asked, tries = None, 0
        while not self.stopping.is_set():
            self._backlog_wanted.wait(0.5)
            self._backlog_wanted.clear()
            sid = self.sid() if self.sio.connected else None
            if sid is None or sid == self._backlog_sid or self.stopping.is_set():
                continue
            if sid != asked:
                asked, tries = sid, 0
            answer = self._call("print_backlog", {})
            if self.sid() != sid:
                continue  # reconnected meanwhile: ask that connection
            if isinstance(answer, dict) and answer.get("ok") and isinstance(answer.get("jobs"), list):
                jobs = answer["jobs"]
            elif answer is None and (tries := tries + 1) < BACKLOG_TRIES:
                self._backlog_wanted.set()
                continue
            else:
                log.warning("no print backlog from the server (%r): printing pushed jobs as they come", answer)
                jobs = []
            with self._jobs_lock:
                for job in jobs:
                    if _well_formed(job):
                        self._take(dict(job, job_id=str(job["job_id"])), pulled=True)
                held = self._queue.take_held()
                for job in held:
                    self._take(job, pulled=False)
                self._backlog_sid = sid
                queued = len(self._queue)
            log.info("print backlog merged: %d jobs from the server, %d pushes held, %d queued", len(jobs), len(held),
                     queued)
            self._work.set()

    def _resume_journal(self) -> None:
        """Decide the jobs the journal left started or interrupted (module docstring)."""
        unfinished = self.journal.unfinished()
        if not unfinished:
            return
        status = self._check_printer()
        for state, job in unfinished:
            if state == STARTED and status.printable:
                log.warning("print job %s was being sent when the agent stopped; printer %s: taken as printed",
                            job["job_id"], status.state.value)
                self._journal("printed", job, assumed=True)
                self._report(job, True, None)
                continue
            job = dict(job, reprint=True)
            log.warning("print job %s %s before the agent stopped; printer %s: reprinted, marked", job["job_id"],
                        "was cut short" if state != STARTED else "was being sent", status.state.value)
            self._journal("interrupted", job)
            with self._jobs_lock:
                self._queue.add(job)

    # -- printing -------------------------------------------------------------------------
    def _worker_loop(self) -> None:
        while not self.stopping.is_set():
            self._work.clear()
            self._expire_jobs()
            with self._jobs_lock:
                head = self._queue.head()
            if head is not None and self._blocked:
                status = self._check_printer()
                if not status.printable:
                    self._report_waiting(status.detail or status.state.value)
                    self._work.wait(self.poll_s)
                    continue
            if head is not None:
                settle = head.received + self.settle_s - time.monotonic()
                if settle > 0:  # an earlier job pushed at the same moment may still be on its way
                    self._work.wait(settle)
                    continue
                self._print(head)
                continue
            if time.monotonic() >= self._next_poll:
                self._check_printer()
            self._work.wait(max(0.05, self._next_poll - time.monotonic()))

    def _print(self, pending: Pending) -> None:
        job = pending.job
        self._journal("started", job)
        try:
            self.printer.print_ticket(job)
        except PrintInterrupted as exc:  # part of the slip may be out: print it again, marked
            pending.job = dict(job, reprint=True)
            self._journal("interrupted", pending.job)
            self._wait_for_printer(pending, exc)
            return
        except DeviceUnavailable as exc:  # refused before any byte was sent
            self._journal("unsent", job)
            self._wait_for_printer(pending, exc)
            return
        except Exception as exc:  # DeviceError or a bad job: this job never prints
            log.error("print job %s failed: %s", job["job_id"], exc)
            self._journal("dropped", job, str(exc) or type(exc).__name__)
            self._finish(pending, ok=False, error=str(exc) or type(exc).__name__)
            return
        self._journal("printed", job)
        self._blocked = False
        log.info("print job %s printed%s", job["job_id"], " (reprint)" if job.get("reprint") else "")
        self._finish(pending, ok=True, error=None)
        self._check_printer()  # paper may have run low (or out) on this ticket

    def _wait_for_printer(self, pending: Pending, exc: Exception) -> None:
        log.warning("print job %s waiting: %s", pending.job["job_id"], exc)
        self._blocked = True
        self._report_waiting(str(exc))
        self._check_printer()
        self._work.wait(self.poll_s)

    def _journal(self, what: str, job: dict, *args, **kwargs) -> None:
        """Write one journal line; a failing disk is logged, printing goes on."""
        try:
            getattr(self.journal, what)(job, *args, **kwargs)
        except OSError as exc:
            log.error("print journal %s: %s not recorded for %s: %s", self.journal.path, what, job.get("job_id"), exc)

    def _finish(self, pending: Pending, ok: bool, error: str | None) -> None:
        """Take the job off the queue and report its result."""
        with self._jobs_lock:
            self._queue.remove(pending)
        if ok or not pending.failure_reported:
            self._report(pending.job, ok, error)

    def _report_waiting(self, reason: str) -> None:
        """Report the failure of every queued job not yet reported (they stay queued)."""
        with self._jobs_lock:
            fresh = self._queue.unreported()
        for p in fresh:
            self._report(p.job, False, reason)

    def _expire_jobs(self) -> None:
        with self._jobs_lock:
            old = self._queue.older_than(self.job_ttl_s)
        for p in old:
            log.warning("print job %s dropped after %.0f s unprinted", p.job["job_id"], self.job_ttl_s)
            reason = "kedaluwarsa, tidak tercetak / expired unprinted"
            self._journal("dropped", p.job, reason)
            self._finish(p, ok=False, error=reason)

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
        self._unacked.add(job["job_id"])

        def acked(answer) -> None:
            self._unacked.discard(report["job_id"])
            if not (isinstance(answer, dict) and answer.get("ok")):
                log.warning("server rejected print result %s: %r", report["job_id"], answer)

        self.send("print_result", report, acked)


def start_demo_agent(app, base_url: str, token: str, key: str = "", scanner: bool = False) -> KioskAgent:
    """The in-process agent of ``loket demo`` on a simulated printer: see
    :func:`kiosk.demo_agent.start_demo_agent`."""
    from .demo_agent import start_demo_agent as start

    return start(app, base_url, token, key=key, scanner=scanner)


# -- command line (kiosk.agent_cli) ---------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of ``loket agent kiosk``: see :func:`kiosk.agent_cli.parse_args`."""
    from .agent_cli import parse_args as parse

    return parse(argv)


def build_agent(args: argparse.Namespace) -> KioskAgent:
    """The agent for parsed ``args``: see :func:`kiosk.agent_cli.build_agent`."""
    from .agent_cli import build_agent as build

    return build(args)


def main(argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """``loket agent kiosk ...``: see :func:`kiosk.agent_cli.main` (exit status)."""
    from .agent_cli import main as run

    return run(argv, stop)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
