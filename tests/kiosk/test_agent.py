"""Kiosk agent against a real Loket server (in this process, threading mode) and the simulator."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from drivers.printer import PrinterState
from kiosk.agent import start_demo_agent
from server.models import Device, DeviceKind, Ticket
from server.services.printing import build_job
from tests.live import serve_demo, wait_for


@pytest.fixture
def kiosk(sqlite_url, tmp_path):
    """A served app with the demo office and a demo kiosk agent, started before the server."""
    with serve_demo(sqlite_url, tmp_path, start=False) as server:
        app, token = server.app, server.tokens["kiosk"]
        agent = start_demo_agent(app, server.url, token)  # before the server listens, as in ``loket demo``
        agent.max_backoff_s = 1.0
        server.start()  # the agent was already retrying: it must connect by itself
        wait_for(lambda: agent.connected, what="agent connected")
        yield SimpleNamespace(app=app, base=server.url, token=token, agent=agent, server=server,
                              printer=app.extensions["loket_demo_printer"], data_dir=tmp_path)
        agent.stop()


def issue(k, service: str = "ktp_el") -> dict:
    return k.server.issue(service)


def print_status(k, issued: dict) -> str | None:
    return k.server.ticket(issued["ticket"]["public_id"])["print_status"]


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
    loket.socketio.emit("print_job", same, to=f"d{device_id}", namespace="/agents")
    loket.socketio.emit("print_job", same, to=f"d{device_id}", namespace="/agents")
    loket.socketio.emit("print_job", reprint, to=f"d{device_id}", namespace="/agents")  # new id: printed, and marks the end
    wait_for(lambda: len(kiosk.printer.printed) >= 2, what="reprint printed")
    time.sleep(0.3)
    assert len(kiosk.printer.printed) == 2


def test_reconnects_after_server_drops_it(kiosk):
    sio = kiosk.app.extensions["loket"].socketio
    sid = kiosk.agent.sid()
    before = kiosk.agent.connects
    sio.server.disconnect(sid, namespace="/agents")
    wait_for(lambda: kiosk.agent.connects > before and kiosk.agent.connected, what="agent reconnected")
    assert kiosk.agent.sid() != sid
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
    # the server commits the result before its ack reaches the agent: the kept report is
    # dropped once acknowledged, a moment after the status can be read
    wait_for(lambda: kiosk.agent.pending_reports() == 0, what="delivered result acknowledged")
    assert kiosk.agent.pending_reports() == 0 and len(kiosk.printer.printed) == 1
