"""A varied set of office days played through the queue engine with known timestamps, for
the report tests: tickets issued at random whole seconds, called, started, finished,
skipped (twice: no-show), transferred; counters opened, paused, resumed and closed.

:func:`play_days` returns what it did (the counters' open and paused stretches and the
officers), so a test can compute the expected figures itself from the raw rows.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from server.models import Counter, Office
from server.services.accounts import create_staff
from server.services.actors import PUBLIC, SYSTEM, Actor
from server.services.errors import QueueEmpty
from server.services.queue import (
    call_next, close_counter, close_day, finish, issue_ticket, open_counter, pause_counter, resume_counter, skip,
    start, transfer,
)
from tests.conftest import wib

DAYS = (23, 24, 25, 26)  # Monday 23 … Thursday 26 November 2026
DESKS = {1: "ktp_el", 3: "kk", 5: "skpwni"}  # counter number → what it mostly serves
SERVICES = ("ktp_el", "kk", "kia", "skpwni", "ktp_el", "kk")


@dataclass
class Played:
    """What :func:`play_days` did: ``officers`` {username: actor}; ``open``/``paused``
    {username: [(start, end)]} as the test drove them."""

    officers: dict[str, Actor] = field(default_factory=dict)
    open: dict[str, list] = field(default_factory=dict)
    paused: dict[str, list] = field(default_factory=dict)


def _officers(database, office_id: int) -> dict[int, Actor]:
    out = {}
    with database.session() as s:
        for number in DESKS:
            user = create_staff(s, f"rep{number}", "password123", "front_office", full_name=f"Petugas {number}",
                                office_id=office_id, actor=SYSTEM)
            out[number] = Actor("staff", user.id, office_id=office_id, role=user.role)
    return out


def play_days(database, office_id: int, seed: int = 7, per_day: int = 26, days=DAYS) -> Played:
    """Play ``days`` (of November 2026) at counters 1, 3 and 5 (see the module docstring)."""
    rnd = random.Random(seed)
    actors = _officers(database, office_id)
    played = Played(officers={f"rep{n}": a for n, a in actors.items()})
    with database.session() as s:
        counter_ids = {c.number: c.id for c in s.scalars(select(Counter).where(Counter.office_id == office_id))}
    for day in days:
        issues: list[tuple[datetime, str, str | None]] = []
        t = wib(8, 0, day=day)
        for _ in range(per_day):
            t += timedelta(seconds=rnd.randint(20, 420))
            issues.append((t, rnd.choice(SERVICES), "lansia" if rnd.random() < 0.1 else None))
        desks = {}
        for number, actor in actors.items():
            opened = wib(7, 50, day=day) + timedelta(seconds=rnd.randint(0, 600))
            with database.session() as s:
                open_counter(s, counter_ids[number], actor=actor, now=opened)
            desks[number] = {"t": opened + timedelta(seconds=5), "opened": opened, "paused": False, "pauses": 0}

        def issue_until(when: datetime, issues=issues) -> None:  # this day's list
            while issues and issues[0][0] <= when:
                at, service, prio = issues.pop(0)
                with database.session() as s:
                    issue_ticket(s, s.get(Office, office_id), service, actor=PUBLIC, priority_kind=prio, now=at)

        end_of_day = wib(13, 0, day=day)
        active = set(desks)
        while active:
            number = min(active, key=lambda n: desks[n]["t"])
            desk, actor, cid = desks[number], actors[number], counter_ids[number]
            now = desk["t"]
            issue_until(now)
            user = f"rep{number}"
            if now >= end_of_day or (not issues and now > wib(12, 0, day=day) and rnd.random() < 0.3):
                with database.session() as s:
                    close_counter(s, cid, actor=actor, now=now)
                played.open.setdefault(user, []).append((desk["opened"], now))
                active.discard(number)
                continue
            if desk["pauses"] == 0 and now >= wib(10, 0, day=day):
                back = now + timedelta(seconds=rnd.randint(300, 1200))
                with database.session() as s:
                    pause_counter(s, cid, "istirahat", actor=actor, now=now)
                with database.session() as s:
                    resume_counter(s, cid, actor=actor, now=back)
                played.paused.setdefault(user, []).append((now, back))
                desk["pauses"], desk["t"] = 1, back + timedelta(seconds=1)
                continue
            try:
                with database.session() as s:
                    called = call_next(s, cid, actor=actor, now=now).ticket
                    code, skipped_before = called.service.code, called.skip_count
            except QueueEmpty:
                desk["t"] = (issues[0][0] if issues else now + timedelta(seconds=600)) + timedelta(seconds=rnd.randint(1, 90))
                continue
            fate = rnd.random() * (0.2 if skipped_before else 1)  # a second skip is a no-show
            t = now + timedelta(seconds=rnd.randint(10, 60))
            with database.session() as s:
                if fate < 0.12 or (skipped_before and fate < 0.1):
                    skip(s, cid, actor=actor, now=t)
                elif fate < 0.2:
                    start(s, cid, actor=actor, now=t)
                    t += timedelta(seconds=rnd.randint(30, 200))
                    target = "kk" if code == "kia" else "kia"
                    transfer(s, cid, target, actor=actor, to_front=rnd.random() < 0.5, now=t)
                else:
                    start(s, cid, actor=actor, now=t)
                    t += timedelta(seconds=rnd.randint(120, 900))
                    finish(s, cid, actor=actor, now=t)
            desk["t"] = t + timedelta(seconds=rnd.randint(1, 40))
        issue_until(wib(15, 0, day=day))
        with database.session() as s:
            close_day(s, s.get(Office, office_id), now=wib(17, 0, day=day))
    return played
