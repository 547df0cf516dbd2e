"""A short per-process cache of the signed-in staff users, so a counter action does not
read its officer's row on every request (the call path's first query, issue 12).

What is cached: the active ``StaffUser`` by id, detached and read-only (views read its
id, role, office and names; nothing adds it to a session or changes it), for
``TTL_S`` seconds (cachetools ``TTLCache``). How it stays correct:

- a commit through this process's session factory that inserted, changed or deleted a
  ``StaffUser`` (deactivation, a new role or office, a password) empties it at once;
- a change made by another process reaches this one within ``TTL_S``: for at most that
  long a deactivated officer's open session may still act here. Signing out adds 1 to
  the user's ``session_version`` (``web.sessions``): a commit, so this process forgets at
  once and other processes within ``TTL_S``; a cookie claiming a NEWER version than the
  cached row re-reads the row (:meth:`UserCache.fresh`).
"""
from __future__ import annotations

import threading

from cachetools import TTLCache
from sqlalchemy.orm import sessionmaker

from ..db import clear_on_commit
from ..models import StaffUser

TTL_S = 5.0


class UserCache:
    """Active staff users by id for ``TTL_S`` seconds (see the module docstring); one per app."""

    def __init__(self, factory: sessionmaker, ttl_s: float = TTL_S, maxsize: int = 4096) -> None:
        self._factory = factory
        self._users: TTLCache = TTLCache(maxsize=maxsize, ttl=ttl_s)
        self._lock = threading.Lock()

        clear_on_commit(factory, (StaffUser,), self.clear)

    def get(self, user_id: int) -> StaffUser | None:
        """The active user ``user_id`` (detached), from memory or one query; None when
        unknown or inactive (not cached: a login must see a reactivation at once)."""
        with self._lock:
            user = self._users.get(user_id)
        if user is not None:
            return user
        session = self._factory()
        try:
            user = session.get(StaffUser, user_id)
            if user is None or not user.active:
                return None
            session.expunge(user)
        finally:
            session.close()
        with self._lock:
            self._users[user_id] = user
        return user

    def fresh(self, user_id: int) -> StaffUser | None:
        """Like :meth:`get`, but read from the database now (replacing the cached row)."""
        with self._lock:
            self._users.pop(user_id, None)
        return self.get(user_id)

    def clear(self) -> None:
        """Forget every cached user."""
        with self._lock:
            self._users.clear()
