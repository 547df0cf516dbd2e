"""Writing the audit log (every state change, same transaction as the change)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ..models import AuditEntry, utcnow
from .actors import Actor


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    *,
    office_id: int | None,
    from_state: str | None = None,
    to_state: str | None = None,
    data: dict | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit row to ``session`` (flushed with the change it describes) and return it."""
    entry = AuditEntry(
        at=at or utcnow(),
        office_id=office_id,
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        from_state=from_state,
        to_state=to_state,
        data=data or {},
    )
    session.add(entry)
    return entry
