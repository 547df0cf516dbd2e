"""What ``loket serve`` refuses to start with (issue 13): a weak or well-known secret key,
and a database that still has demo accounts with the demo password.

The demo (``loket demo``) and the tests are exempt: they never call these checks. Each
problem comes with how to fix it.
"""
from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

MIN_KEY_LENGTH = 32
MIN_DISTINCT_CHARACTERS = 10

#: Keys that are public, refused whatever their length: the test suite's (TestingConfig,
#: tests/procs.py), the placeholder of the deployment checks, and common examples.
KNOWN_KEYS = frozenset({
    "test-secret-key", "test-secret", "check", "secret", "changeme", "change-me", "dev", "development",
    "loket", "demo", "demo1234", "please-change-me", "your-secret-key", "supersecret",
})

HOW_TO_FIX_KEY = ("set LOKET_SECRET_KEY to a long random value, e.g.\n"
                  "  export LOKET_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')\n"
                  "(keep it secret and the same for every worker and `loket worker`; changing it signs "
                  "everyone out and invalidates printed QR codes)")


def secret_key_problem(key: str | None) -> str | None:
    """Why ``key`` must not be used in production, or None when it may. Refused: empty; a
    known key (:data:`KNOWN_KEYS`, any case); shorter than :data:`MIN_KEY_LENGTH`
    characters; fewer than :data:`MIN_DISTINCT_CHARACTERS` different characters, or one
    character making up more than a quarter of it (little entropy: "aaaa…", "abab…").
    The answer ends with how to fix it. Never raises."""
    key = key or ""
    if not key:
        problem = "LOKET_SECRET_KEY is not set"
    elif key.strip().lower() in KNOWN_KEYS:
        problem = "LOKET_SECRET_KEY is a well-known key (from the tests or the documentation)"
    elif len(key) < MIN_KEY_LENGTH:
        problem = f"LOKET_SECRET_KEY is too short ({len(key)} characters; at least {MIN_KEY_LENGTH})"
    elif len(set(key)) < MIN_DISTINCT_CHARACTERS or max(key.count(c) for c in set(key)) * 4 > len(key):
        problem = "LOKET_SECRET_KEY is too regular to be secret (too few different characters)"
    else:
        return None
    return f"{problem}: {HOW_TO_FIX_KEY}"


def demo_accounts_with_demo_password(database_url: str) -> list[str]:
    """User names of ACTIVE accounts named like the demo's (``server.demo.DEMO_STAFF``) whose
    password is still the demo password, on ``database_url``; [] when there are none or the
    database has no staff table yet (nothing to refuse). Raises nothing for a missing table;
    other database errors propagate (the server could not start on it either)."""
    from .demo import DEMO_PASSWORD, DEMO_STAFF
    from .models import StaffUser

    names = [u for u, _n, _r in DEMO_STAFF]
    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            try:
                rows = s.execute(select(StaffUser.username, StaffUser.password_hash)
                                 .where(StaffUser.username.in_(names), StaffUser.active.is_(True))).all()
            except SQLAlchemyError:
                if _has_staff_table(engine):
                    raise
                return []
    finally:
        engine.dispose()
    return sorted(u for u, h in rows if check_password_hash(h, DEMO_PASSWORD))


def _has_staff_table(engine) -> bool:
    from sqlalchemy import inspect

    return inspect(engine).has_table("staff_users")


def demo_accounts_problem(database_url: str) -> str | None:
    """Why ``loket serve`` must not start on ``database_url`` (demo accounts with the demo
    password), with how to fix it; None when there are none."""
    found = demo_accounts_with_demo_password(database_url)
    if not found:
        return None
    listing = ", ".join(found)
    return (f"the database has demo accounts that still have the demo password: {listing}.\n"
            f"Give each a new password or deactivate it, e.g.\n"
            f"  loket staff-passwd {found[0]}\n"
            f"  loket staff-deactivate {found[0]}\n"
            f"(or serve a database made without `loket demo`)")


def serve_problems(secret_key: str | None, database_url: str) -> list[str]:
    """Every reason ``loket serve`` refuses to start (see the module docstring); [] = start."""
    problems = [p for p in (secret_key_problem(secret_key),) if p]
    demo = demo_accounts_problem(database_url)
    if demo:
        problems.append(demo)
    return problems
