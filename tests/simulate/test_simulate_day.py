"""`loket simulate-day` end to end against a real `loket demo` process, and the day model.

The end-to-end test replays 60 citizens over 6 counters at 3000× (the 07:30-16:00 day is
~10 s real) and checks the printed/JSON report and the display's call events.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from server.simulate import model
from tests.live import free_port, wait_http
from tests.procs import LOKET, stop_group
from tests.workers import HEAVY

pytestmark = [HEAVY]  # a real `loket demo` replaying a day at 1200x

STANDARD = {"ktp_el": 15, "kk": 15, "kia": 8, "pelita1": 13, "skpwni": 10, "skdwni": 10,
            "pickup": 10, "ktp_activation": 15, "info": 7}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A real `loket demo` (SQLite, one process) on a free port; yields its base URL."""
    data = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {**os.environ, "LOKET_DATA_DIR": str(data)}
    env.pop("LOKET_DATABASE_URL", None)
    env.pop("LOKET_REDIS_URL", None)
    log = open(data / "server.log", "wb")
    proc = subprocess.Popen([LOKET, "demo", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_http(f"{base}/api/v1/offices/DEMO", timeout=45, proc=proc)
        except TimeoutError:
            raise RuntimeError(f"loket demo did not start: {(data / 'server.log').read_text()[-2000:]}") from None
        yield base
    finally:
        stop_group(proc, timeout=15)
        log.close()


def test_simulate_day_end_to_end(demo_server, tmp_path):
    out = tmp_path / "out.json"
    r = subprocess.run([LOKET, "simulate-day", "--server", demo_server, "--tickets", "60", "--counters", "6",
                        "--speed", "1200", "--seed", "7", "--json-out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SIMULATED minutes" in r.stdout and "TOTAL" in r.stdout
    report = json.loads(out.read_text())
    total = report["total"]
    assert total["issued"] == 60
    assert report["simulation"]["ended"] == "drained"
    accounted = total["served"] + total["no_show"] + total["cancelled"] + total["transferred"] + total["waiting"]
    assert accounted == total["issued"]
    assert total["no_show"] >= 1 and total["served"] >= 50
    assert sum(s["issued"] for s in report["services"]) == 60
    for stats in (total["wait_min"], total["service_min"]):
        assert stats["p50_min"] is not None and 0 <= stats["p50_min"] <= stats["p90_min"] <= stats["max_min"]
    # scaled back from server seconds: service times are around the SOP minutes, not seconds
    assert 3 <= total["service_min"]["p50_min"] <= 40
    display = report["display"]
    assert display["calls_received"] >= total["served"] + total["no_show"]
    assert display["calls_received"] == display["calls_made"]
    assert display["gaps"] == 0
    # the TV's own logic: every call spoken, none twice (a simulated day's calls are all fresh)
    assert display["calls_spoken"] == display["calls_made"] and display["spoken_twice"] == 0


def test_unreachable_server_gives_one_line_error(tmp_path):
    port = free_port()
    r = subprocess.run([LOKET, "simulate-day", "--server", f"http://127.0.0.1:{port}", "--tickets", "5"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "cannot talk to the Loket server" in r.stderr


def test_same_seed_same_day():
    first = [c.to_dict() for c in model.generate_day(7, 60, STANDARD)]
    again = [c.to_dict() for c in model.generate_day(7, 60, STANDARD)]
    other = [c.to_dict() for c in model.generate_day(8, 60, STANDARD)]
    assert first == again
    assert first != other
    assert len(first) == 60
    times = [c["arrival_min"] for c in first]
    assert times == sorted(times)
    assert model.DAY_OPEN_MIN <= times[0] and times[-1] < model.ARRIVALS_END_MIN
    for c in first:
        assert 0.25 * STANDARD[c["service"]] <= c["service_min"] <= 1.5 * STANDARD[c["service"]]
        assert 30 <= c["walk_s"] <= 90


def test_morning_peak_and_mix():
    day = model.generate_day(1, 3000, STANDARD)
    peak = sum(1 for c in day if 8 * 60 + 30 <= c.arrival_min < 9 * 60 + 30)
    late = sum(1 for c in day if 11 * 60 <= c.arrival_min < 12 * 60)
    assert peak > 2 * late  # busiest hour is the morning peak
    share = sum(c.service == "ktp_el" for c in day) / len(day)
    assert 0.26 < share < 0.34
    priority = sum(c.priority_kind is not None for c in day) / len(day)
    assert 0.09 < priority < 0.15


@pytest.mark.parametrize("count", [1, 3, 6, 9, 30])
def test_counter_allocation_covers_every_service(count):
    plan = model.allocate_counters(count, STANDARD)
    assert len(plan) == count
    assert all(plan)
    assert {code for counter in plan for code in counter} == set(STANDARD)
    if count >= 9:  # KTP-el, the heaviest load, gets the most counters
        seats = {code: sum(code in c for c in plan) for code in STANDARD}
        assert seats["ktp_el"] == max(seats.values())
