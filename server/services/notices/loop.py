"""The delivery loop's work: one run of the scheduler's ``notice_delivery`` job
(``server/scheduler/jobs.py``), which runs once per deployment in ``loket worker`` (and in
``loket demo``'s one process).

Configuration (``app.config``): ``NOTICE_PROVIDERS``, the dict that
``providers_from_config`` reads (no providers: the job is left out, notices are not
delivered); ``NOTICE_DELIVERY_S``, seconds between runs (default 5); ``NOTICE_BATCH``,
notices per batch (default 20): a full batch is followed at once by the next, within the
same run. Providers block on the network; on gevent (``loket worker``, ``loket demo``)
the monkey patch makes smtplib and requests cooperative.
"""
from __future__ import annotations

import logging
from typing import Callable

from sqlalchemy.orm import sessionmaker

from .outbox import deliver_due
from .providers import NoticeProvider

log = logging.getLogger(__name__)


def deliver_pending(
    session_factory: sessionmaker, providers: dict[str, NoticeProvider], *, batch: int = 20,
    stopping: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """Deliver due notices batch after batch (``outbox.deliver_due``, the clock read per
    notice) until a batch is not full or ``stopping()`` is true.

    ``session_factory``: ``Database.Session``; ``providers``: {channel: provider} (empty:
    nothing is sent). Returns the summed counts {"sent", "retrying", "failed", "gave_up"}.
    Database errors propagate (the scheduler logs them and runs the job again later).
    """
    total = dict.fromkeys(("sent", "retrying", "failed", "gave_up"), 0)
    if not providers:
        return total
    while True:
        counts = deliver_due(session_factory, providers, None, batch=batch)
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if any(counts.values()):
            log.info("notices: %s", counts)
        if sum(counts.values()) < batch or stopping():
            return total
