"""Shared fixtures: real SQLite files and a real PostgreSQL database per test, a live
Loket server in this process (``live_server``, see tests/live.py) and headless Chromium.

PostgreSQL comes from LOKET_TEST_DATABASE_URL (scripts/test.sh sets it and starts the
server). A template database is migrated once per session; each test gets a fresh copy
(CREATE DATABASE ... TEMPLATE), so tests never share rows.
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

PG_URL = os.environ.get("LOKET_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/loket_test")
REDIS_URL = os.environ.get("LOKET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
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


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh, migrated SQLite file; its URL."""
    url = f"sqlite:///{tmp_path / 'loket.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request):
    """Each test using it runs once on SQLite and once on PostgreSQL."""
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


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (the Debian package, never a downloaded build), one per test
    session: Playwright's sync API allows one running instance per process."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
