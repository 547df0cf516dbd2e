"""Writing the audit log (every state change, same transaction as the change).

Two ways to write a row, the same columns either way:

- :func:`record` adds an ``AuditEntry`` to the session (flushed with the change it
  describes); most services use it.
- :func:`row` + :func:`insert_rows` write one or more rows with one ``INSERT … VALUES
  (…), (…) RETURNING id`` (``db.multi_insert``: built once per row count), without ORM
  bookkeeping: the kiosk's ticket issue writes the ticket's row and its print job's row
  this way (``services.printing.issue_with_job``), the call path its rows too.
"""
from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from ..db import multi_insert, multi_params
from ..models import AuditEntry, utcnow
from .actors import Actor

AUDIT = cast(Table, AuditEntry.__table__)  # a mapped class's table (typed as any FromClause)
#: the columns a row dict of :func:`row` holds (every column but ``id``)
COLUMNS = ("at", "office_id", "actor_type", "actor_id", "action", "entity_type", "entity_id", "from_state",
           "to_state", "data")


def record(session: Session, actor: Actor, action: str, entity_type: str, entity_id: int | None,
           **fields) -> AuditEntry:
    """Add one audit row to ``session`` (flushed with the change it describes) and return
    it; ``fields``: ``office_id`` (required), ``from_state``, ``to_state``, ``data``,
    ``at`` as for :func:`row`."""
    entry = AuditEntry(**row(actor, action, entity_type, entity_id, **fields))
    session.add(entry)
    return entry


def row(
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
) -> dict:
    """The values of the row :func:`record` would add, as a dict (keys :data:`COLUMNS`)
    for :func:`insert_rows`."""
    return {"at": at or utcnow(), "office_id": office_id, "actor_type": actor.type, "actor_id": actor.id,
            "action": action, "entity_type": entity_type, "entity_id": entity_id, "from_state": from_state,
            "to_state": to_state, "data": data or {}}


def insert_rows(session: Session, rows: list[dict]) -> list[int]:
    """Insert ``rows`` (from :func:`row`) in the session's transaction with one statement;
    returns their ids in the order given.

    Ids grow in the order of the VALUES list (a PostgreSQL sequence is drawn row by row,
    SQLite numbers rows as it inserts them); rows are matched to the returned ids by
    (action, entity id), and rows alike by ascending id, so the answer does not depend on
    the order RETURNING lists them. Pending ORM changes are not flushed first: the caller
    flushes when a row refers to one."""
    statement = multi_insert(AUDIT, COLUMNS, len(rows), returning=("id", "action", "entity_id"))
    return match_ids(rows, session.connection().execute(statement, multi_params(COLUMNS, rows)).all())


def match_ids(rows: list[dict], returned) -> list[int]:
    """The ids of ``rows`` (from :func:`row`) in the order given, from the ``(id, action,
    entity_id)`` rows an insert of them returned in any order: matched by (action, entity
    id), and rows alike by ascending id (ids grow in the order of the VALUES list)."""
    returned = sorted(tuple(x) for x in returned)
    ids = []
    for r in rows:
        match = next(x for x in returned if x[1] == r["action"] and x[2] == r["entity_id"])
        returned.remove(match)
        ids.append(match[0])
    return ids
