"""A short per-process cache of an office and its services for the public booking POST
(issue 6: the opening burst, when thousands of citizens book within minutes and every
request would otherwise read the same office row and service row) and the ticket issue
(issue 12: ``server.api.tickets``; one cache per app, :func:`for_app`).

What is cached: the ``Office`` with its ``settings`` (the booking rules, the challenge
bits) and its ``Service`` rows by code, loaded in a session of their own and kept
detached and read-only: callers read attributes and ids only, never add these objects to
a session or change them (``bookings.book`` sets ``service_id``, not the relationship;
a ticket issued at a kiosk is inserted with Core and its transient ``Ticket`` only points
at the cached service). Misses (unknown office codes) are not cached.

How it stays correct:

- an entry lives ``TTL_S`` seconds (5), then the next request reads the rows again;
- a commit through this process's session factory that inserted, changed or deleted an
  ``Office`` or ``Service`` (the staff settings pages, the catalog loader, tests) empties
  the cache at once (``after_flush`` notes it, ``after_commit`` clears, a rollback forgets);
- a change made by another process (another gunicorn worker, ``loket catalog load``, SQL
  by hand) reaches this one within ``TTL_S``: for at most 5 s a worker may still take
  bookings for a service just made unbookable, with the old horizon, opening hour or
  challenge setting, and issue tickets of a service just made inactive, with the old
  opening hours, queue rules or daily quotas. Places are unaffected: they are counted in the database
  (``capacity``), whose rows keep the quota they were made with anyway.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from ...db import clear_on_commit
from ...models import Office, Service
from ..errors import NotFound

TTL_S = 5.0
#: the app extension holding the app's one cache (``server.api.bookings.booking_catalog``
#: uses the same key, so the booking POST and the ticket issue share it)
EXTENSION = "loket_booking_catalog"


@dataclass(frozen=True)
class Catalog:
    """An office and its services by code (detached, read-only)."""

    office: Office
    services: dict[str, Service]

    def service_by_id(self, service_id: int) -> Service | None:
        """The service with ``service_id``, or None."""
        return next((s for s in self.services.values() if s.id == service_id), None)


class CatalogCache:
    """Offices by code for ``TTL_S`` seconds, emptied when this process commits a change
    to an office or a service (see the module docstring). One per app."""

    def __init__(self, factory: sessionmaker, ttl_s: float = TTL_S, clock=time.monotonic) -> None:
        self._factory = factory
        self._ttl_s = ttl_s
        self._clock = clock  # seconds, monotonic (tests pass their own)
        self._entries: dict[str, tuple[float, Catalog]] = {}

        clear_on_commit(factory, (Office, Service), self.clear)

    def get(self, code: str) -> Catalog:
        """The office ``code`` and its services; raises NotFound for an unknown office."""
        now = self._clock()
        hit = self._entries.get(code)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._factory() as session:
            office = session.scalars(select(Office).where(Office.code == code)).first()
            if office is None:
                raise NotFound(f"office {code!r} not found")
            services = {s.code: s for s in session.scalars(select(Service).where(Service.office_id == office.id))}
            session.expunge_all()
        catalog = Catalog(office, services)
        if len(self._entries) > 1000:
            self._entries.clear()
        self._entries[code] = (now + self._ttl_s, catalog)
        return catalog

    def clear(self) -> None:
        """Forget every office (the next request reads the rows again)."""
        self._entries.clear()


def for_app(extensions: dict, factory: sessionmaker) -> CatalogCache:
    """The app's cache (``app.extensions[EXTENSION]``), made on first use over the app's
    session ``factory``."""
    cache = extensions.get(EXTENSION)
    if cache is None:
        cache = extensions.setdefault(EXTENSION, CatalogCache(factory))
    return cache
