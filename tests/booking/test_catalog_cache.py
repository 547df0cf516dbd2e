"""The booking POST's office and service cache (server/services/booking/catalog_cache.py):
a change committed in this process is seen at once, a change by another process within the
cache's lifetime; the cached rows are detached and never join a request's session."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.db import Database
from server.models import Booking, Office, Service
from server.services.booking.catalog_cache import TTL_S, CatalogCache
from server.services.errors import NotFound
from tests.booking.test_booking_api import NIK, NIK2, book, client, last_day, set_booking
from tests.server.test_api import app  # noqa: F401  (app: fixture)


def test_a_commit_in_this_process_is_seen_at_once(app):
    c = client(app)
    day = last_day(app)
    assert book(c, day=day).outcome == "booked"  # the cache now holds DEMO
    set_booking(app, challenge_bits=8)  # a commit through the app's session factory
    r = book(c, day=day, nik=NIK2, name="Siti")
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "challenge", r.get_json()
    with app.extensions["loket"].db.session() as s:
        s.scalars(select(Service).where(Service.code == "kk")).one().active = False
    set_booking(app)
    r = book(c, day=day, nik=NIK2, name="Siti")
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "service", r.get_json()
    with app.extensions["loket"].db.session() as s:
        assert s.scalars(select(Booking.nik)).all() == [NIK]


def test_another_process_is_seen_within_the_lifetime_and_rows_stay_detached(db_url, app):
    now = [100.0]
    cache = CatalogCache(app.extensions["loket"].db.Session, clock=lambda: now[0])
    first = cache.get("DEMO")
    assert first.office.code == "DEMO" and first.services["kk"].code == "kk"
    assert first.service_by_id(first.services["kk"].id) is first.services["kk"]
    other = Database(db_url)  # another process's engine: no event reaches this cache
    try:
        with other.session() as s:
            office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
            office.settings = {**(office.settings or {}), "booking": {"horizon_days": 3}}
    finally:
        other.dispose()
    now[0] += TTL_S - 0.1
    assert cache.get("DEMO") is first  # still within its lifetime
    now[0] += 0.2
    fresh = cache.get("DEMO")
    assert fresh is not first and fresh.office.settings["booking"] == {"horizon_days": 3}
    # Rows of the cache belong to no session; unknown offices are not cached.
    with app.extensions["loket"].db.session() as s:
        assert fresh.office not in s and fresh.services["kk"] not in s
    for _ in range(2):
        with pytest.raises(NotFound):
            cache.get("NOPE")
