"""Eight processes issuing and calling at once on PostgreSQL: no duplicate number, no
ticket called twice (issue 2)."""
from __future__ import annotations

import multiprocessing as mp
from collections import Counter as Tally

import pytest
from sqlalchemy import func, select

from server.db import Database
from server.models import Call, Counter, Office, Ticket
from server.services.accounts import create_staff
from server.services.actors import PUBLIC, SYSTEM, Actor
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.services.errors import QueueEmpty
from server.services.queue import call_next, finish, issue_ticket, open_counter

PROCESSES = 8
ROUNDS = 40
SERVICES = ["ktp_el", "kk", "kia", "pelita1", "skpwni", "skdwni", "pickup", "ktp_activation", "info"]


def _worker(url: str, index: int, counter_id: int, actor: Actor, out) -> None:
    db = Database(url, pool_size=2)
    issued, called, errors = [], [], []
    try:
        with db.session() as s:
            office_id = s.scalar(select(Office.id))
        for i in range(ROUNDS):
            try:
                with db.session() as s:
                    office = s.get(Office, office_id)
                    issued.append(issue_ticket(s, office, SERVICES[(index + i) % len(SERVICES)], actor=PUBLIC).id)
                with db.session() as s:
                    called.append(call_next(s, counter_id, actor=actor).ticket_id)
                with db.session() as s:
                    finish(s, counter_id, actor=actor)
            except QueueEmpty:
                continue
            except Exception as exc:  # any other error fails the test
                errors.append(repr(exc))
    finally:
        db.dispose()
        out.put((issued, called, errors))


@pytest.mark.postgres
def test_eight_processes_never_duplicate_or_double_call(pg_url):
    db = Database(pg_url)
    actors = []
    with db.session() as s:
        office = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM, overrides={"opening_time": "00:00", "closing_time": "23:59"})
        counters = s.scalars(select(Counter).where(Counter.office_id == office.id).order_by(Counter.number)).all()
        for c in counters[:PROCESSES]:
            user = create_staff(s, f"o{c.number}", "password123", "front_office", full_name="x", office_id=office.id, actor=SYSTEM)
            actor = Actor("staff", user.id, office_id=office.id, role=user.role)
            open_counter(s, c.id, actor=actor)
            actors.append((c.id, actor))
    db.dispose()

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(pg_url, i, cid, actor, out)) for i, (cid, actor) in enumerate(actors)]
    for p in procs:
        p.start()
    results = [out.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=30)

    issued = [t for r in results for t in r[0]]
    called = [t for r in results for t in r[1]]
    errors = [e for r in results for e in r[2]]
    assert errors == []
    assert len(issued) == PROCESSES * ROUNDS
    assert len(called) == len(set(called)), "a ticket was called by two counters"

    db = Database(pg_url)
    with db.session() as s:
        numbers = s.execute(select(Ticket.service_id, Ticket.number)).all()
        assert len(numbers) == len(set(numbers)) == PROCESSES * ROUNDS
        per_service = Tally(sid for sid, _ in numbers)
        for sid, count in per_service.items():  # numbers are exactly 1..n per service: no gaps either
            got = sorted(n for s_id, n in numbers if s_id == sid)
            assert got == list(range(1, count + 1))
        calls = s.execute(select(Call.ticket_id, func.count()).where(Call.kind == "call").group_by(Call.ticket_id)).all()
        assert all(n == 1 for _, n in calls)
        assert len(calls) == len(called)
    db.dispose()
