"""Writes of the call path through SQLAlchemy Core, keeping the loaded objects true
(issue 12, "use SQLAlchemy Core on the hot path where the ORM costs").

Calling, starting and finishing run on every counter action; the ORM's unit of work
(dirty tracking, flush planning, RETURNING bookkeeping) cost more than the statements
themselves. Here each write is one statement built once (bind parameters), and the
objects already in the session are given the written values as their *committed* state
(``set_committed_value``): views and events read them as usual, and the flush at commit has
nothing left to write for them. Only objects locked by the caller are written this way
(the counter's row lock, the ticket's ``FOR UPDATE``), so the values cannot be stale.

:class:`Batch` goes one step further on PostgreSQL: an action's writes (a finish-and-call's
two ticket updates, the counter's streak, the call count, the call row and the audit rows;
a start's or finish's update and audit row) are sent as one statement of data-modifying
CTEs, since each statement costs ~0.25 ms of CPU in SQLAlchemy and psycopg whatever it
does. SQLite has no data-modifying CTEs: there a batch runs each write as it is added.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import cast

from sqlalchemy import Table, TextClause, bindparam, text
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ...models import Call, Counter, Ticket, TicketSequence
from .. import audit
from .locking import count_call

CALLS = cast(Table, Call.__table__)  # mapped classes' tables (typed as any FromClause)
SEQUENCES = cast(Table, TicketSequence.__table__)
CALL_COLUMNS = ("office_id", "ticket_id", "counter_id", "officer_id", "kind", "at")
#: the tables :class:`Batch` updates, by name
TABLES = {t.name: t for t in (cast(Table, Ticket.__table__), cast(Table, Counter.__table__))}


@lru_cache(maxsize=32)
def _update(table: Table, columns: tuple[str, ...]):
    return table.update().where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in columns})


@lru_cache(maxsize=1)
def _insert_call():
    return CALLS.insert().values({c: bindparam(c) for c in CALL_COLUMNS}).returning(CALLS.c.id)


def update(session: Session, row: Ticket | Counter, **values) -> None:
    """``UPDATE <row's table> SET values WHERE id = row.id``, and the same values set on
    ``row`` as committed (column attributes only; the caller holds the row's lock)."""
    columns = tuple(sorted(values))
    session.connection().execute(_update(row.__table__, columns), {"row_id": row.id, **values})
    for name, value in values.items():
        set_committed_value(row, name, value)


def insert_call(session: Session, ticket: Ticket, counter: Counter, officer_id: int | None, kind: str,
                at: datetime) -> Call:
    """Insert a call of ``ticket`` to ``counter``; returns it as a persistent, clean
    ``Call`` of the session with its ``ticket`` and ``counter`` set (no second query)."""
    values = {"office_id": ticket.office_id, "ticket_id": ticket.id, "counter_id": counter.id,
              "officer_id": officer_id, "kind": kind, "at": at}
    return _call_object(session, ticket, counter, session.connection().execute(_insert_call(), values).scalar_one(),
                        values)


def _call_object(session: Session, ticket: Ticket, counter: Counter, call_id: int, values: dict) -> Call:
    """The inserted call ``call_id`` as a persistent, clean ``Call`` of the session."""
    call = Call(id=call_id, **values)
    make_transient_to_detached(call)
    session.add(call)
    set_committed_value(call, "ticket", ticket)
    set_committed_value(call, "counter", counter)
    return call


def _binds(table: Table, names: dict[str, str]) -> list:
    """Typed bind parameters: {bind name: column of ``table``}."""
    return [bindparam(name, type_=table.c[column].type) for name, column in names.items()]


@lru_cache(maxsize=64)
def _merged(shape: tuple) -> TextClause:
    """PostgreSQL: the writes of ``shape`` as one statement of data-modifying CTEs ``w0``,
    ``w1`` … (built once per shape; the bind parameters of part ``i`` are prefixed ``p<i>_``).
    Parts: ("update", table, columns), ("count_call",), ("call",), ("audit", rows). It
    answers one row per audit row, (call id or NULL, audit id, action, entity id), or one
    row (call id or NULL) when there is no audit part."""
    ctes, binds, call, audit_part = [], [], None, None
    for i, part in enumerate(shape):
        p = f"p{i}_"
        if part[0] == "update":
            table = TABLES[part[1]]
            sets = ", ".join(f"{c} = :{p}{c}" for c in part[2])
            ctes.append(f"UPDATE {table.name} SET {sets} WHERE id = :{p}row_id")
            binds += _binds(table, {**{f"{p}{c}": c for c in part[2]}, f"{p}row_id": "id"})
        elif part[0] == "count_call":
            ctes.append(f"INSERT INTO ticket_sequences (office_id, service_id, day, last_number, call_count) "
                        f"VALUES (:{p}office_id, :{p}service_id, :{p}day, 0, 1) "
                        "ON CONFLICT (office_id, service_id, day) DO UPDATE SET call_count = ticket_sequences.call_count + 1")
            binds += _binds(SEQUENCES, {f"{p}{c}": c for c in ("office_id", "service_id", "day")})
        elif part[0] == "call":
            ctes.append(f"INSERT INTO calls ({', '.join(CALL_COLUMNS)}) "
                        f"VALUES ({', '.join(f':{p}{c}' for c in CALL_COLUMNS)}) RETURNING id")
            binds += _binds(CALLS, {f"{p}{c}": c for c in CALL_COLUMNS})
            call = f"w{i}"
        elif part[0] == "audit":
            rows = ", ".join("(" + ", ".join(f":{p}{c}_{r}" for c in audit.COLUMNS) + ")" for r in range(part[1]))
            ctes.append(f"INSERT INTO {audit.AUDIT.name} ({', '.join(audit.COLUMNS)}) VALUES {rows} "
                        "RETURNING id, action, entity_id")
            binds += _binds(audit.AUDIT, {f"{p}{c}_{r}": c for r in range(part[1]) for c in audit.COLUMNS})
            audit_part = f"w{i}"
        else:  # pragma: no cover - a programming error
            raise ValueError(part)
    call_id = f"(SELECT id FROM {call})" if call else "NULL"
    tail = (f"SELECT {call_id}, a.id, a.action, a.entity_id FROM {audit_part} AS a" if audit_part
            else f"SELECT {call_id}")
    return text("WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(ctes)) + " " + tail).bindparams(*binds)


class Batch:
    """The writes of one counter action, in the order added: run one statement at a time as
    they are added (SQLite, and any database but PostgreSQL), or kept and run together as
    one statement by :meth:`run` (PostgreSQL: data-modifying CTEs; the rows written differ,
    so the order inside the statement does not matter).

    Either way the loaded objects get the written values at once (as for :func:`update`),
    so events can be published before :meth:`run`. After :meth:`run`, :attr:`call` is the
    inserted ``Call`` (when :meth:`insert_call` was used) and :attr:`audit_ids` the ids of
    the audit rows, in the order given.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.merged = session.get_bind().dialect.name == "postgresql"
        self.call: Call | None = None
        self.audit_ids: list[int] = []
        self._shape: list[tuple] = []
        self._params: dict = {}
        self._call_values: tuple | None = None
        self._audit_rows: list[dict] = []

    def _add(self, part: tuple, values: dict) -> None:
        p = f"p{len(self._shape)}_"
        self._shape.append(part)
        self._params.update({p + k: v for k, v in values.items()})

    def update(self, row: Ticket | Counter, **values) -> None:
        """``UPDATE <row's table> SET values WHERE id = row.id``; ``row`` has them at once."""
        if not self.merged:
            update(self.session, row, **values)
            return
        columns = tuple(sorted(values))
        self._add(("update", cast(Table, row.__table__).name, columns), {"row_id": row.id, **values})
        for name, value in values.items():
            set_committed_value(row, name, value)

    def count_call(self, office_id: int, service_id: int, day) -> None:
        """One more call today for the service (``locking.count_call``; the count is not read)."""
        if not self.merged:
            count_call(self.session, office_id, service_id, day)
            return
        self._add(("count_call",), {"office_id": office_id, "service_id": service_id, "day": day})

    def insert_call(self, ticket: Ticket, counter: Counter, officer_id: int | None, kind: str, at: datetime) -> None:
        """Insert a call of ``ticket`` to ``counter`` (:func:`insert_call`); :attr:`call` once run."""
        if not self.merged:
            self.call = insert_call(self.session, ticket, counter, officer_id, kind, at)
            return
        values = {"office_id": ticket.office_id, "ticket_id": ticket.id, "counter_id": counter.id,
                  "officer_id": officer_id, "kind": kind, "at": at}
        self._add(("call",), values)
        self._call_values = (ticket, counter, values)

    def audit(self, rows: list[dict]) -> None:
        """Insert audit ``rows`` (``audit.row``) with one INSERT; :attr:`audit_ids` once run."""
        if not self.merged:
            self.audit_ids = audit.insert_rows(self.session, rows)
            return
        self._add(("audit", len(rows)), {f"{c}_{r}": row[c] for r, row in enumerate(rows) for c in audit.COLUMNS})
        self._audit_rows = rows

    def run(self) -> "Batch":
        """Run what is kept (PostgreSQL; nothing elsewhere); returns the batch."""
        if not self._shape:
            return self
        result = self.session.connection().execute(_merged(tuple(self._shape)), self._params).all()
        self._shape, self._params = [], {}
        if self._call_values is not None:
            ticket, counter, values = self._call_values
            self.call = _call_object(self.session, ticket, counter, result[0][0], values)
            self._call_values = None
        if self._audit_rows:
            self.audit_ids = audit.match_ids(self._audit_rows, [row[1:] for row in result])
            self._audit_rows = []
        return self
