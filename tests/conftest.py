"""Shared fixtures: real SQLite files and a real PostgreSQL database per test, a live
Loket server in this process (``live_server``, see tests/live.py) and headless Chromium.

PostgreSQL comes from LOKET_TEST_DATABASE_URL (scripts/test.sh sets it and starts the
server). A template database is migrated once per session (per pytest-xdist worker: it is
named with the worker process's id); each test gets a fresh copy (CREATE DATABASE ...
TEMPLATE), so tests never share rows.

The suite runs in parallel workers (scripts/test.sh: ``-n``, LOKET_TEST_WORKERS). Redis
comes from LOKET_TEST_REDIS_URL, one database per worker (``REDIS_URL``: db 15 for gw0, 14
for gw1, ...), and servers listen on ports of the worker's own (``tests.live.free_port``):
see tests/workers.py. Tests that must not run at the same time as each other share an
``xdist_group`` (scripts/test.sh distributes with ``--dist loadgroup``).
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from server.db import Database
from server.migrations import upgrade
from tests.live import serve_demo
from tests.workers import redis_url

PG_URL = os.environ.get("LOKET_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/loket_test")
REDIS_URL = redis_url(os.environ.get("LOKET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
"""This worker's Redis database (tests/workers.py)."""
ARTIFACTS = Path(os.environ.get("LOKET_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
TEMPLATE_DB = f"loket_tmpl_{os.getpid()}"


def _admin_dsn(url: str) -> str:
    base = url.replace("postgresql+psycopg://", "postgresql://")
    return base.rsplit("/", 1)[0] + "/postgres"


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template():
    """Name of a migrated template database (dropped at the end of the session)."""
    with psycopg.connect(_admin_dsn(PG_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    upgrade(_with_db(PG_URL, TEMPLATE_DB))
    yield TEMPLATE_DB
    with psycopg.connect(_admin_dsn(PG_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_template):
    """A fresh, migrated PostgreSQL database for one test; its URL."""
    name = f"loket_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_dsn(PG_URL), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _with_db(PG_URL, name)
    with psycopg.connect(_admin_dsn(PG_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PG_FIXTURES = frozenset({"pg_url", "pg_template"})


def pytest_collection_modifyitems(config, items):
    """Give the ``postgres`` marker to every test that needs the PostgreSQL server.

    In: the collected items. Out: none; each item whose fixture closure holds
    ``pg_url`` or ``pg_template`` (asked for directly or through another fixture)
    gets ``pytest.mark.postgres``, so ``-m "not postgres"`` deselects it and
    ``-m postgres`` selects it. The PostgreSQL case of ``db_url`` asks for ``pg_url``
    at run time: it is marked by its parameter (see ``db_url``) and, for a test that
    re-parametrizes ``db_url`` itself (``indirect=True``), by its ``"postgres"`` value here."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_pg_param = callspec is not None and callspec.params.get("db_url") == "postgres"
        if on_pg_param or PG_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh, migrated SQLite file; its URL."""
    url = f"sqlite:///{tmp_path / 'loket.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request):
    """Each test using it runs once on SQLite and once on PostgreSQL (that case carries
    the ``postgres`` marker, so ``-m "not postgres"`` leaves it out)."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def live_server(sqlite_url, tmp_path):
    """A Loket server on 127.0.0.1:<free port> with the demo office (SQLite, threading
    Socket.IO), stopped after the test: a :class:`tests.live.LiveServer`."""
    with serve_demo(sqlite_url, tmp_path) as server:
        yield server


@pytest.fixture
def artifacts() -> Path:
    """Directory kept after the run for screenshots and reports."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def wib(hh: int, mm: int = 0, day: int = 23) -> datetime:
    """2026-11-<day> (23 = a Monday) at hh:mm WIB (Asia/Jakarta), as an aware datetime."""
    return datetime(2026, 11, day, hh, mm, tzinfo=ZoneInfo("Asia/Jakarta")).astimezone(timezone.utc)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
]


def _wait_for_function_without_eval(page, expression, *, arg=None, timeout=None, polling=None):
    """``Page.wait_for_function`` that never evaluates a string inside the page.

    Playwright's own polls the predicate in the page with ``eval``, which the pages'
    Content-Security-Policy refuses (no 'unsafe-eval', server/headers.py), so its first
    retry fails. This polls from here with ``page.evaluate`` (a DevTools evaluation, which
    the policy does not govern) every ``polling`` ms (default 50) until the expression
    is truthy, retrying across navigations and page errors (an object not there yet); raises Playwright's TimeoutError after
    ``timeout`` ms (default: the page's default timeout). Returns the truthy value."""
    import time as _time

    from playwright.sync_api import Error
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if timeout is None:
        try:
            timeout = page._impl_obj._timeout_settings.timeout()
        except Exception:  # noqa: BLE001 - a private attribute; Playwright's default then
            timeout = 30_000
    interval = (polling / 1000) if isinstance(polling, (int, float)) else 0.05
    deadline = _time.monotonic() + timeout / 1000
    last_error = None
    while True:
        try:
            value = page.evaluate(expression, arg)
            if value:
                return value
        except Error as exc:  # a navigation, or a page object not there yet: try again
            last_error = exc
        if _time.monotonic() >= deadline:
            raise PlaywrightTimeout(f"wait_for_function: {expression!r} not true within {timeout} ms"
                                    + (f" (last error: {last_error})" if last_error else ""))
        _time.sleep(interval)


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the Debian package, never a downloaded build), one per test
    session: Playwright's sync API allows one running instance per process. Its pages'
    ``wait_for_function`` polls without eval in the page (see
    :func:`_wait_for_function_without_eval`: the pages forbid eval)."""
    from playwright.sync_api import Page, sync_playwright

    Page.wait_for_function = _wait_for_function_without_eval
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
