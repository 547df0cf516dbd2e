"""What every transition writes: kartu kendali lines, the audit row, the domain event, and
the optimistic-lock check that makes two officers acting at once fail cleanly."""
from __future__ import annotations

from datetime import datetime
from typing import overload

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ...i18n.catalogs import bilingual
from ...models import Application, ControlCardEntry, Office
from .. import audit, events
from ..actors import Actor
from ..errors import InvalidState, NotFound
from ..nik import mask_name
from .steps import standard_minutes

#: The catalog key of a stale write, and its bilingual message (the API tells it apart by it).
STALE_KEY = "error.application.stale"
STALE = bilingual(STALE_KEY)


@overload
def minutes_between(start: datetime, end: datetime) -> float: ...
@overload
def minutes_between(start: datetime | None, end: datetime) -> float | None: ...
def minutes_between(start: datetime | None, end: datetime) -> float | None:
    """Minutes from ``start`` to ``end`` (None when ``start`` is unknown)."""
    return None if start is None else max(0.0, (end - start).total_seconds() / 60)


def load(session: Session, application_id: int) -> Application:
    """The application as it is now in the database; raises NotFound."""
    app = session.get(Application, application_id, populate_existing=True)
    if app is None:
        raise NotFound(key="error.application.not_found")
    return app


def office_of(session: Session, app: Application) -> Office:
    """The office of ``app``; raises NotFound when it is gone."""
    office = session.get(Office, app.office_id)
    if office is None:
        raise NotFound(key="error.application.office_not_found")
    return office


def check_version(app: Application, expected_version: int) -> None:
    """Raise InvalidState (``STALE``) when ``app`` changed since the caller read it at
    ``expected_version``. The write itself is checked again by :func:`save`."""
    if app.version != expected_version:
        raise InvalidState(key="error.application.stale", current_version=app.version)


def save(session: Session, app: Application) -> None:
    """Flush ``app``'s change as ``UPDATE ... WHERE id = ? AND version = ?`` (the version is
    bumped). A concurrent transaction that changed it first makes the UPDATE match no row
    (on PostgreSQL after waiting for that transaction's commit): InvalidState (``STALE``)."""
    try:
        session.flush()
    except StaleDataError:
        raise InvalidState(key="error.application.stale") from None


class ControlCard:
    """Appends lines to one application's kartu kendali, numbering them in order."""

    def __init__(self, session: Session, app: Application, actor: Actor) -> None:
        self.session, self.app, self.actor = session, app, actor
        self.seq: int = session.scalar(
            select(func.coalesce(func.max(ControlCardEntry.seq), 0)).where(ControlCardEntry.application_id == app.id)
        ) or 0

    def write(
        self, action: str, step: dict, to_step: dict | None, at: datetime, minutes: float | None,
        *, reason: str | None = None, data: dict | None = None,
    ) -> ControlCardEntry:
        """One line: ``step`` done (or returned) at ``at`` after ``minutes`` in it."""
        standard = standard_minutes(step)
        self.seq += 1
        entry = ControlCardEntry(
            application_id=self.app.id, seq=self.seq, action=action,
            from_step=step["code"], to_step=to_step["code"] if to_step else None,
            actor_id=self.actor.staff_id, actor_role=self.actor.role, at=at, reason=reason,
            minutes_in_step=None if minutes is None else round(minutes, 2), standard_minutes=standard,
            late=minutes is not None and minutes > standard, data=data or {},
        )
        self.session.add(entry)
        return entry

    def write_to_end(
        self, action: str, steps: list[dict], index: int, at: datetime, minutes: float | None, *, data: dict | None = None
    ) -> None:
        """Step ``index`` done and the file closed: the citizen's steps after it (signing the
        proof of collection) are written with it, unmeasured."""
        for k in range(index, len(steps)):
            self.write(action, steps[k], steps[k + 1] if k + 1 < len(steps) else None, at,
                       minutes if k == index else None, data=data if k == index else None)


def application_public(app: Application) -> dict:
    """What screens may see of an application: no NIK, phone or e-mail, the name masked."""
    return {
        "id": app.id, "resi_number": app.resi_number, "office_id": app.office_id, "service_id": app.service_id,
        "name": mask_name(app.applicant_name), "status": app.status, "step_index": app.step_index,
        "step_code": app.step_code, "step_role": app.step_role, "due_date": app.due_date.isoformat(),
        "version": app.version,
    }


def record_transition(
    session: Session, app: Application, actor: Actor, action: str, from_state: str | None, at: datetime, data: dict
) -> None:
    """The audit row for ``action`` and the ``application.changed`` event after commit."""
    audit.record(session, actor, f"application.{action}", "application", app.id, office_id=app.office_id,
                 from_state=from_state, to_state=app.status, at=at,
                 data={"resi_number": app.resi_number, **data})
    events.publish_after_commit(
        session, events.DomainEvent(events.APPLICATION_CHANGED, app.office_id, {"application": application_public(app)})
    )
