"""Log-in throttling and lockout per account name and per client address (issue 13).

Only FAILED sign-ins are counted (a correct password never is, so an office whose staff
sign in many times a day is never slowed down), on the app's Flask-Limiter storage
(``app.extensions["loket_limiter"]``: Redis when ``LOKET_REDIS_URL`` is set, shared by
every worker; process memory otherwise). Configuration (``server.config``; "" disables):

- ``LOGIN_USER_LIMIT`` (env ``LOKET_LOGIN_USER_LIMIT``, default "5/15 minutes"): failures
  per user name, whether or not an account of that name exists;
- ``LOGIN_ADDRESS_LIMIT`` (env ``LOKET_LOGIN_ADDRESS_LIMIT``, default "20/15 minutes"):
  failures per client address (behind a proxy see ``LOKET_PROXY_COUNT``);
- ``LOGIN_LOCKOUT_S`` (env ``LOKET_LOGIN_LOCKOUT_S``, default 900): once a name or an
  address reaches its limit it is locked for this many seconds from that failure.

While locked, a sign-in is refused even with the right password, with the answer of a
wrong password plus "too many attempts" (the same for an unknown name, so the answer never
tells whether an account exists); the password is still checked so the time is the same.
A successful sign-in forgets the failures of its user name (not of its address).

The name key is an HMAC of the lower-cased name with the secret key, so the storage never
holds user names and an attacker's long names make no long keys. A storage error is
logged and lets the attempt through (the limits guard, they must not lock everybody out
when Redis is away; the password check still applies).
"""
from __future__ import annotations

import hashlib
import hmac
import logging

from flask import current_app
from flask_limiter.util import get_remote_address
from limits import RateLimitItemPerSecond, parse

log = logging.getLogger(__name__)


def _strategy():
    """The limits strategy of the app's limiter (its storage: Redis or memory)."""
    return current_app.extensions["loket_limiter"].limiter


def _name_key(username: str) -> str:
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), username.strip().lower().encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def _checks(username: str) -> list[tuple[str, str, str]]:
    """[(scope, key, limit)] of the configured limits for this attempt."""
    out = []
    user_limit = current_app.config.get("LOGIN_USER_LIMIT") or ""
    addr_limit = current_app.config.get("LOGIN_ADDRESS_LIMIT") or ""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "loket"
    if user_limit:
        out.append((f"{prefix}-login-user", _name_key(username), user_limit))
    if addr_limit:
        out.append((f"{prefix}-login-addr", get_remote_address() or "unknown", addr_limit))
    return out


def _lock_item():
    return RateLimitItemPerSecond(1, max(1, int(current_app.config.get("LOGIN_LOCKOUT_S") or 900)))


def is_locked(username: str) -> bool:
    """True when the user name or this request's address is locked out (see the module
    docstring); False when no limit is configured or the storage fails."""
    try:
        strategy = _strategy()
        for scope, key, limit in _checks(username):
            if not strategy.test(_lock_item(), scope, "lock", key) or not strategy.test(parse(limit), scope, key):
                return True
    except Exception:
        log.warning("login throttle storage unavailable", exc_info=True)
    return False


def failed(username: str) -> None:
    """Count a failed sign-in for the user name and the address; lock whichever reached
    its limit for ``LOGIN_LOCKOUT_S`` seconds."""
    try:
        strategy = _strategy()
        for scope, key, limit in _checks(username):
            item = parse(limit)
            strategy.hit(item, scope, key)
            if not strategy.test(item, scope, key):
                strategy.hit(_lock_item(), scope, "lock", key)
    except Exception:
        log.warning("login throttle storage unavailable", exc_info=True)


def succeeded(username: str) -> None:
    """Forget the failures of this user name (a correct password was given, not locked)."""
    try:
        strategy = _strategy()
        for scope, key, limit in _checks(username):
            if scope.endswith("-login-user"):
                strategy.clear(parse(limit), scope, key)
    except Exception:
        log.warning("login throttle storage unavailable", exc_info=True)
