"""Scheduled work, run once per deployment (issue 12): day close, booking expiry, notices.

- ``jobs``: the registry (:data:`JOBS`: name, interval config key, work) and the jobs'
  work; **add a job there**. ``for_each_office`` runs a per-office function one office per
  transaction;
- ``leadership``: one scheduler per deployment: a PostgreSQL advisory lock held on a
  connection of its own (a standby takes over when the leader's connection dies); none on
  SQLite;
- ``runner``: the :class:`Scheduler` (lead or stand by; one loop per job; a failing job is
  logged and runs again);
- ``worker``: the ``loket worker`` process (signals, clean stop).

``loket serve``'s web workers run none of it; ``loket demo`` runs the scheduler in its one
process (``realtime.tasks.start_scheduled_work``).
"""
from .jobs import JOBS, Job, JobContext, for_each_office
from .leadership import AdvisoryLockLeadership, Leadership, SoleLeadership, leadership_for
from .runner import Scheduler, run_job, scheduler_for

__all__ = [
    "AdvisoryLockLeadership", "JOBS", "Job", "JobContext", "Leadership", "Scheduler", "SoleLeadership",
    "for_each_office", "leadership_for", "run_job", "scheduler_for",
]
