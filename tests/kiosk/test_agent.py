"""Kiosk agent against a real Loket server (in this process, threading mode) and the simulator."""
from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from drivers.printer import PrinterState
from kiosk.agent import start_demo_agent
from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo
from server.models import Device, DeviceKind, Ticket
from server.services.printing import build_job


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll ``predicate`` every 20 ms until it returns a truthy value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A Loket app served by Werkzeug in a thread (what ``socketio.run`` does in threading mode)."""

    def __init__(self, app, port: int) -> None:
        self.app = app
        self.port = port
        self._http = None

    def start(self) -> None:
        self._http = make_server("127.0.0.1", self.port, self.app, threaded=True)
        threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        """Stop listening (refuse new connections) and drop every Socket.IO client."""
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        sio = self.app.extensions["loket"].socketio.server
        for sid, _eio_sid in list(sio.manager.get_participants("/", None)):
            sio.disconnect(sid, namespace="/")


@pytest.fixture
def kiosk(sqlite_url, tmp_path):
    """A served app with the demo office and a demo kiosk agent, started before the server."""
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    seeded = seed_demo(app.extensions["loket"].db, tmp_path)
    token = seeded["tokens"]["kiosk"]
    server = Server(app, free_port())
    base = f"http://127.0.0.1:{server.port}"
    agent = start_demo_agent(app, base, token)  # before the server listens, as in ``loket demo``
    agent.max_backoff_s = 1.0
    server.start()  # the agent was already retrying: it must connect by itself
    wait_for(lambda: agent.connected, what="agent connected")
    yield SimpleNamespace(app=app, base=base, token=token, agent=agent, server=server,
                          printer=app.extensions["loket_demo_printer"], data_dir=tmp_path)
    agent.stop()
    server.stop()
    app.extensions["loket"].db.dispose()


def issue(k, service: str = "ktp_el") -> dict:
    r = requests.post(f"{k.base}/api/v1/offices/DEMO/tickets", json={"service": service},
                      headers={"Authorization": f"Bearer {k.token}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def print_status(k, issued: dict) -> str | None:
    r = requests.get(f"{k.base}/api/v1/tickets/{issued['ticket']['public_id']}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["print_status"]


def wait_status(k, issued: dict, predicate, what: str) -> str:
    return wait_for(lambda: (lambda s: s if s and predicate(s) else None)(print_status(k, issued)), what=what)


def test_prints_issued_ticket_once(kiosk):
    issued = issue(kiosk)
    wait_status(kiosk, issued, lambda s: s == "printed", "print_status printed")
    [ticket] = kiosk.printer.printed
    number = issued["ticket"]["number"]
    assert number in ticket["lines"] and ticket["large"] == [number]
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Demo" in " ".join(ticket["lines"])
    assert any(line.startswith("KTP-el") for line in ticket["lines"])
    assert ticket["qr"] == [issued["status_url"]] and ticket["cut"]
    paper = (kiosk.data_dir / "printed" / f"{issued['print']['job_id']}.txt").read_text(encoding="utf-8")
    assert number in paper
    time.sleep(0.3)
    assert len(kiosk.printer.printed) == 1 and kiosk.agent.pending_jobs() == []


def test_paper_out_reports_failure_then_prints_in_order(kiosk):
    kiosk.printer.set_state(PrinterState.PAPER_OUT)
    first, second = issue(kiosk), issue(kiosk)
    for issued in (first, second):
        status = wait_status(kiosk, issued, lambda s: s.startswith("failed"), "print failure reported")
        assert status == "failed: kertas habis / paper out"
    assert kiosk.printer.printed == []
    assert kiosk.agent.pending_jobs() == [first["print"]["job_id"], second["print"]["job_id"]]

    kiosk.printer.set_state(PrinterState.OK)  # the agent polls the printer every 2 s
    for issued in (first, second):
        wait_status(kiosk, issued, lambda s: s == "printed", "printed after paper refill")
    numbers = [t["lines"][t["lines"].index("NOMOR ANTRIAN") + 1] for t in kiosk.printer.printed]
    assert numbers == [first["ticket"]["number"], second["ticket"]["number"]]
    time.sleep(0.3)
    assert len(kiosk.printer.printed) == 2 and kiosk.agent.pending_jobs() == []


def test_duplicate_job_is_not_printed_twice(kiosk):
    issued = issue(kiosk)
    wait_status(kiosk, issued, lambda s: s == "printed", "first print")
    loket = kiosk.app.extensions["loket"]
    with loket.db.session() as s:
        ticket = s.get(Ticket, issued["ticket"]["id"])
        device_id = s.scalar(select(Device.id).where(Device.kind == DeviceKind.KIOSK.value, Device.active.is_(True)))
        same = build_job(s, ticket, kiosk.base, attempt=1)
        reprint = build_job(s, ticket, kiosk.base, attempt=2)
    assert same["job_id"] == issued["print"]["job_id"]
    loket.socketio.emit("print_job", same, to=f"d{device_id}")
    loket.socketio.emit("print_job", same, to=f"d{device_id}")
    loket.socketio.emit("print_job", reprint, to=f"d{device_id}")  # new id: printed, and marks the end
    wait_for(lambda: len(kiosk.printer.printed) >= 2, what="reprint printed")
    time.sleep(0.3)
    assert len(kiosk.printer.printed) == 2


def test_reconnects_after_server_drops_it(kiosk):
    sio = kiosk.app.extensions["loket"].socketio
    sid = kiosk.agent.sio.get_sid()
    before = kiosk.agent.connects
    sio.server.disconnect(sid, namespace="/")
    wait_for(lambda: kiosk.agent.connects > before and kiosk.agent.connected, what="agent reconnected")
    assert kiosk.agent.sio.get_sid() != sid
    issued = issue(kiosk)
    wait_status(kiosk, issued, lambda s: s == "printed", "printed after reconnect")
    assert len(kiosk.printer.printed) == 1


def test_result_kept_while_server_down_and_sent_after_restart(kiosk):
    kiosk.printer.set_state(PrinterState.PAPER_OUT)
    issued = issue(kiosk)
    wait_status(kiosk, issued, lambda s: s.startswith("failed"), "failure reported")
    kiosk.server.stop()
    wait_for(lambda: not kiosk.agent.connected, what="agent disconnected")
    kiosk.printer.set_state(PrinterState.OK)
    wait_for(lambda: len(kiosk.printer.printed) == 1, what="printed while the server is down")
    wait_for(lambda: kiosk.agent.pending_reports() == 1, what="result kept for later")
    time.sleep(0.3)
    assert kiosk.agent.pending_reports() == 1 and not kiosk.agent.connected
    kiosk.server.start()  # same port
    wait_status(kiosk, issued, lambda s: s == "printed", "result delivered after restart")
    assert kiosk.agent.pending_reports() == 0 and len(kiosk.printer.printed) == 1
