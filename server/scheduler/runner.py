"""The scheduler: takes the lead (``.leadership``), runs the jobs (``.jobs``) while it leads.

One :class:`Scheduler` per process. ``run(stop)`` blocks until ``stop`` (a
``threading.Event``) is set: a standby tries to take the lead every ``retry_s`` seconds;
the leader runs each enabled job in a thread of its own (a greenlet under gevent's monkey
patch: ``loket worker``, ``loket demo``) and checks every ``retry_s`` seconds that it
still leads. Losing the lead or ``stop`` ends the term: the job threads finish their
current step (a per-office job stops between offices) and return, and the lock is
released, so a standby takes over at its next try.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import datetime
from typing import Callable, Sequence

from ..models import utcnow
from .jobs import JOBS, Job, JobContext
from .leadership import Leadership, leadership_for

log = logging.getLogger(__name__)

#: Seconds a stopping term waits for a job thread still in the middle of a run.
JOIN_TIMEOUT_S = 20.0


def run_job(job: Job, ctx: JobContext, now: datetime) -> int | None:
    """Run ``job`` once at ``now``; returns what it did, or None when it raised (the error
    is logged: a failing job never stops the scheduler)."""
    started = time.monotonic()
    try:
        done = job.work(ctx, now)
    except Exception:
        log.exception("job %s failed after %.1f s; it runs again in %.0f s", job.name, time.monotonic() - started,
                      job.interval_s(ctx.config))
        return None
    if done:
        log.info("job %s: %s done in %.2f s", job.name, done, time.monotonic() - started)
    return done


class Scheduler:
    """Leads or stands by, and runs ``jobs`` while leading (module docstring).

    ``ctx``: the jobs' :class:`JobContext`; ``leadership``: a :class:`Leadership`;
    ``retry_s``: seconds between a standby's tries and between the leader's checks;
    ``clock``: returns the aware UTC ``now`` given to each run.
    """

    def __init__(self, ctx: JobContext, leadership: Leadership, *, jobs: Sequence[Job] = JOBS,
                 retry_s: float = 5.0, clock: Callable[[], datetime] = utcnow) -> None:
        self.ctx, self.leadership, self.jobs = ctx, leadership, list(jobs)
        self.retry_s, self.clock = retry_s, clock
        self.leading = threading.Event()  # set while this process leads (for tests and status)

    def run(self, stop: threading.Event) -> None:
        """Lead or stand by until ``stop`` is set; then release the lead and return."""
        told_standby = False
        while not stop.is_set():
            try:
                leads = self.leadership.acquire()
            except Exception as exc:  # the database is unreachable: nobody can lead
                log.warning("scheduler: cannot take the lead (%s); trying again in %g s", exc, self.retry_s)
                stop.wait(self.retry_s)
                continue
            if not leads:
                if not told_standby:
                    log.info("scheduler: standing by (%s); another process leads", self.leadership.describe())
                    told_standby = True
                stop.wait(self.retry_s)
                continue
            told_standby = False
            try:
                self._lead(stop)
            finally:
                self.leadership.release()
        log.info("scheduler: stopped (%s)", self.leadership.describe())

    def _lead(self, stop: threading.Event) -> None:
        term = threading.Event()
        ctx = replace(self.ctx, stopping=lambda: term.is_set() or stop.is_set())
        jobs = [job for job in self.jobs if job.enabled(ctx)]
        log.info("scheduler: leading (%s); jobs: %s", self.leadership.describe(),
                 ", ".join(f"{j.name} every {j.interval_s(ctx.config):g} s" for j in jobs) or "none")
        self.leading.set()
        threads = [threading.Thread(target=self._job_loop, args=(job, ctx, term), name=f"job {job.name}", daemon=True)
                   for job in jobs]
        for thread in threads:
            thread.start()
        try:
            while not stop.wait(self.retry_s):
                if not self.leadership.still_leading():
                    log.error("scheduler: lost the lead (%s); jobs stop, standing by", self.leadership.describe())
                    break
        finally:
            self.leading.clear()
            term.set()
            deadline = time.monotonic() + JOIN_TIMEOUT_S
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():
                    log.warning("scheduler: %s still running after %.0f s; left behind", thread.name, JOIN_TIMEOUT_S)

    def _job_loop(self, job: Job, ctx: JobContext, term: threading.Event) -> None:
        interval = job.interval_s(ctx.config)
        while not term.is_set():
            run_job(job, ctx, self.clock())
            term.wait(interval)


def scheduler_for(app, **kwargs) -> Scheduler:
    """The scheduler of a Loket Flask app: its database, config (``SCHEDULER_RETRY_S``) and
    notice providers, with the leadership that fits its database."""
    return Scheduler(JobContext.from_app(app), leadership_for(app.config["DATABASE_URL"]),
                     retry_s=float(app.config.get("SCHEDULER_RETRY_S", 5.0)), **kwargs)
