"""Appending to and reading the office event log (``models.stream_log``).

Every domain event a screen must hear is appended to its office's streams in the same
transaction as the change (``services.events`` calls :func:`append` just before the
commit), so:

- positions are 1, 2, 3 ... without gaps, per office and stream, in commit order: the
  office's head row is bumped with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` and
  stays row-locked until the commit (the write lock on SQLite), so a later transaction gets
  the next positions only after this one has committed;
- a message is in the log exactly when its change is committed; publishing it live
  (``realtime.emitter``) may fail or come late, but a screen that reconnects or sees a gap
  reads the entries after its last position from here (:func:`entries_after`).

``ROUTES`` says which domain event becomes which socket message on which streams; print
jobs and station events are sent to one device and are not logged.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timedelta
from typing import Iterable, cast

from sqlalchemy import BigInteger, CursorResult, bindparam, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..db import multi_insert, multi_params
from ..models import StreamEntry, StreamHead, utcnow
from ..models.stream_log import PUBLIC, STAFF, STREAMS
from . import events as ev

BOTH = STREAMS
#: domain event → (socket message name, streams it is appended to)
ROUTES: dict[str, tuple[str, tuple[str, ...]]] = {
    ev.TICKET_ISSUED: ("ticket", BOTH),
    ev.TICKET_CHANGED: ("ticket", BOTH),
    ev.TICKET_CALLED: ("call", BOTH),
    ev.COUNTER_CHANGED: ("counter", BOTH),
    ev.DEVICE_CHANGED: ("device", BOTH),
    ev.OFFICE_CHANGED: ("resync", BOTH),  # anything else: screens load the full state
    ev.APPLICATION_CHANGED: ("application", (STAFF,)),  # files: never on public screens
    ev.RESI_PRINT_RESULT: ("resi_print", (STAFF,)),
}
ENTRY_COLUMNS = ("office_id", "stream", "position", "name", "data", "at")
#: how long entries are kept for replay (older ones are pruned; such a screen loads the full state)
RETENTION = timedelta(hours=36)


@dataclass(frozen=True)
class Entry:
    """One logged message: ``office_id``, ``stream`` (public or staff), ``position``
    (1-based, gapless), ``log`` (the log's identity), ``name`` (socket message) and
    ``data`` (payload without the position)."""

    office_id: int
    stream: str
    position: int
    log: str
    name: str
    data: dict

    def message(self) -> dict:
        """The payload as sent on the socket: ``data`` plus ``position`` and ``log``."""
        return {**self.data, "position": self.position, "log": self.log}

    def wire(self) -> dict:
        """The entry as a screen receives it, live or replayed: ``{"name", "data"}``."""
        return {"name": self.name, "data": self.message()}

    def as_dict(self) -> dict:
        """The entry as carried between server processes (JSON-safe)."""
        return {"o": self.office_id, "s": self.stream, "p": self.position, "l": self.log, "n": self.name,
                "d": self.data}

    @classmethod
    def from_dict(cls, raw: dict) -> "Entry":
        """The inverse of :meth:`as_dict`; KeyError / TypeError / ValueError on a malformed one."""
        return cls(int(raw["o"]), str(raw["s"]), int(raw["p"]), str(raw["l"]), str(raw["n"]), dict(raw["d"]))


@dataclass(frozen=True)
class Head:
    """The last position of each stream of an office (0 before the first) and the log id."""

    office_id: int
    public: int
    staff: int
    log: str

    def position(self, stream: str) -> int:
        return self.public if stream == PUBLIC else self.staff


@lru_cache(maxsize=None)
def _bump(dialect: str):
    """The head upsert for ``dialect`` (built once: it runs in every transaction that logs)."""
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StreamHead).values(
        office_id=bindparam("office_id"), public_position=bindparam("public"), staff_position=bindparam("staff"),
        log_id=bindparam("log_id"))
    return ins.on_conflict_do_update(
        index_elements=["office_id"],
        set_={"public_position": StreamHead.public_position + ins.excluded.public_position,
              "staff_position": StreamHead.staff_position + ins.excluded.staff_position},
    ).returning(StreamHead.public_position, StreamHead.staff_position, StreamHead.log_id)


@lru_cache(maxsize=64)
def _bump_and_insert(count: int):
    """PostgreSQL: the head upsert and the insert of ``count`` entries in one statement (a
    data-modifying CTE, built once per count). Each entry is given as (stream, back, name,
    data): its position is the stream's new last position minus ``back``. Returns the same
    row as :func:`_bump` (new last positions and the log id). The CTE is named ``stream_head``
    so a statement log still shows the event log's statement as such."""
    head = ("INSERT INTO stream_heads (office_id, public_position, staff_position, log_id) "
            "VALUES (:office_id, :public, :staff, :log_id) ON CONFLICT (office_id) DO UPDATE SET "
            "public_position = stream_heads.public_position + excluded.public_position, "
            "staff_position = stream_heads.staff_position + excluded.staff_position "
            "RETURNING public_position, staff_position, log_id")
    values = ", ".join(f"(:stream_{i}, :back_{i}, :name_{i}, :data_{i})" for i in range(count))
    sql = (f"WITH stream_head AS ({head}), "
           "stream_entry AS (INSERT INTO stream_entries (office_id, stream, position, name, data, at) "
           "SELECT :office_id, e.stream, CASE WHEN e.stream = :public_stream THEN h.public_position "
           "ELSE h.staff_position END - e.back, e.name, e.data, :at "
           f"FROM stream_head AS h, (VALUES {values}) AS e (stream, back, name, data)) "
           "SELECT public_position, staff_position, log_id FROM stream_head")
    columns = StreamEntry.__table__.c
    params = [bindparam("office_id", type_=columns.office_id.type), bindparam("public", type_=BigInteger()),
              bindparam("staff", type_=BigInteger()), bindparam("log_id", type_=StreamHead.__table__.c.log_id.type),
              bindparam("public_stream", type_=columns.stream.type), bindparam("at", type_=columns.at.type)]
    for i in range(count):
        params += [bindparam(f"stream_{i}", type_=columns.stream.type), bindparam(f"back_{i}", type_=BigInteger()),
                   bindparam(f"name_{i}", type_=columns.name.type), bindparam(f"data_{i}", type_=columns.data.type)]
    return text(sql).bindparams(*params)


def append(session: Session, events: Iterable[ev.DomainEvent], now: datetime | None = None) -> list[Entry]:
    """Number the routed ``events`` in their offices' streams and insert them; returns the
    entries in position order per office and stream (events without a route are skipped).

    Runs inside the caller's transaction, as its last statements: the head row stays locked
    until the commit. Offices are taken in id order, so two transactions never wait on each
    other's heads in a cycle. PostgreSQL: one statement per office (head and entries
    together, :func:`_bump_and_insert`); SQLite: one head upsert per office, then one insert
    of every entry.
    """
    per_office: dict[int, list[tuple[str, tuple[str, ...], dict]]] = {}
    for event in events:
        route = ROUTES.get(event.name)
        if route is not None:
            per_office.setdefault(event.office_id, []).append((route[0], route[1], event.data))
    if not per_office:
        return []
    at = now or utcnow()
    connection = session.connection()  # Core: no ORM bookkeeping on the hot path
    merged = connection.dialect.name == "postgresql"
    entries: list[Entry] = []
    for office_id in sorted(per_office):
        routed = per_office[office_id]
        adds = {s: sum(1 for _n, streams, _d in routed if s in streams) for s in STREAMS}
        params = {"office_id": office_id, "public": adds[PUBLIC], "staff": adds[STAFF], "log_id": secrets.token_hex(6)}
        if merged:
            rel = {PUBLIC: 0, STAFF: 0}
            i = 0
            for name, streams, data in routed:
                for stream in streams:
                    rel[stream] += 1
                    params.update({f"stream_{i}": stream, f"back_{i}": adds[stream] - rel[stream],
                                   f"name_{i}": name, f"data_{i}": data})
                    i += 1
            params.update(public_stream=PUBLIC, at=at)
            statement = _bump_and_insert(i)
        else:
            statement = _bump(connection.dialect.name)
        public_last, staff_last, log = connection.execute(statement, params).one()
        nxt = {PUBLIC: public_last - adds[PUBLIC], STAFF: staff_last - adds[STAFF]}
        for name, streams, data in routed:
            for stream in streams:
                nxt[stream] += 1
                entries.append(Entry(office_id, stream, nxt[stream], log, name, data))
    if not merged:
        rows = [{"office_id": e.office_id, "stream": e.stream, "position": e.position, "name": e.name,
                 "data": e.data, "at": at} for e in entries]
        connection.execute(multi_insert(StreamEntry.__table__, ENTRY_COLUMNS, len(rows)),
                           multi_params(ENTRY_COLUMNS, rows))
    return entries


def head(session: Session, office_id: int) -> Head:
    """The office's head (positions 0 and a None-like empty log id before its first entry)."""
    row = session.execute(select(StreamHead.public_position, StreamHead.staff_position, StreamHead.log_id)
                          .where(StreamHead.office_id == office_id)).first()
    return Head(office_id, *row) if row else Head(office_id, 0, 0, "")


def heads(session: Session) -> list[Head]:
    """Every office's head (one small query: the per-worker gap check reads it every second)."""
    rows = session.execute(select(StreamHead.office_id, StreamHead.public_position, StreamHead.staff_position,
                                  StreamHead.log_id))
    return [Head(*row) for row in rows]


def entries_after(session: Session, office_id: int, stream: str, after: int, upto: int, log: str) -> list[Entry] | None:
    """The entries ``after`` < position <= ``upto`` of a stream, in order; None when any of
    them is no longer kept (pruned), so the screen must load the full state instead."""
    if upto <= after:
        return []
    rows = session.execute(
        select(StreamEntry.position, StreamEntry.name, StreamEntry.data)
        .where(StreamEntry.office_id == office_id, StreamEntry.stream == stream,
               StreamEntry.position > after, StreamEntry.position <= upto)
        .order_by(StreamEntry.position)
    ).all()
    if len(rows) != upto - after:
        return None
    return [Entry(office_id, stream, p, log, name, data) for p, name, data in rows]


def prune(session: Session, now: datetime | None = None, keep: timedelta = RETENTION) -> int:
    """Delete entries older than ``keep`` (default :data:`RETENTION`); returns how many."""
    cutoff = (now or utcnow()) - keep
    result = cast(CursorResult, session.execute(delete(StreamEntry).where(StreamEntry.at < cutoff)))  # DML: a cursor
    return result.rowcount or 0
