"""The per-process cache of signed-in staff (server/web/user_cache.py): a change committed
by this process is seen at once, one made elsewhere within the cache's lifetime."""
from __future__ import annotations

from sqlalchemy import select, update

from server.db import Database
from server.models import StaffUser
from server.services.accounts import create_staff
from server.services.actors import SYSTEM
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.web.user_cache import UserCache


def test_a_deactivation_here_is_seen_at_once_and_one_elsewhere_after_the_ttl(db_url):
    here, elsewhere = Database(db_url), Database(db_url)
    try:
        with here.session() as s:
            office_id = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM).id
            uid = create_staff(s, "officer", "password123", "front_office", full_name="Officer", office_id=office_id,
                               actor=SYSTEM).id
        cache = UserCache(here.Session, ttl_s=3600)
        assert cache.get(uid).username == "officer"
        with here.session() as s:  # this process: the commit empties the cache
            s.scalars(select(StaffUser).where(StaffUser.id == uid)).one().active = False
        assert cache.get(uid) is None
        with here.session() as s:
            s.scalars(select(StaffUser).where(StaffUser.id == uid)).one().active = True
        assert cache.get(uid) is not None  # an inactive user is never cached: reactivation shows at once
        with elsewhere.session() as s:  # another process: seen when the entry expires
            s.execute(update(StaffUser).where(StaffUser.id == uid).values(role="manager"))
        assert cache.get(uid).role == "front_office"
        short = UserCache(here.Session, ttl_s=0.0)
        assert short.get(uid).role == "manager"
        assert cache.get(10**6) is None
    finally:
        here.dispose()
        elsewhere.dispose()
