"""Staff sessions that end (issue 13): sign-in, sign-out everywhere, idle timeout.

The session is Flask's signed cookie. What makes it end on the server:

- **Session version.** At sign-in the cookie gets the user's ``staff_users.session_version``
  (``VERSION_KEY``). Signing out (page or API) adds 1 to it in the database (audited
  ``staff.logout``), and so does a password change (``accounts.set_password``): every
  cookie signed in before, this browser's, a copy of it and another browser's of the same
  user, stops working. So "Keluar" signs the user out on every device.
- **Checked on every request** that looks at the user (Flask-Login's user loader, which
  every page, API view and the Socket.IO connect handler go through, see
  :func:`admit`). The user comes from the per-process cache (``web.user_cache``, 5 s):
  a sign-out committed in this process empties this process's cache at once; another
  worker compares against its cached row, which is at most ``user_cache.TTL_S`` (5 s) old.
  So a copied cookie may still work for up to 5 s on another worker after a sign-out, and
  never afterwards. A cached row OLDER than the cookie's claim (the user signed out and in
  again meanwhile) is re-read from the database, never refused on stale data.
- **Idle timeout.** The cookie holds the time of the last activity (``SEEN_KEY``, epoch
  seconds), rewritten at most once every ``REFRESH_S`` (60 s) so that a console's requests
  do not each send a new cookie. A session idle longer than the limit is ended: the office
  setting ``settings["security"]["idle_timeout_min"]`` (default ``IDLE_TIMEOUT_MIN``, 480 =
  8 h) and, for ``admin`` and ``system_admin``, ``settings["security"]["admin_idle_timeout_min"]``
  (default ``ADMIN_IDLE_TIMEOUT_MIN``, 60). The limits are read per office and kept
  ``LIMITS_CACHE_S`` seconds per process (a change in this process is seen at once).

An ended session is cleared; the request goes on as nobody: a page that needs a login
redirects to the sign-in page, which says why (:func:`login_message`), an
API view answers 401 ``{"error": "unauthorized", ...}``, a Socket.IO connect is refused.
Sign-in also empties the session before logging in (no fixation: nothing set before
sign-in survives it) and rotates the CSRF token.
"""
from __future__ import annotations

import threading
import time

from cachetools import TTLCache
from flask import Flask, current_app, g, session
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..db import clear_on_commit
from ..models import ADMIN_ROLES, Office, StaffUser
from ..services import audit
from ..services.accounts import authenticate_staff, end_sessions
from ..services.actors import Actor
from . import login_throttle

VERSION_KEY = "_loket_sv"
SEEN_KEY = "_loket_seen"
REFRESH_S = 60
LIMITS_CACHE_S = 60.0


def now() -> float:
    """Epoch seconds (the clock of session activity)."""
    return time.time()


def init_sessions(app: Flask) -> None:
    """Per-app cache of the offices' idle limits, emptied by a commit that changes an office
    in this process, and the sign-in page's message (:func:`login_message`); call once
    from the app factory, after the LoginManager."""
    cache = _LimitsCache(app)
    clear_on_commit(app.extensions["loket"].db.Session, (Office,), cache.clear)
    app.extensions["loket_idle_limits"] = cache
    manager = app.login_manager  # its redirect to the sign-in page says why, in the page language
    manager.login_message = "login.please_sign_in"
    manager.login_message_category = "error"
    manager.localize_callback = login_message


def idle_limits(settings: dict | None, config) -> tuple[int, int]:
    """(staff, admin) idle limits in seconds from an office's ``settings`` (may be None)
    and the installation defaults in ``config`` (``IDLE_TIMEOUT_MIN``,
    ``ADMIN_IDLE_TIMEOUT_MIN``); a missing or invalid (not a positive number) value
    takes the default. Never raises."""
    sec = (settings or {}).get("security") if isinstance(settings, dict) else None
    sec = sec if isinstance(sec, dict) else {}

    def minutes(key: str, default) -> int:
        value = sec.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            value = default
        return int(float(value) * 60)

    return (minutes("idle_timeout_min", config.get("IDLE_TIMEOUT_MIN", 480)),
            minutes("admin_idle_timeout_min", config.get("ADMIN_IDLE_TIMEOUT_MIN", 60)))


