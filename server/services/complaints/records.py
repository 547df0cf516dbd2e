"""What every move of a contact writes: its kartu kendali line, the audit row, and the
optimistic-lock check that makes two officers acting at once fail cleanly."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ...i18n.catalogs import bilingual
from ...models import Complaint, ComplaintStep, Office
from .. import audit
from ..actors import Actor
from ..errors import NotFound, VersionConflict

STALE_KEY = "error.complaint.stale"
STALE = bilingual(STALE_KEY)


def load(session: Session, complaint_id: int) -> Complaint:
    """The contact as it is now in the database; raises NotFound."""
    complaint = session.get(Complaint, complaint_id, populate_existing=True)
    if complaint is None:
        raise NotFound(key="error.complaint.not_found")
    return complaint


def office_of(session: Session, complaint: Complaint) -> Office:
    """The office of ``complaint``; raises NotFound when it is gone."""
    office = session.get(Office, complaint.office_id)
    if office is None:
        raise NotFound(key="error.complaint.office_not_found")
    return office


def stale(complaint: Complaint, expected_version: int) -> VersionConflict:
    """The 409 for an officer who saw ``expected_version`` (reload and look again)."""
    return VersionConflict(key="error.complaint.stale_version",
                           params={"current": complaint.version, "expected": expected_version},
                           current_version=complaint.version, expected_version=expected_version)


def check_version(complaint: Complaint, expected_version: int) -> None:
    """Raise VersionConflict when ``complaint`` changed since the caller read it."""
    if complaint.version != expected_version:
        raise stale(complaint, expected_version)


def save(session: Session, complaint: Complaint, expected_version: int) -> None:
    """Flush the change as ``UPDATE ... WHERE id = ? AND version = ?``; a concurrent
    transaction that changed the row first (PostgreSQL: after waiting for its commit) makes
    it match no row: VersionConflict."""
    try:
        session.flush()
    except StaleDataError:
        raise VersionConflict(key="error.complaint.stale", expected_version=expected_version) from None


class StepWriter:
    """Appends lines to one contact's kartu kendali, numbering them in order."""

    def __init__(self, session: Session, complaint: Complaint, actor: Actor) -> None:
        self.session, self.complaint, self.actor = session, complaint, actor
        self.seq: int = session.scalar(
            select(func.coalesce(func.max(ComplaintStep.seq), 0)).where(ComplaintStep.complaint_id == complaint.id)
        ) or 0

    def write(self, action: str, from_stage: str | None, to_stage: str | None, at: datetime, note: str | None,
              *, public: bool = False, data: dict | None = None) -> ComplaintStep:
        """One line: ``action`` moved the contact from ``from_stage`` to ``to_stage`` at ``at``."""
        self.seq += 1
        step = ComplaintStep(
            complaint_id=self.complaint.id, seq=self.seq, action=action, from_stage=from_stage, to_stage=to_stage,
            actor_type=self.actor.type, actor_id=self.actor.id, actor_role=self.actor.role, at=at, note=note,
            public=public, data=data or {},
        )
        self.session.add(step)
        return step


def record_change(session: Session, complaint: Complaint, actor: Actor, action: str, from_status: str | None,
                  at: datetime, data: dict) -> None:
    """The audit row of ``action`` (``complaint.<action>``), from and to the status."""
    audit.record(session, actor, f"complaint.{action}", "complaint", complaint.id, office_id=complaint.office_id,
                 from_state=from_status, to_state=complaint.status, at=at,
                 data={"number": complaint.number, "stage": complaint.stage, "holder_role": complaint.holder_role,
                       **data})
