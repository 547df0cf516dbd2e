"""Background loops of each server process: the end-of-day check and the expiry of
bookings not checked in (issue 6).

:func:`start_background_tasks` starts them: :func:`start_stream_tasks` (what every web
worker needs for its own screens) and :func:`start_scheduled_work` (what must run once
per deployment: day close, booking expiry, notice delivery).
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from ..models import Office
from ..services.booking.checkin import expire_due
from ..services.queue import close_day

log = logging.getLogger(__name__)


def day_close_loop(app) -> None:
    """Every DAY_CLOSE_CHECK_S seconds (default 60): close tickets left waiting after
    closing time, and expire bookings whose check-in window has ended (no-shows)."""
    loket = app.extensions["loket"]
    while True:
        try:
            with loket.db.session() as s:
                for office in s.scalars(select(Office)):
                    closed = close_day(s, office)
                    if closed:
                        log.info("office %s: %d tickets closed as not served", office.code, closed)
                    try:
                        with s.begin_nested():
                            expired = expire_due(s, office)
                    except Exception:  # one office's bad booking settings must not stop the others
                        log.exception("office %s: booking expiry failed", office.code)
                        expired = 0
                    if expired:
                        log.info("office %s: %d bookings expired (not checked in)", office.code, expired)
        except Exception:
            log.exception("end-of-day check failed")
        loket.socketio.sleep(app.config["DAY_CLOSE_CHECK_S"])


def start_background_tasks(app) -> None:
    """Start the per-worker stream tasks and the scheduled work, in the Socket.IO server's
    async mode (nothing in tests unless ``BACKGROUND_TASKS`` is set)."""
    if app.config.get("TESTING") and not app.config.get("BACKGROUND_TASKS", False):
        return
    start_stream_tasks(app)
    start_scheduled_work(app)


def start_stream_tasks(app) -> None:
    """Nothing any more: each worker's office-stream delivery (bus reader, gap and head
    checks) is started by the app factory itself (``realtime.streams.start``), in tests too."""


def start_scheduled_work(app) -> None:
    """The end-of-day check and (when providers are configured) the notice delivery loop."""
    from ..services.notices.loop import delivery_loop

    socketio = app.extensions["loket"].socketio
    socketio.start_background_task(day_close_loop, app)
    if app.extensions.get("loket_notice_providers"):
        socketio.start_background_task(delivery_loop, app, app.extensions["loket_notice_providers"])
