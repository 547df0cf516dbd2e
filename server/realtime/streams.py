"""Wiring of the office streams in one server process: its Delivery, its bus, and the
loops that keep them going (see ``realtime.delivery`` and ``realtime.bus``).

:func:`build` makes them (app factory); :func:`start` starts the bus reader and sender
and the check loop (every ``STREAM_CHECK_S``: gaps older than ``STREAM_GRACE_S`` and, every
``STREAM_POLL_S``, the database heads). Both run in every process that serves clients, in
tests too: delivery in order is not optional.
"""
from __future__ import annotations

import logging

from .bus import LocalBus, RedisStreamBus
from .delivery import Delivery

log = logging.getLogger(__name__)


def build(app, db, socketio, emitter, channel: str) -> Delivery:
    """The process's Delivery (emitting through ``emitter``) and its bus, set on ``emitter``
    (device messages too: ``emitter.emit_messages`` sends them to this process's clients)."""
    delivery = Delivery(emitter.emit_local, db, grace_s=app.config["STREAM_GRACE_S"],
                        poll_s=app.config["STREAM_POLL_S"])
    if app.config.get("REDIS_URL"):
        emitter.bus = RedisStreamBus(delivery, app.config["REDIS_URL"], channel, sleep=socketio.sleep,
                                     send_local=emitter.emit_messages, has_local=emitter.has_local)
    else:
        emitter.bus = LocalBus(delivery, send_local=emitter.emit_messages)
    return delivery


def start(app) -> None:
    """Start the bus reader and the check loop in the Socket.IO server's async mode (not in
    ``loket worker``: ``STREAM_TASKS`` off, it serves no screens)."""
    if not app.config.get("STREAM_TASKS", True):
        return
    loket = app.extensions["loket"]
    socketio, delivery, bus = loket.socketio, loket.delivery, loket.emitter.bus
    interval = app.config["STREAM_CHECK_S"]

    def prime_and_check() -> None:
        try:
            delivery.prime()
        except Exception:
            log.exception("office streams: reading the heads at start failed (retried by the checks)")
        while not delivery.db.closed:
            try:
                delivery.check()
            except Exception as exc:  # database away: the next check tries again
                log.warning("office streams: check failed: %s", exc)
            socketio.sleep(interval)

    socketio.start_background_task(prime_and_check)
    if isinstance(bus, RedisStreamBus):
        socketio.start_background_task(bus.run)
        socketio.start_background_task(bus.send)
