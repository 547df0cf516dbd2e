"""Realtime across real processes (`loket serve`, PostgreSQL, Redis): the office event log
fanned out between servers, in order, and a busy office's TVs through Redis restarts and a
killed worker."""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from tests.live import wait_for
from tests.procs import loket_serve, prepared_env, private_redis, staff_session
from tests.workers import HEAVY

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, HEAVY]


class Display:
    """A display client (python-socketio, websocket transport) recording what it receives."""

    def __init__(self, base: str, token: str) -> None:
        self.events: list[tuple[str, dict]] = []
        self.got = threading.Condition()
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2)
        self.sio.on("entries", self._record)
        self.sio.connect(base, auth={"token": token}, transports=["websocket"])

    def _record(self, entries):
        """One ``entries`` message: the office-stream entries of a commit, in order."""
        with self.got:
            self.events += [(e["name"], e["data"]) for e in entries]
            self.got.notify_all()

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

    def positions(self, *names: str) -> list[int]:
        with self.got:
            return sorted(d["position"] for n, d in self.events if n in names)


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
            start = state["position"]
            assert state["log"] and len(state["state"]["counters"]) == 8
            officer = staff_session(a, "fo1", "password123")
            cid = _counter_id(a, officer)
            officer.post(f"{a}/api/v1/counters/{cid}/open").raise_for_status()
            ticket = _issue(a, tokens["kiosk"])
            officer.post(f"{a}/api/v1/counters/{cid}/call-next").raise_for_status()
            call = display.wait_for(lambda n, d: n == "call")
            assert call["ticket"]["number"] == ticket["number"] == "A001"
            assert call["call"]["counter_number"] == 1 and call["log"] == state["log"]
            # a screen that was away asks for what it missed and gets it, in order; this one
            # gets the same live, every position once, none missing
            replay = display.sio.call("sync", {"after": start, "log": state["log"]})
            replayed = [e["data"]["position"] for e in replay["entries"]]
            wait_for(lambda: display.positions("ticket", "call", "counter") == replayed,
                     what=f"the display to receive positions {replayed}")
            got = display.positions("ticket", "call", "counter")
            assert got == list(range(start + 1, start + 1 + len(got))), "every position once, none missing"
            assert replayed == got
            assert [e["name"] for e in replay["entries"]] == [n for n, _d in sorted(
                ((n, d) for n, d in display.events if n in ("ticket", "call", "counter")), key=lambda x: x[1]["position"])]
            # another log (a rebuilt database) or a position ahead of the log: the full state
            assert "state" in display.sio.call("sync", {"after": start, "log": "someother"})
            assert "state" in display.sio.call("sync", {"after": got[-1] + 50, "log": state["log"]})
            display.sio.disconnect()


class Staff(Display):
    """A staff client of the counter stream ("/staff"), signed in with the session cookie of ``officer``."""

    def __init__(self, base: str, officer: requests.Session) -> None:  # not Display's: another sign-in
        self.events = []
        self.got = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("entries", self._record, namespace="/staff")
        cookie = "; ".join(f"{k}={v}" for k, v in officer.cookies.get_dict().items())
        self.sio.connect(base, headers={"Cookie": cookie}, namespaces=["/staff"], transports=["websocket"])


def test_an_application_change_reaches_staff_screens_only(pg_url, tmp_path):
    """APPLICATION_CHANGED is a staff-only message: the counter stream gets "application"
    (numbered in that stream), the displays' public stream nothing, not even a position."""
    with private_redis() as (redis_url, _stop, _start):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        with loket_serve(env) as base:
            display = Display(base, tokens["display"])
            public_start = display.sio.call("sync", {})["position"]
            officer = staff_session(base, "fo1", "password123")
            staff = Staff(base, officer)
            staff_start = staff.sio.call("sync", {}, namespace="/staff")["position"]
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
            after = _issue(base, tokens["kiosk"])  # a later message: both streams have all before it
            staff.wait_for(lambda n, d: n == "ticket" and d["ticket"]["id"] == after["id"])
            display.wait_for(lambda n, d: n == "ticket" and d["ticket"]["id"] == after["id"])
            seen = staff.positions("ticket", "call", "counter", "application")
            assert seen == list(range(staff_start + 1, staff_start + 1 + len(seen))), "application is numbered in the staff stream"
            assert [n for n, _ in display.events if n == "application"] == []
            public = display.positions("ticket", "call", "counter")
            assert public == list(range(public_start + 1, public_start + 1 + len(public))), "the public stream has no gap for it"
            staff.sio.disconnect()
            display.sio.disconnect()
