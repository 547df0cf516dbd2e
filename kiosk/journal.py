"""The print journal: what a kiosk (or counter printer) agent sent to its printer, on disk.

The agent keeps its queue in memory; the journal is what survives a kill or a power cut,
so that a restarted agent never prints a slip twice. It is an append-only file of JSON
lines, each written with one ``write`` and made durable with ``fsync`` before the agent
goes on:

- ``started`` {"id", "fp", "s": "started", "t", "job"}: before the job's first byte goes to the
  printer (the job itself is kept, to reprint it without the server);
- ``printed`` {"id", "s": "printed", "t"}: after the printer confirmed the slip whole,
  before the result is reported (``"assumed": true`` when decided at a restart, below);
- ``unsent`` {"id", "s": "unsent", "t"}: the printer refused the job before any byte was
  sent (paper out, offline): as if never started;
- ``interrupted`` {"id", "s": "interrupted", "t", "job"}: some bytes went out but the slip
  was not printed whole: the job (marked ``"reprint": true``) must print again;
- ``dropped`` {"id", "s": "dropped", "t", "why"}: given up (bad job, expired): never printed.

A job is known by its id and the last path segment of its ``status_url`` (the ticket's
random public id, the resi's signed payload), so a job id given again by a server whose
database was restored or recreated is not mistaken for one printed before. The last line
of a job decides its state. After a restart, a job whose last line is
``started`` is *in doubt*: the agent died between sending it and the printer's
confirmation. The agent's policy (``kiosk.agent``): a duplicate slip in the tray is taken
by the next citizen as theirs, while a missing slip is covered by the ticket on the kiosk
screen, so when the printer is printable at restart the job is taken as printed; when it
is not (out of paper, offline: it may have stopped mid-slip), it is reprinted, marked.

A torn last line (killed mid-write) is cut off when the journal opens; a line that does
not parse elsewhere is skipped with a warning. The file stays bounded: once it holds more
than ``2 × keep`` lines it is rewritten (to a temporary file, fsync, rename, fsync of the
directory) with the last ``keep`` finished jobs and every unfinished one.

``PrintJournal(None)`` keeps the same states in memory only (tests, embedded agents that
do not need to survive a restart).
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

STARTED, PRINTED, UNSENT, INTERRUPTED, DROPPED = "started", "printed", "unsent", "interrupted", "dropped"
STATES = (STARTED, PRINTED, UNSENT, INTERRUPTED, DROPPED)
#: States after which the job is never sent to the printer again.
FINISHED = frozenset({PRINTED, DROPPED})
#: States in which the journal holds a job that still needs a decision at restart.
UNFINISHED = frozenset({STARTED, INTERRUPTED})


@dataclass
class Entry:
    """A job's last journaled state: ``state`` (one of STATES), ``job`` (the job as last
    sent, for started / interrupted), ``why`` (the reason of a drop), ``assumed`` (printed
    decided at a restart), ``at`` (time.time() of the line)."""

    state: str
    job: dict | None = None
    why: str | None = None
    assumed: bool = False
    at: float = 0.0


class PrintJournal:
    """See the module docstring. ``path``: the journal file (created with its folder), or
    None for memory only. ``keep``: finished jobs kept at compaction (>= 1).

    Thread-safe. Raises OSError when the file cannot be opened; a failed write is logged
    and raised to the caller (the agent logs it and goes on printing).
    """

    def __init__(self, path: Path | str | None, keep: int = 1000) -> None:
        if keep < 1:
            raise ValueError("keep must be >= 1")
        self.path = Path(path) if path else None
        self.keep = keep
        self._entries: OrderedDict[str, Entry] = OrderedDict()  # job id -> last state, oldest first
        self._lines = 0
        self._fd: int | None = None
        self._lock = threading.Lock()
        if self.path is not None:
            self._open()

    # -- reading ------------------------------------------------------------------------------
    def state(self, job: dict) -> str | None:
        """The job's last journaled state, None when never journaled."""
        entry = self.entry(job)
        return entry.state if entry else None

    def entry(self, job: dict) -> Entry | None:
        """The job's last :class:`Entry`, None when never journaled."""
        with self._lock:
            return self._entries.get(job_key(job))

    def unfinished(self) -> list[tuple[str, dict]]:
        """(state, job) of every job started or interrupted and not finished since, oldest first."""
        with self._lock:
            return [(e.state, e.job) for e in self._entries.values() if e.state in UNFINISHED and e.job]

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    # -- writing ------------------------------------------------------------------------------
    def started(self, job: dict) -> None:
        """Record ``job`` as about to be sent (durable before this returns)."""
        self._append(job, {"s": STARTED, "job": job})

    def printed(self, job: dict, assumed: bool = False) -> None:
        """Record the job as printed whole (``assumed``: decided at a restart, not confirmed)."""
        self._append(job, {"s": PRINTED, **({"assumed": True} if assumed else {})})

    def unsent(self, job: dict) -> None:
        """Record that nothing of the job reached the printer (it was refused)."""
        self._append(job, {"s": UNSENT})

    def interrupted(self, job: dict) -> None:
        """Record ``job`` (as it will be printed again, marked) as cut short."""
        self._append(job, {"s": INTERRUPTED, "job": job})

    def dropped(self, job: dict, why: str) -> None:
        """Record that the job will never print (``why``: the reason)."""
        self._append(job, {"s": DROPPED, "why": str(why)[:200]})

    def close(self) -> None:
        """Close the file (further writes reopen it)."""
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    # -- internals ----------------------------------------------------------------------------
    def _apply(self, record: dict) -> None:
        key, state = _record_key(record), record["s"]
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}")
        self._entries.pop(key, None)
        job = record.get("job") if state in UNFINISHED else None
        if state in UNFINISHED and not isinstance(job, dict):
            raise ValueError(f"{state} without its job")
        self._entries[key] = Entry(state, job, record.get("why"), bool(record.get("assumed")), float(record.get("t", 0)))

    def _append(self, job: dict, fields: dict) -> None:
        record = {"id": str(job["job_id"]), "fp": fingerprint(job), **fields, "t": round(time.time(), 3)}
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            self._apply(record)
            self._lines += 1
            if self.path is None:
                if self._lines > 2 * self.keep:
                    self._trim()
                return
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self._fd, line)
            os.fsync(self._fd)
            if self._lines > 2 * self.keep:
                self._compact()

    def _open(self) -> None:
        """Read the file (cutting off a torn last line), compact it if too long, open it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        if not created:
            data = self.path.read_bytes()
            end = data.rfind(b"\n") + 1
            if end < len(data):
                log.warning("print journal %s: torn last line dropped (%d bytes)", self.path, len(data) - end)
                with open(self.path, "r+b") as f:
                    f.truncate(end)
                    f.flush()
                    os.fsync(f.fileno())
            for number, raw in enumerate(data[:end].splitlines(), 1):
                try:
                    self._apply(json.loads(raw))
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("print journal %s line %d skipped: %s", self.path, number, exc)
                self._lines += 1
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        if created:
            _fsync_dir(self.path.parent)
        if self._lines > 2 * self.keep:
            self._compact()

    def _trim(self) -> None:
        """Forget all but the last ``keep`` finished jobs (unfinished ones are all kept)."""
        finished = [k for k, e in self._entries.items() if e.state not in UNFINISHED]
        for key in finished[:max(0, len(finished) - self.keep)]:
            del self._entries[key]
        self._lines = len(self._entries)

    def _compact(self) -> None:
        """Rewrite the file with the last ``keep`` finished jobs and all unfinished ones."""
        self._trim()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            for key, e in self._entries.items():
                job_id, _, fp = key.partition("|")
                record = {"id": job_id, "fp": fp, "s": e.state, "t": e.at}
                if e.job is not None:
                    record["job"] = e.job
                if e.why:
                    record["why"] = e.why
                if e.assumed:
                    record["assumed"] = True
                f.write((json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND, 0o600)


def fingerprint(job: dict) -> str:
    """What tells two jobs with the same id apart: the last path segment of the job's
    ``status_url`` (a ticket's random public id, a resi's signed payload), "" without one."""
    return str(job.get("status_url") or "").rstrip("/").rsplit("/", 1)[-1]


def job_key(job: dict) -> str:
    """The journal's key of ``job``: "<job id>|<fingerprint>"."""
    return f"{job['job_id']}|{fingerprint(job)}"


def _record_key(record: dict) -> str:
    return f"{record['id']}|{record.get('fp') or ''}"


def _fsync_dir(folder: Path) -> None:
    """Make a file's creation or rename in ``folder`` durable (no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def default_path(token: str, data_dir: str | None = None) -> Path:
    """The journal file of the device whose token is ``token``: ``<dir>/print-journal-<id>.jsonl``
    where ``<dir>`` is ``data_dir``, else $LOKET_DATA_DIR, else $XDG_STATE_HOME/loket, else
    ~/.local/state/loket, and ``<id>`` the first 12 hex digits of the token's SHA-256 (one
    journal per device; the token itself is never written)."""
    import hashlib

    folder = data_dir or os.environ.get("LOKET_DATA_DIR")
    if not folder:
        state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        folder = os.path.join(state, "loket")
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]
    return Path(folder) / f"print-journal-{digest}.jsonl"
