"""A resi printed at the counter (issue 4, "The resi"): the officer registers a file and
presses print; the counter's printer agent (kiosk.agent on a ``printer`` device) prints it
on a real TCP ESC/POS endpoint; the printed QR opens the public status; the result reaches
the server. Also: printer away then back, reprint, and an old-style malformed job."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
from sqlalchemy import select

from drivers.printer import PrinterState
from drivers.printer.tcp_simulator import TcpPrinterSimulator
from drivers.printer.transports import printer_from_uri
from kiosk.agent import KioskAgent
from server.models.audit import AuditEntry
from tests.live import wait_for

NIK = "1471015208900002"  # Pekanbaru, born 12-08-1990, female (+40)
INTAKE = {"nik": NIK, "name": "Siti Aminah", "phone": "081234567891", "email": "siti@example.id",
          "confirmed": [0, 1, 2, 3, 4], "case": None}


@pytest.fixture
def counter(live_server):
    """Counter 1 serving a KK ticket for fo1, the counter printer's agent on a TCP printer."""
    sim = TcpPrinterSimulator().start()
    agent = KioskAgent(live_server.url, live_server.tokens["counter_printer"],
                       printer_from_uri(sim.uri, width_mm=80, tz="Asia/Jakarta"),
                       poll_s=0.2, status_interval_s=0.3, health_interval_s=0.5, max_backoff_s=0.5)
    agent.start()
    fo1 = live_server.staff("fo1")
    cid = fo1.counters()[1]["id"]
    fo1.act(1, "open")
    live_server.issue("kk")
    fo1.act(1, "call-next", finish_current=True)
    fo1.act(1, "start")
    wait_for(lambda: agent.connected, what="printer agent connected")
    try:
        yield SimpleNamespace(server=live_server, fo1=fo1, cid=cid, sim=sim, agent=agent)
    finally:
        agent.stop()
        sim.stop()


def register(c) -> dict:
    r = c.fo1.http.post(f"{c.server.url}/api/v1/counters/{c.cid}/application", json=INTAKE, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def print_resi(c, app_id: int) -> dict:
    r = c.fo1.http.post(f"{c.server.url}/api/v1/applications/{app_id}/print-resi", json={}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def results(c, app_id: int) -> list[dict]:
    with c.server.db.session() as s:
        return [e.data for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "application.resi_print_result", AuditEntry.entity_id == app_id)
            .order_by(AuditEntry.id))]


def test_resi_prints_on_the_counter_printer_and_its_qr_opens_the_status(counter):
    data = register(counter)
    app_id = data["application"]["id"]
    answer = print_resi(counter, app_id)
    assert answer["device"] == "Printer Resi Loket 1-5"
    [slip] = counter.sim.wait_for_tickets(1, timeout=15)
    text = "\n".join(slip.lines)
    assert data["resi"]["number"] in text and "S*** A*****" in text and slip.cut
    assert NIK not in text and "Siti Aminah" not in text and "081234567891" not in text
    assert slip.qr == [data["resi"]["status_url"]]
    # The printed QR is the public status URL: it answers without signing in.
    payload = slip.qr[0].rsplit("/", 1)[1]
    status = requests.get(f"{counter.server.url}/api/v1/resi/{payload}", timeout=10)
    assert status.status_code == 200 and status.json()["resi_number"] == data["resi"]["number"]
    wait_for(lambda: results(counter, app_id), what="print result recorded")
    assert results(counter, app_id) == [{"job_id": answer["job_id"], "ok": True, "error": None}]


def test_printer_away_reports_the_failure_then_prints_when_back_and_reprints(counter):
    app_id = register(counter)["application"]["id"]
    counter.sim.set_state(PrinterState.PAPER_OUT)
    wait_for(lambda: counter.agent.health()["printer"].state == "paper_out", what="paper out seen by the agent")
    first = print_resi(counter, app_id)
    wait_for(lambda: results(counter, app_id), what="failure reported")
    [failure] = results(counter, app_id)
    assert failure["job_id"] == first["job_id"] and failure["ok"] is False and failure["error"]
    assert counter.sim.tickets == []
    counter.sim.set_state(PrinterState.OK)
    counter.sim.wait_for_tickets(1, timeout=15)
    wait_for(lambda: len(results(counter, app_id)) == 2, what="success reported after paper change")
    assert results(counter, app_id)[1] == {"job_id": first["job_id"], "ok": True, "error": None}

    again = print_resi(counter, app_id)  # a reprint is a new job: printed again
    assert again["job_id"] != first["job_id"]
    slips = counter.sim.wait_for_tickets(2, timeout=15)
    assert slips[0].qr == slips[1].qr


def test_agent_ignores_a_resi_job_without_its_application(counter):
    counter.agent._on_print_job({"job_id": "r1-9", "kind": "resi", "ticket_id": None})
    counter.agent._on_print_job({"job_id": "x1", "kind": "label", "ticket_id": 5})
    assert counter.agent.pending_jobs() == []
