"""The background loop that delivers notices (started like ``realtime.tasks``' loops).

Configuration (``app.config``): ``NOTICE_PROVIDERS``, the dict that
``providers_from_config`` reads (no providers: the loop does not run);
``NOTICE_DELIVERY_S``, seconds between passes when nothing is due (default 5);
``NOTICE_BATCH``, notices per pass (default 20). Providers block on the network; under
``loket serve`` gevent's monkey patch makes smtplib and requests cooperative.
"""
from __future__ import annotations

import logging

from ...models import utcnow
from .outbox import deliver_due
from .providers import NoticeProvider, providers_from_config

log = logging.getLogger(__name__)


def delivery_loop(app, providers: dict[str, NoticeProvider] | None = None) -> None:
    """Deliver due notices forever: a full batch is followed at once by the next pass."""
    loket = app.extensions["loket"]
    if providers is None:
        providers = providers_from_config(app.config.get("NOTICE_PROVIDERS"))
    if not providers:
        log.info("no notice providers configured: notices are not delivered")
        return
    interval = float(app.config.get("NOTICE_DELIVERY_S", 5))
    batch = int(app.config.get("NOTICE_BATCH", 20))
    while True:
        busy = False
        try:
            counts = deliver_due(loket.db.Session, providers, utcnow(), batch=batch)
            busy = sum(counts.values()) >= batch
            if any(counts.values()):
                log.info("notices: %s", counts)
        except Exception:
            log.exception("notice delivery failed")
        loket.socketio.sleep(0 if busy else interval)
