"""Device messages across server processes (`loket serve`, PostgreSQL, Redis): a print job
issued through one server reaches the kiosk's agent connected to another exactly once (its
``order`` its place in issue order), and a kiosk scan reaches the kiosk's page on the other server. They travel on
the office log's Redis Stream (server/realtime/bus.py), not Flask-SocketIO's message queue."""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from tests.live import wait_for
from tests.procs import loket_serve, prepared_env, private_redis
from tests.workers import HEAVY

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow, HEAVY]


class Recorder:
    """A python-socketio client (websocket) of ``namespace`` ("/" screens, "/agents" station
    agents) recording the messages ``names`` it receives."""

    def __init__(self, base: str, auth: dict, *names: str, namespace: str = "/") -> None:
        self.got: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        self.namespace = namespace
        self.sio = socketio.Client(reconnection=False)
        for name in names:
            self.sio.on(name, lambda data, name=name: self._record(name, data), namespace=namespace)
        self.sio.connect(base, auth=auth, namespaces=[namespace], transports=["websocket"])

    def call(self, event: str, data: dict):
        return self.sio.call(event, data, namespace=self.namespace)

    def _record(self, name: str, data: dict) -> None:
        with self.cond:
            self.got.append((name, data))
            self.cond.notify_all()

    def wait_count(self, n: int, timeout: float = 15.0) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.got) < n and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())
            return list(self.got)


def _issue(base: str, kiosk: str, service: str = "ktp_el") -> dict:
    r = requests.post(f"{base}/api/v1/offices/DEMO/tickets", json={"service": service},
                      headers={"Authorization": f"Bearer {kiosk}"}, timeout=10)
    r.raise_for_status()
    return r.json()


def test_print_jobs_reach_the_agent_on_another_server_once_in_order(pg_url, tmp_path):
    with private_redis() as (redis_url, _stop, _start):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        with loket_serve(env) as a, loket_serve(env) as b:
            agent = Recorder(b, {"token": tokens["kiosk"]}, "print_job", namespace="/agents")
            assert agent.call("print_backlog", {}) == {"ok": True, "jobs": []}
            answers = [_issue(a if i % 3 else b, tokens["kiosk"], ("ktp_el", "kk")[i % 2]) for i in range(12)]
            got = agent.wait_count(12)
            time.sleep(0.5)  # nothing more may come
            # pushes from two servers may arrive a few ms out of turn (the agent prints by
            # ``order`` after its settle time, kiosk/print_queue.py): once each, in order by order
            jobs = sorted((data for _name, data in agent.got), key=lambda j: j["order"])
            assert len(got) == len(agent.got) == 12
            assert [j["job_id"] for j in jobs] == [r["print"]["job_id"] for r in answers], \
                "every job once, through either server, its order its place in issue order"
            assert [j["number"] for j in jobs] == [r["ticket"]["number"] for r in answers]
            # the agent's own kiosk page (on server a) hears its agent's booking scans made on b
            page = Recorder(a, {"token": tokens["kiosk"]}, "booking_scan")
            assert agent.call("scan", {"code": "not a booking", "source": "camera"})["ok"] is True
            scans = page.wait_count(1)
            assert [name for name, _d in scans] == ["booking_scan"] and scans[0][1]["source"] == "camera"
            page.sio.disconnect()
            agent.sio.disconnect()


def test_a_print_job_for_an_agent_on_no_server_is_not_sent_anywhere_else(pg_url, tmp_path):
    """The display (another device) on the other server hears the tickets, never a print job."""
    with private_redis() as (redis_url, _stop, _start):
        env, tokens = prepared_env(pg_url, redis_url, tmp_path)
        with loket_serve(env) as a, loket_serve(env) as b:
            display = Recorder(b, {"token": tokens["display"]}, "print_job", "entries", namespace="/agents")
            display.call("sync", {})
            answers = [_issue(a, tokens["kiosk"]) for _ in range(3)]

            def numbers() -> list[str]:
                return [e["data"]["ticket"]["number"] for name, frame in list(display.got) if name == "entries"
                        for e in frame if e["name"] == "ticket"]

            wait_for(lambda: len(numbers()) >= 3, timeout=15, what="three tickets on the display")
            time.sleep(0.5)  # nothing more may come
            assert {n for n, _d in display.got} == {"entries"}, "no print job for the display"
            assert numbers() == [r["ticket"]["number"] for r in answers]
            display.sio.disconnect()
