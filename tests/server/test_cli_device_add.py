"""`loket device-add` as an operator runs it: token printed, settings from the options
(survey counters, pickup channel), and clear refusals that register nothing."""
from __future__ import annotations

import os
import subprocess

from sqlalchemy import func, select

from server.db import Database
from server.models import Device
from tests.procs import LOKET, cli


def _env(sqlite_url, tmp_path) -> dict:
    env = {**os.environ, "LOKET_DATABASE_URL": sqlite_url, "LOKET_DATA_DIR": str(tmp_path)}
    cli(env, "catalog", "load", "server/catalog/demo_office.toml")
    return env


def _devices(sqlite_url) -> dict[str, dict]:
    db = Database(sqlite_url)
    try:
        with db.session() as s:
            return {d.name: d.settings for d in s.scalars(select(Device))}
    finally:
        db.dispose()


def test_pickup_channel_and_survey_counters(sqlite_url, tmp_path):
    env = _env(sqlite_url, tmp_path)
    assert cli(env, "device-add", "DEMO", "pickup", "Loket Ambil 1", "--channel", "counter").strip().startswith("lkd_")
    cli(env, "device-add", "DEMO", "pickup", "Drive-Thru 2")
    cli(env, "device-add", "DEMO", "survey", "Tablet Loket 3", "--counters", "3")
    got = _devices(sqlite_url)
    assert got["Loket Ambil 1"] == {"channel": "counter"}
    assert got["Drive-Thru 2"] == {}
    assert got["Tablet Loket 3"] == {"counters": [3]}


def test_refusals_register_nothing(sqlite_url, tmp_path):
    env = _env(sqlite_url, tmp_path)
    for args, says in ((["kiosk", "K", "--channel", "counter"], "only pickup stations have a channel"),
                       (["survey", "T"], "needs the counters"),
                       (["pickup", "P", "--channel", "lane"], "Invalid value for '--channel'")):
        r = subprocess.run([LOKET, "device-add", "DEMO", *args], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and says in r.stderr, r.stderr
    db = Database(sqlite_url)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Device)) == 0
    db.dispose()
