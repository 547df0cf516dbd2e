"""Writes of the call path through SQLAlchemy Core, keeping the loaded objects true
(issue 12, "use SQLAlchemy Core on the hot path where the ORM costs").

Calling, starting and finishing run on every counter action; the ORM's unit of work
(dirty tracking, flush planning, RETURNING bookkeeping) cost more than the statements
themselves. Here each write is one statement built once (bind parameters), and the
objects already in the session are given the written values as their *committed* state
(``set_committed_value``): views and events read them as usual, and the flush at commit has
nothing left to write for them. Only objects locked by the caller are written this way
(the counter's row lock, the ticket's ``FOR UPDATE``), so the values cannot be stale.
"""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import Table, bindparam
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ...models import Call, Counter, Ticket

CALLS = Call.__table__


@lru_cache(maxsize=32)
def _update(table: Table, columns: tuple[str, ...]):
    return table.update().where(table.c.id == bindparam("row_id")).values({c: bindparam(c) for c in columns})


@lru_cache(maxsize=1)
def _insert_call():
    columns = ("office_id", "ticket_id", "counter_id", "officer_id", "kind", "at")
    return CALLS.insert().values({c: bindparam(c) for c in columns}).returning(CALLS.c.id)


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
    call_id = session.connection().execute(_insert_call(), values).scalar_one()
    call = Call(id=call_id, **values)
    make_transient_to_detached(call)
    session.add(call)
    set_committed_value(call, "ticket", ticket)
    set_committed_value(call, "counter", counter)
    return call
