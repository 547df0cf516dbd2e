"""Which application changes a citizen hears about, and queueing that notice.

- **printed**: a KTP-el was printed and waits at its ``activate`` step: the citizen must
  come in person to activate it (seed 002, KTP-el SOP step 8).
- **ready**: the file became ready for collection.
- **returned**: the file was returned for correction *to a counter step* (the front
  office's register step, where the citizen brings the corrected documents). A return
  inside the back office (Kabid → Kasi, a ready file back to register + stamp) needs
  nothing from the citizen and sends nothing.

Two ways to wire it (see ``notice_kind`` for the decision):

- In the transition's own transaction, after ``approve`` / ``return_for_correction``:
  ``on_application_changed(session, app, providers=...)``. The notice row commits with the
  change, so a crash can never lose it (the transactional outbox). Preferred.
- After the commit, from the domain events: ``events.install(factory,
  application_event_subscriber(factory, providers))`` (next to the realtime publisher).
  A crash between the commit and this subscriber loses that notice.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Iterable

from sqlalchemy.orm import Session, sessionmaker

from ...models import Application, ApplicationStatus, Notice
from ..applications.card_gate import ACTIVATE_STEP
from ..applications.steps import counter_step_count
from ..events import APPLICATION_CHANGED, DomainEvent
from .outbox import queue_application_notice
from .providers import NoticeProvider

log = logging.getLogger(__name__)


def notice_kind(app: Application) -> str | None:
    """"ready", "returned", "printed" (a KTP-el waiting for its in-person activation) or
    None: the notice ``app``'s current state calls for."""
    if app.status == ApplicationStatus.READY.value:
        return "ready"
    if app.status == ApplicationStatus.IN_PROGRESS.value and app.step_code == ACTIVATE_STEP:
        return "printed"  # a KTP-el printed: the citizen must come in person to activate it
    if app.status == ApplicationStatus.RETURNED.value and app.step_code is not None \
            and app.step_index < counter_step_count(app.steps):
        return "returned"
    return None


def on_application_changed(
    session: Session, application: Application, *, providers: dict[str, NoticeProvider], now: datetime | None = None,
) -> Notice | None:
    """Queue the notice ``application``'s new state calls for, if any, in ``session``'s
    transaction; idempotent (one notice per application version). Returns it or None."""
    kind = notice_kind(application)
    if kind is None:
        return None
    return queue_application_notice(session, application, kind, providers=providers, now=now)


def application_event_subscriber(
    session_factory: sessionmaker, providers: dict[str, NoticeProvider]
) -> Callable[..., None]:
    """A publisher for ``events.install`` (``publish(events, entries=())``; the event-log
    entries are not used): for each ``application.changed`` event whose application is
    still at the event's version, :func:`on_application_changed` in a new transaction.
    Errors are logged, never raised (the change is already committed)."""

    def publish(events_: Iterable[DomainEvent], _entries: Iterable = ()) -> None:
        for event_ in events_:
            data = (event_.data or {}).get("application") or {}
            if event_.name != APPLICATION_CHANGED or data.get("status") not in ("ready", "returned", "in_progress"):
                continue
            try:
                with session_factory() as session, session.begin():
                    app = session.get(Application, data["id"])
                    if app is None or app.version != data.get("version"):
                        continue  # it moved on; the later event speaks for it
                    on_application_changed(session, app, providers=providers)
            except Exception:
                log.exception("queueing the notice of application %s failed", data.get("id"))

    return publish
