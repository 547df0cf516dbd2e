"""Domain events: services record them; they are logged in the transaction and published
only after the commit.

A service calls :func:`publish_after_commit`; the events wait in ``session.info``. Just
before the commit, the ones a screen must hear are appended to their office's event log
(``services.stream_log.append``: numbered in commit order, in the same transaction); once
the transaction has committed, the events and their log entries go to the registered
publisher (``server.realtime.emitter``). A rollback drops both. Publisher errors are
logged, not raised.
"""
from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

TICKET_ISSUED = "ticket.issued"
TICKET_CALLED = "ticket.called"  # also recalls: payload["recall"] is True
TICKET_CHANGED = "ticket.changed"
COUNTER_CHANGED = "counter.changed"
OFFICE_CHANGED = "office.changed"  # anything else: screens reload the full state
PRINT_JOB = "print.job"  # to one kiosk agent: data {"device_id", "job"}
DEVICE_CHANGED = "device.changed"  # a station's health changed: data {"device"}
STATION_EVENT = "station.event"  # a scan or card event for one station's page: {"device_id", "kind", "event"}
APPLICATION_CHANGED = "application.changed"  # a file moved on its approval chain: data {"application"}
RESI_PRINT_RESULT = "resi.print_result"  # a printer agent's answer to a resi job (staff only): see resi_print


@dataclass
class DomainEvent:
    """``name`` (one of the constants above), the office it belongs to, and its data."""

    name: str
    office_id: int
    data: dict = field(default_factory=dict)


_KEY = "loket_pending_events"
_ENTRIES = "loket_pending_entries"
Publisher = Callable[[list["DomainEvent"], list], None]
#: each session factory's publishers (the factory holds no attribute of Loket's)
_PUBLISHERS: weakref.WeakKeyDictionary[sessionmaker, list[Publisher]] = weakref.WeakKeyDictionary()


def publish_after_commit(session: Session, event_: DomainEvent) -> None:
    """Queue ``event_`` to be published once ``session`` commits."""
    session.info.setdefault(_KEY, []).append(event_)


def install_log(factory: sessionmaker) -> None:
    """Hook ``factory``'s sessions so pending events are appended to the event log before
    each commit (every session of a ``server.db.Database`` has this, so a command-line
    change reaches running screens too), and handed to the publishers registered with
    :func:`install` after it. Idempotent."""
    if factory in _PUBLISHERS:
        return
    from . import stream_log

    publishers: list[Publisher] = []
    _PUBLISHERS[factory] = publishers

    @event.listens_for(factory, "before_commit")
    def _before_commit(session: Session) -> None:
        pending = session.info.get(_KEY)
        if pending:
            session.flush()  # the change first: the head row is locked only from here to the commit
            session.info[_ENTRIES] = stream_log.append(session, pending)

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        pending = session.info.pop(_KEY, None)
        entries = session.info.pop(_ENTRIES, None) or []
        for publisher in publishers if pending else ():
            try:
                publisher(pending, entries)
            except Exception:  # a dead screen must never undo a committed call
                log.exception("publishing %d events failed", len(pending))

    @event.listens_for(factory, "after_soft_rollback")
    def _after_rollback(session: Session, _previous) -> None:
        session.info.pop(_KEY, None)
        session.info.pop(_ENTRIES, None)


def install(factory: sessionmaker, publisher: Callable[[list[DomainEvent], list], None]) -> None:
    """Log ``factory``'s events (:func:`install_log`) and, after each commit, call
    ``publisher(events, entries)`` (entries: the ``stream_log.Entry`` of that commit)."""
    install_log(factory)
    _PUBLISHERS[factory].append(publisher)
