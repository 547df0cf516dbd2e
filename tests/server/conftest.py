"""Fixtures for the queue engine: the demo office, an officer at each counter."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from server.models import Counter, Office
from server.services.accounts import create_staff
from server.services.actors import SYSTEM, Actor
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.services.queue import open_counter


@dataclass
class Desk:
    """A counter with its officer (actor) open for calls."""

    counter_id: int
    number: int
    actor: Actor


@pytest.fixture
def office_id(database) -> int:
    with database.session() as s:
        return load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM).id


@pytest.fixture
def open_desk(database, office_id):
    """open_desk(number) → Desk: creates an officer and opens counter ``number``."""

    def make(number: int, when=None) -> Desk:
        with database.session() as s:
            counter = s.scalars(select(Counter).where(Counter.office_id == office_id, Counter.number == number)).one()
            user = create_staff(s, f"officer{number}", "password123", "front_office",
                                full_name=f"Officer {number}", office_id=office_id, actor=SYSTEM)
            actor = Actor("staff", user.id, office_id=office_id, role=user.role)
            open_counter(s, counter.id, actor=actor, now=when)
            return Desk(counter.id, number, actor)

    return make


def office(s, office_id: int) -> Office:
    return s.get(Office, office_id)
