"""`loket serve` refuses to start with a weak or well-known secret key, and on a database
that still has demo accounts with the demo password; it says how to fix (issue 13).
The real command, run as a subprocess; the demo and the tests are exempt."""
from __future__ import annotations

import os
import secrets
import subprocess

import pytest
from sqlalchemy import select, update

from server.db import Database
from server.demo import DEMO_PASSWORD, DEMO_STAFF, seed_demo
from server.models import StaffUser
from server.startup_checks import secret_key_problem
from tests.live import free_port
from tests.procs import LOKET, serve_process

STRONG = secrets.token_hex(32)


def env_for(sqlite_url: str, data_dir, key: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOKET_")}
    env.update({"LOKET_DATABASE_URL": sqlite_url, "LOKET_DATA_DIR": str(data_dir), "LOKET_INSECURE_COOKIES": "1"})
    if key is not None:
        env["LOKET_SECRET_KEY"] = key
    return env


def serve(env: dict) -> subprocess.CompletedProcess:
    """`loket serve`, expected to refuse at once (a timeout means it started: a failure)."""
    return subprocess.run([LOKET, "serve", "--host", "127.0.0.1", "--port", str(free_port()), "--workers", "1"],
                          env=env, check=False, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("key", [None, "", "test-secret-key", "test-secret", "check", "short-but-random-Xy7",
                                 "a" * 64, "ab" * 32, "TEST-SECRET-KEY"])
def test_weak_and_known_keys_are_refused(key):
    assert secret_key_problem(key) is not None


@pytest.mark.parametrize("key", [STRONG, secrets.token_urlsafe(32), secrets.token_hex(16)],
                         ids=["strong", "token_urlsafe", "token_hex"])  # the same ids in every xdist worker
def test_random_keys_are_accepted(key):
    assert secret_key_problem(key) is None


@pytest.mark.parametrize("key", [None, "test-secret-key", "0" * 40])
def test_serve_refuses_a_weak_key_and_says_how_to_fix(sqlite_url, tmp_path, key):
    r = serve(env_for(sqlite_url, tmp_path, key))
    assert r.returncode == 1, r.stderr
    assert "loket serve refuses to start" in r.stderr and "LOKET_SECRET_KEY" in r.stderr
    assert "secrets.token_hex(32)" in r.stderr


def test_serve_refuses_demo_accounts_with_the_demo_password_until_fixed(sqlite_url, tmp_path):
    db = Database(sqlite_url)
    seed_demo(db, tmp_path)
    env = env_for(sqlite_url, tmp_path, STRONG)
    r = serve(env)
    assert r.returncode == 1
    assert "demo accounts" in r.stderr and "fo1" in r.stderr and "admin" in r.stderr
    assert "loket staff-passwd" in r.stderr and "loket staff-deactivate" in r.stderr
    assert "LOKET_SECRET_KEY" not in r.stderr  # the key is fine: only the real problem is named

    # fixed one by one: a new password for fo1, deactivate fo2 (the commands the message names) ...
    subprocess.run([LOKET, "staff-passwd", "fo1", "--password", "a-real-password-1"], env=env, check=True,
                   capture_output=True, timeout=60)
    subprocess.run([LOKET, "staff-deactivate", "fo2"], env=env, check=True, capture_output=True, timeout=60)
    r = serve(env)
    assert r.returncode == 1 and "fo1" not in r.stderr.split("password:")[1].split(".")[0]
    assert "fo2" not in r.stderr.split("password:")[1].split(".")[0]
    # ... and the rest deactivated here: then it starts and serves
    with db.session() as s:
        s.execute(update(StaffUser).where(StaffUser.username.in_([u for u, _n, _r in DEMO_STAFF]),
                                          StaffUser.username != "fo1").values(active=False))
        assert s.scalar(select(StaffUser.active).where(StaffUser.username == "fo1"))
    db.dispose()
    with serve_process(env) as (base, _proc):
        import requests

        csrf = requests.Session()
        token = csrf.get(f"{base}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        r = csrf.post(f"{base}/api/v1/auth/login", json={"username": "fo1", "password": DEMO_PASSWORD},
                      headers={"X-CSRFToken": token}, timeout=10)
        assert r.status_code == 401  # the demo password no longer works
        r = csrf.post(f"{base}/api/v1/auth/login", json={"username": "fo1", "password": "a-real-password-1"},
                      headers={"X-CSRFToken": token}, timeout=10)
        assert r.status_code == 200


def test_office_idle_sets_the_offices_timeouts(sqlite_url, tmp_path):
    db = Database(sqlite_url)
    seed_demo(db, tmp_path)
    db.dispose()
    env = env_for(sqlite_url, tmp_path, STRONG)
    r = subprocess.run([LOKET, "office-idle", "DEMO", "--staff-min", "240", "--admin-min", "30"], env=env,
                       check=False, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "'idle_timeout_min': 240" in r.stdout and "'admin_idle_timeout_min': 30" in r.stdout
    r = subprocess.run([LOKET, "office-idle", "DEMO", "--staff-min", "0"], env=env, check=False,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "idle_timeout_min" in r.stderr