class _LimitsCache:
    def __init__(self, app: Flask) -> None:
        self._app = app
        self._limits: TTLCache = TTLCache(maxsize=1024, ttl=LIMITS_CACHE_S)
        self._lock = threading.Lock()

    def get(self, office_id: int | None) -> tuple[int, int]:
        with self._lock:
            hit = self._limits.get(office_id)
        if hit is not None:
            return hit
        settings = None
        if office_id is not None:
            s = self._app.extensions["loket"].db.Session()
            try:
                office = s.get(Office, office_id)
                settings = dict(office.settings or {}) if office is not None else None
            finally:
                s.close()
        limits = idle_limits(settings, self._app.config)
        with self._lock:
            self._limits[office_id] = limits
        return limits

    def clear(self) -> None:
        with self._lock:
            self._limits.clear()


def idle_limit_s(user: StaffUser) -> int:
    """The idle limit (seconds) of ``user``'s sessions: its office's, shorter for admins."""
    staff_s, admin_s = current_app.extensions["loket_idle_limits"].get(user.office_id)
    return admin_s if user.role in ADMIN_ROLES else staff_s


def admit(user: StaffUser | None, user_id: int) -> StaffUser | None:
    """The user loader's check: ``user`` (the cached row of the cookie's user id) when this
    session is still alive, else None after ending the session (see the module
    docstring). Refreshes the last-activity time at most once every ``REFRESH_S``."""
    if user is None:
        return None
    claim = session.get(VERSION_KEY)
    if not isinstance(claim, int):
        return _end("ended")  # signed in before session versions existed
    if (user.session_version or 0) < claim:  # the cached row is older than the cookie
        user = current_app.extensions["loket_user_cache"].fresh(user_id)
        if user is None:
            return _end("ended")
    if (user.session_version or 0) != claim:
        return _end("ended")
    seen = session.get(SEEN_KEY)
    t = now()
    if not isinstance(seen, (int, float)) or t - seen > idle_limit_s(user):
        return _end("idle")
    if t - seen >= REFRESH_S:
        session[SEEN_KEY] = int(t)
    return user


def _end(reason: str) -> None:
    session.clear()
    g.loket_session_ended = reason  # the sign-in page's message says why (login_message)


def login_message(key: str) -> str:
    """Flask-Login's ``localize_callback``: the message a page that needs a login flashes
    on its way to the sign-in page, in the page language; why the session ended when this
    request ended it (idle, signed out elsewhere), else "please sign in"."""
    from ..i18n import current_language, translate

    reason = g.get("loket_session_ended")
    key = {"idle": "login.session_idle", "ended": "login.session_ended"}.get(reason, key)
    return translate(key, current_language())


def begin(user: StaffUser) -> str:
    """Sign ``user`` in on a new session: empty the old one (no fixation), log in, store the
    session version and the activity time, and rotate the CSRF token; returns the new token."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.clear()
    g.pop(field, None)
    login_user(user)
    session[VERSION_KEY] = int(user.session_version or 0)
    session[SEEN_KEY] = int(now())
    return generate_csrf()


def sign_in(username: str, password: str) -> tuple[StaffUser | None, bool]:
    """Check a staff sign-in through the throttle (``login_throttle``) and begin its session.
    Returns (user, locked): (the detached user, False) when signed in; (None, locked)
    otherwise, ``locked`` True when the name or the address is locked out (then the
    password is checked all the same, for equal time, and ignored). Audited
    ``staff.login`` / ``staff.login_failed``."""
    locked = login_throttle.is_locked(username)
    with current_app.extensions["loket"].db.session() as s:
        user = authenticate_staff(s, username, password)
        if locked:
            user = None
        if user is None:
            audit.record(s, Actor("public"), "staff.login_failed", "staff", None, office_id=None,
                         data={"username": username[:80], "locked": locked})
        else:
            audit.record(s, Actor("staff", user.id, office_id=user.office_id, role=user.role),
                         "staff.login", "staff", user.id, office_id=user.office_id)
            s.expunge(user)
    if user is None:
        login_throttle.failed(username)
        return None, locked
    login_throttle.succeeded(username)
    begin(user)
    return user, False


def sign_out() -> None:
    """End the signed-in user's sessions everywhere (session version + 1, audited
    ``staff.logout``) and empty this session. Nobody signed in: only empties it."""
    if current_user.is_authenticated:
        uid = current_user.id
        actor = Actor("staff", uid, office_id=current_user.office_id, role=current_user.role)
        with current_app.extensions["loket"].db.session() as s:
            end_sessions(s, uid, actor=actor)
    logout_user()
    session.clear()
