"""The scheduled jobs: what runs once per deployment, how often, and with what.

**To add a job**, write its work (a per-office function, or a whole-deployment one), add
its interval's config key to ``server/config.py`` and append a :class:`Job` to
:data:`JOBS` below, e.g.::

    def prune_event_log(session: Session, office: Office, now: datetime) -> int:
        ...                                    # delete what is too old; return how many
    Job("event_log_pruning", "EVENT_LOG_PRUNE_S", 3600, for_each_office(prune_event_log)),

The scheduler (``server.scheduler.runner``) runs every enabled job in its own loop, first
at once when its process takes the lead, then ``interval`` seconds after each run ends.
A job that raises is logged and runs again at its next interval; it never stops the
scheduler or the other jobs. Jobs must be idempotent and safe if, for a moment, two
processes ran them at once (leadership, ``.leadership``, keeps that from happening in
normal operation, but a leader cut off from the database may still finish a run).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import Database
from ..models import Office
from ..services import stream_log
from ..services.booking.checkin import expire_due
from ..services.booking.requests import expire_requests
from ..services.notices.loop import deliver_pending
from ..services.queue import close_day

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What a job's work may use: the database, the app's config (read-only), the notice
    providers ({channel: NoticeProvider}), and ``stopping()``, true once the scheduler is
    stopping or has lost the lead (a long run should check it between steps and return).
    ``office_failures``: {(work name, office id): last error}, kept by :func:`for_each_office`."""

    db: Database
    config: Mapping[str, Any]
    notice_providers: dict = field(default_factory=dict)
    stopping: Callable[[], bool] = lambda: False
    office_failures: dict = field(default_factory=dict)

    @classmethod
    def from_app(cls, app) -> "JobContext":
        """The context of a Loket Flask app (``server.create_app``)."""
        return cls(app.extensions["loket"].db, app.config, app.extensions.get("loket_notice_providers") or {})


#: work(context, now) -> how many things it did (logged when not 0); ``now``: aware UTC.
Work = Callable[[JobContext, datetime], int]
#: fn(session, office, now) -> how many things it did, in the caller's transaction.
OfficeWork = Callable[[Session, Office, datetime], int]


@dataclass(frozen=True)
class Job:
    """One scheduled job.

    ``name``: used in logs; ``interval_key``: the config key of the seconds between the end
    of a run and the next one (``default_interval_s`` when the key is missing); ``work``:
    see :data:`Work` (:func:`for_each_office` makes one from a per-office function);
    ``enabled(context)``: False leaves the job out (e.g. no notice providers configured).
    """

    name: str
    interval_key: str
    default_interval_s: float
    work: Work
    enabled: Callable[[JobContext], bool] = lambda ctx: True

    def interval_s(self, config: Mapping[str, Any]) -> float:
        """Seconds to wait after a run (from ``config[interval_key]``); at least 0.05."""
        return max(0.05, float(config.get(self.interval_key, self.default_interval_s)))


def for_each_office(fn: OfficeWork) -> Work:
    """Work that calls ``fn(session, office, now)`` for every office, each office in its own
    transaction: an office that fails (bad settings, an unknown time zone, a lock timeout) is
    rolled back and logged, and the others go on. The traceback is logged when an office
    starts failing (or fails differently), a one-line error while it keeps failing the same
    way. Returns the sum of what ``fn`` returned; stops early when the context is stopping."""

    def work(ctx: JobContext, now: datetime) -> int:
        with ctx.db.session() as s:
            offices = s.execute(select(Office.id, Office.code).order_by(Office.id)).all()
        done = 0
        for office_id, code in offices:
            if ctx.stopping():
                break
            try:
                with ctx.db.session() as s:
                    office = s.get(Office, office_id)
                    if office is not None:  # deleted since the list was read
                        done += fn(s, office, now) or 0
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                if ctx.office_failures.get((fn.__name__, office_id)) == error:
                    log.error("%s: office %s still failing (%s)", fn.__name__, code, error)
                else:
                    log.exception("%s: office %s failed (rolled back; the other offices go on)", fn.__name__, code)
                ctx.office_failures[(fn.__name__, office_id)] = error
            else:
                ctx.office_failures.pop((fn.__name__, office_id), None)
        return done

    work.__name__ = f"for_each_office({fn.__name__})"
    return work


# -- the jobs' work ------------------------------------------------------------------------------
def close_office_day(session: Session, office: Office, now: datetime) -> int:
    """Day close of one office (``services.queue.day_close``); returns tickets closed."""
    closed = close_day(session, office, now=now)
    if closed:
        log.info("office %s: %d tickets closed as not served", office.code, closed)
    return closed


def expire_office_bookings(session: Session, office: Office, now: datetime) -> int:
    """Bookings of one office whose check-in window ended become no-shows
    (``services.booking.checkin.expire_due``), and booking requests whose code ran out
    expire (``services.booking.requests.expire_requests``); returns how many bookings."""
    expire_requests(session, office, now)
    expired = expire_due(session, office, now)
    if expired:
        log.info("office %s: %d bookings expired (not checked in)", office.code, expired)
    return expired


def deliver_notices(ctx: JobContext, now: datetime) -> int:
    """Send due notices (``services.notices.loop``); returns how many were handled. Each
    notice is its own short transactions (claim, record), so one office's notices never
    hold up another's; ``now`` is unused: the clock is read per notice."""
    counts = deliver_pending(ctx.db.Session, ctx.notice_providers, batch=int(ctx.config.get("NOTICE_BATCH", 20)),
                             stopping=ctx.stopping)
    return sum(counts.values())


def prune_stream_log(ctx: JobContext, now: datetime) -> int:
    """Delete office event-log entries older than ``stream_log.RETENTION`` (36 h): a screen
    away longer loads the full state; returns how many."""
    with ctx.db.session() as s:
        return stream_log.prune(s, now)


# -- the registry: append new jobs here ------------------------------------------------------------
JOBS: list[Job] = [
    Job("day_close", "DAY_CLOSE_CHECK_S", 60, for_each_office(close_office_day)),
    Job("booking_expiry", "DAY_CLOSE_CHECK_S", 60, for_each_office(expire_office_bookings)),
    Job("notice_delivery", "NOTICE_DELIVERY_S", 5, deliver_notices, enabled=lambda ctx: bool(ctx.notice_providers)),
    Job("stream_log_pruning", "STREAM_PRUNE_S", 3600, prune_stream_log),
]
