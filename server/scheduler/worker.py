"""``loket worker``: the process that runs the scheduled work, once per deployment.

It builds the same app as ``loket serve`` (configuration from the environment; its events
reach the screens through Redis like a web worker's) but serves nothing and starts no
per-worker stream tasks (``STREAM_TASKS`` off). The scheduler (``.runner``) runs in the
foreground until SIGTERM or SIGINT: the jobs finish their current step, the lead is
released (a standby takes over at its next try) and the process exits 0. Start two on
PostgreSQL for a hot standby (``.leadership``). Runs on gevent: ``server.cli.main`` applies
the monkey patch before anything is imported.
"""
from __future__ import annotations

import logging
import signal
import threading

log = logging.getLogger(__name__)


def run_worker(**overrides) -> int:
    """Run the scheduler of ``create_app(**overrides)`` (production configuration) until
    SIGTERM/SIGINT; returns the exit code (0). Raises RuntimeError when the configuration is
    incomplete (e.g. LOKET_SECRET_KEY unset), like ``loket serve``."""
    from .. import create_app
    from .runner import scheduler_for

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up lines are noise here
    app = create_app(None, STREAM_TASKS=False, SCHEDULER_IN_PROCESS=False, **overrides)
    scheduler = scheduler_for(app)
    stop = threading.Event()

    def on_signal(signum, _frame) -> None:
        log.info("worker: %s received, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        scheduler.run(stop)
    finally:
        dispose = getattr(scheduler.leadership, "dispose", None)
        if dispose is not None:
            dispose()
        app.extensions["loket"].db.dispose()
    return 0
