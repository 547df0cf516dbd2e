"""Background tasks of a server process.

:func:`start_background_tasks` starts, only in a single-process server
(``SCHEDULER_IN_PROCESS``: ``loket demo``), :func:`start_scheduled_work`. (What every web
worker needs for its own screens, the office-stream delivery, is started by the app
factory: ``realtime.streams.start``.) The scheduled
work (day close, booking expiry, notice delivery: ``server/scheduler``) runs once per
deployment: in ``loket worker``, never in ``loket serve``'s web workers.
"""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


def start_background_tasks(app) -> None:
    """Start the scheduled work when this process is the whole server
    (``SCHEDULER_IN_PROCESS``), in the Socket.IO server's async mode; nothing in tests
    unless ``BACKGROUND_TASKS`` is set."""
    if app.config.get("TESTING") and not app.config.get("BACKGROUND_TASKS", False):
        return
    if app.config.get("SCHEDULER_IN_PROCESS"):
        start_scheduled_work(app)


def start_scheduled_work(app) -> threading.Event:
    """Run the scheduler (``server.scheduler``: leadership, then every registered job) in
    the background of this process; returns the event that stops it (also kept as
    ``app.extensions["loket_scheduler_stop"]``)."""
    from ..scheduler import scheduler_for

    stop = threading.Event()
    app.extensions["loket_scheduler_stop"] = stop
    app.extensions["loket"].socketio.start_background_task(scheduler_for(app).run, stop)
    return stop
