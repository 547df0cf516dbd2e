"""Realtime across real processes: Redis fan-out between servers, sequence gaps, resync."""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from tests.procs import loket_serve, prepared_env, private_redis, staff_session

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


class Display:
    """A display client (python-socketio, websocket transport) recording what it receives."""

    def __init__(self, base: str, token: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self.got = threading.Condition()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2)
        for name in ("ticket", "call", "counter", "heartbeat", "resync"):
            self.sio.on(name, self._record(name))
        self.sio.connect(base, auth={"token": token}, transports=["websocket"])

    def _record(self, name):
        def handler(data):
            with self.got:
                self.events.append((name, data))
                self.got.notify_all()
        return handler

    def wait_for(self, pred, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self.got:
            while True:
                for name, data in self.events:
                    if pred(name, data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching event; got {[n for n, _ in self.events]}")
                self.got.wait(left)

    def seqs(self, *names: str) -> list[int]:
        return [d["seq"] for n, d in self.events if n in names]


def _counter_id(base, officer) -> int:
    counters = officer.get(f"{base}/api/v1/offices/DEMO/counters").json()["counters"]
    return next(c["id"] for c in counters if c["number"] == 1)


def _issue(base, kiosk, service="ktp_el"):
    r = requests.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": service},
                      headers={"Authorization": f"Bearer {kiosk}"})
    r.raise_for_status()
    return r.json()["ticket"]


def test_call_through_one_server_reaches_a_display_on_another(pg_url, tmp_path):
    with private_redis() as (redis_url, _stop, _start):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        with loket_serve(env) as a, loket_serve(env) as b:
            display = Display(b, tokens["display"])
            state = display.sio.call("sync", {})
            assert state["seq"] == 0 and len(state["state"]["counters"]) == 8
            officer = staff_session(a, "fo1", "password123")
            cid = _counter_id(a, officer)
            officer.post(f"{a}/api/v1/counters/{cid}/open").raise_for_status()
            ticket = _issue(a, tokens["kiosk"])
            officer.post(f"{a}/api/v1/counters/{cid}/call-next").raise_for_status()
            call = display.wait_for(lambda n, d: n == "call")
            assert call["ticket"]["number"] == ticket["number"] == "A001"
            assert call["call"]["counter_number"] == 1
            seqs = display.seqs("ticket", "call", "counter")
            assert seqs == list(range(1, len(seqs) + 1)), "the stream has no gaps"
            display.sio.disconnect()


@pytest.mark.parametrize("redis_keeps_data", [True, False], ids=["redis-persistent", "redis-volatile"])
def test_lost_messages_while_redis_is_down_make_screens_resync(pg_url, tmp_path, redis_keeps_data):
    redis_dir = tmp_path / "redis" if redis_keeps_data else None
    if redis_dir:
        redis_dir.mkdir()
    with private_redis(redis_dir) as (redis_url, stop_redis, start_redis):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        with loket_serve(env) as base:
            display = Display(base, tokens["display"])
            display.sio.call("sync", {})
            first = _issue(base, tokens["kiosk"])
            display.wait_for(lambda n, d: n == "ticket" and d["ticket"]["id"] == first["id"])
            last_seq = display.seqs("ticket", "call", "counter")[-1]
            epoch = display.events[-1][1]["epoch"]

            stop_redis()
            lost = _issue(base, tokens["kiosk"], "kk")  # committed, but no one hears of it
            assert lost["number"] == "B001"
            start_redis()

            deadline = time.monotonic() + 20  # the worker's pub/sub reconnects with back-off
            after = None
            while after is None and time.monotonic() < deadline:
                t = _issue(base, tokens["kiosk"], "kia")
                try:
                    after = display.wait_for(lambda n, d: n == "ticket" and d["ticket"]["id"] == t["id"], timeout=2)
                except TimeoutError:
                    continue
            assert after is not None, "events did not flow again after Redis came back"
            if redis_keeps_data:  # same numbering, one number burnt: a gap
                assert after["epoch"] == epoch and after["seq"] > last_seq + 1
            else:  # the numbering started over: a new epoch
                assert after["epoch"] != epoch
            # the full state a screen loads after the gap has the lost ticket
            sync = display.sio.call("sync", {})
            assert sync["seq"] >= after["seq"]
            display.sio.disconnect()


class Staff(Display):
    """A staff client of the counter stream, signed in with the session cookie of ``officer``."""

    def __init__(self, base: str, officer: requests.Session) -> None:  # not Display's: another sign-in
        self.events = []
        self.got = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for name in ("ticket", "call", "counter", "application", "heartbeat", "resync"):
            self.sio.on(name, self._record(name))
        cookie = "; ".join(f"{k}={v}" for k, v in officer.cookies.get_dict().items())
        self.sio.connect(base, headers={"Cookie": cookie}, transports=["websocket"])


def test_an_application_change_reaches_staff_screens_only(pg_url, tmp_path):
    """APPLICATION_CHANGED is a staff-only message: the counter stream gets "application"
    (numbered in that stream), the displays' public stream nothing, not even a number."""
    with private_redis() as (redis_url, _stop, _start):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        with loket_serve(env) as base:
            display = Display(base, tokens["display"])
            display.sio.on("application", display._record("application"))
            display.sio.call("sync", {})
            officer = staff_session(base, "fo1", "password123")
            staff = Staff(base, officer)
            assert staff.sio.call("sync", {})["seq"] == 0
            cid = _counter_id(base, officer)
            officer.post(f"{base}/api/v1/counters/{cid}/open").raise_for_status()
            _issue(base, tokens["kiosk"], "kk")
            officer.post(f"{base}/api/v1/counters/{cid}/call-next").raise_for_status()
            officer.post(f"{base}/api/v1/counters/{cid}/start").raise_for_status()
            r = officer.post(f"{base}/api/v1/counters/{cid}/application", json={
                "nik": "3171011205900001", "name": "Siti Rahmawati", "phone": "081234567890",
                "confirmed": [0, 1, 2, 3, 4]})
            assert r.status_code == 201, r.text
            resi = r.json()["application"]["resi_number"]

            got = staff.wait_for(lambda n, d: n == "application")
            assert got["application"]["resi_number"] == resi and "applicant_nik" not in got["application"]
            seqs = staff.seqs("ticket", "call", "counter", "application")
            assert seqs == list(range(1, len(seqs) + 1)), "application messages are numbered in the staff stream"

            after = _issue(base, tokens["kiosk"])  # a later public message: the display saw every number
            display.wait_for(lambda n, d: n == "ticket" and d["ticket"]["id"] == after["id"])
            assert [n for n, _ in display.events if n == "application"] == []
            public = display.seqs("ticket", "call", "counter")
            assert public == list(range(1, len(public) + 1)), "the public stream has no gap for it"
            staff.sio.disconnect()
            display.sio.disconnect()
