"""The kiosk agent's queue of print jobs: issue order, and pushes held until the backlog.

Jobs are kept sorted by their ``order`` (the server's place of the job in issue order on
this device, ``server.services.printing``), then by arrival; a job without an ``order``
(an older server) goes after every ordered job, in arrival order. So a job that reaches
the agent late (the backlog pulled after a reconnect, or a push whose handler thread ran
after the next one's: python-socketio runs each event's handler in its own thread) still
prints in its place.

Pushes that arrive before the backlog of the current connection is merged are *held*
(:meth:`PrintQueue.hold`) and merged with it, deduplicated by job id.

Not thread-safe: the agent calls it under its own lock.
"""
from __future__ import annotations

import bisect
import itertools
import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field


def order_of(job: dict) -> float:
    """The job's ``order`` as a sort key (an int; math.inf when missing or not an int)."""
    order = job.get("order")
    return order if isinstance(order, int) and not isinstance(order, bool) else math.inf


@dataclass
class Pending:
    """A queued job: the job, when it arrived (time.monotonic()), whether its failure was
    reported already, and its arrival number (ties between equal orders)."""

    job: dict
    received: float = field(default_factory=time.monotonic)
    failure_reported: bool = False
    arrival: int = 0

    @property
    def key(self) -> tuple[float, int]:
        return order_of(self.job), self.arrival

    @property
    def job_id(self) -> str:
        return str(self.job["job_id"])


class PrintQueue:
    """Pending jobs in issue order, and held pushes; see the module docstring."""

    def __init__(self) -> None:
        self._jobs: list[Pending] = []
        self._held: OrderedDict[str, dict] = OrderedDict()
        self._arrivals = itertools.count()

    def __contains__(self, job_id: str) -> bool:
        return any(p.job_id == job_id for p in self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)

    def add(self, job: dict) -> Pending | None:
        """Queue ``job`` in its place; None (nothing done) when its id is queued already."""
        if str(job["job_id"]) in self:
            return None
        pending = Pending(job, arrival=next(self._arrivals))
        bisect.insort(self._jobs, pending, key=lambda p: p.key)
        return pending

    def head(self) -> Pending | None:
        """The job to print next (lowest order), None when empty."""
        return self._jobs[0] if self._jobs else None

    def remove(self, pending: Pending) -> None:
        """Take ``pending`` off the queue (no-op when it is not there)."""
        self._jobs = [p for p in self._jobs if p is not pending]

    def ids(self) -> list[str]:
        """Job ids in print order."""
        return [p.job_id for p in self._jobs]

    def older_than(self, seconds: float) -> list[Pending]:
        """Jobs received more than ``seconds`` ago."""
        now = time.monotonic()
        return [p for p in self._jobs if now - p.received > seconds]

    def unreported(self) -> list[Pending]:
        """Jobs whose failure was not reported yet, now marked reported."""
        fresh = [p for p in self._jobs if not p.failure_reported]
        for p in fresh:
            p.failure_reported = True
        return fresh

    def hold(self, job: dict) -> None:
        """Keep a push until the backlog is merged (a repeated id is kept once)."""
        self._held.setdefault(str(job["job_id"]), job)

    def take_held(self) -> list[dict]:
        """The held pushes in arrival order; the hold is emptied."""
        held = list(self._held.values())
        self._held.clear()
        return held

    @property
    def held(self) -> int:
        """Number of pushes held."""
        return len(self._held)
