"""The answer to a screen's ``sync``: what it missed since its last position, or the full state.

A screen sends ``{"after": position, "log": log id}`` (nothing on its first connect; a
public ticket page adds ``"ticket": public id``). The answer is, in one transaction:

- ``{"log", "position", "entries": [{"name", "data"}]}``: the entries after ``after`` up
  to the stream's head, from this worker's memory or the database, when ``log`` is the
  office's log and at most ``REPLAY_MAX`` entries are missing and all are still kept;
- otherwise ``{"log", "position", "state"}``: the full state
  (``services.snapshots.office_snapshot``) with the position read before it.

``data`` is what the live message carried (the payload with ``position`` and ``log``).
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Office, Ticket
from ..services import stream_log
from ..services.snapshots import office_snapshot, ticket_status
from .emitter import stream_of

#: more missing entries than this: the full state (about 20 calls' worth of entries per 100;
#: 2000 cover ~10 minutes of a busy office calling every 10 s at 30 counters, ~1 MB)
REPLAY_MAX = 2000


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def sync_answer(session: Session, delivery, office_id: int, audience: str, device_id: int | None, data: dict) -> dict:
    """The ``sync`` answer for a client of ``audience`` (display, kiosk, public, survey,
    counter) of ``office_id``; ``data``: the client's request (see the module docstring)."""
    stream = stream_of(audience)
    head = stream_log.head(session, office_id)
    position = head.position(stream)
    after, log = _int(data.get("after")), data.get("log")
    if after is not None and log == head.log and after <= position and position - after <= REPLAY_MAX:
        entries = delivery.cached(office_id, stream, after, position, head.log) if delivery is not None else None
        if entries is None:
            entries = stream_log.entries_after(session, office_id, stream, after, position, head.log)
        if entries is not None:
            return {"log": head.log, "position": position, "entries": [e.wire() for e in entries]}
    state = office_snapshot(session, session.get(Office, office_id), audience)
    state["device_id"] = device_id
    if audience == "public" and data.get("ticket"):
        ticket = session.scalars(select(Ticket).where(Ticket.public_id == str(data["ticket"]))).first()
        if ticket is not None and ticket.office_id == office_id:
            state["ticket"] = ticket_status(session, ticket)
    return {"log": head.log, "position": position, "state": state}
