"""``loket agent kiosk`` (kiosk.agent.main) against a real server and the TCP printer simulator."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from drivers.printer import PrinterState
from drivers.printer.tcp_simulator import TcpPrinterSimulator
from kiosk.agent import KioskAgent, build_agent, parse_args
from tests.kiosk.test_agent import issue, print_status
from tests.live import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(live_server):
    """A served Loket app (demo office, no in-process agent) and a TCP printer simulator."""
    sim = TcpPrinterSimulator().start()
    yield SimpleNamespace(app=live_server.app, base=live_server.url, token=live_server.tokens["kiosk"], sim=sim,
                          server=live_server)
    sim.stop()


def test_cli_prints_issued_ticket_and_stops_on_sigterm(site, tmp_path):
    log = tmp_path / "agent.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.agent", "--server", site.base, "--token", site.token,
             "--printer", site.sim.uri, "--paper", "58", "--tz", "Asia/Jakarta", "--status-interval", "0.5"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "LOKET_DATA_DIR": str(tmp_path)})  # its print journal
    try:
        wait_for(lambda: b"connected to" in log.read_bytes() or proc.poll() is not None, timeout=30, what="agent connected")
        assert proc.poll() is None, log.read_text()
        issued = issue(site)
        [ticket] = site.sim.wait_for_tickets(1, timeout=15)
        assert ticket.large == [issued["ticket"]["number"]] and ticket.qr == [issued["status_url"]] and ticket.cut
        assert max(len(line) for line in ticket.lines) <= 32  # --paper 58
        wait_for(lambda: print_status(site, issued) == "printed", what="print result delivered")

        site.sim.set_state(PrinterState.PAPER_OUT)
        wait_for(lambda: b"printer paper_out" in log.read_bytes(), what="paper out noticed")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    text = log.read_text()
    assert "kiosk agent stopping (0 jobs unprinted, 0 results unsent)" in text
    assert "Network printer enabled" not in text  # python-escpos' per-connection chatter filtered


def test_cli_rejects_a_bad_printer_uri(site):
    proc = subprocess.run([sys.executable, "-m", "kiosk.agent", "--server", site.base, "--token", site.token,
                           "--printer", "lpt://1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "unknown printer URI" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "kiosk.agent", "--server", site.base, "--printer", "sim://"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "LOKET_DEVICE_TOKEN"})
    assert proc.returncode == 2 and "--token" in proc.stderr


def test_agent_reports_printer_health(site):
    args = parse_args(["--server", site.base, "--token", site.token, "--printer", site.sim.uri,
                       "--status-interval", "0.3", "--poll", "0.2"])
    agent = build_agent(args)
    assert isinstance(agent, KioskAgent)
    agent.max_backoff_s = 1.0
    agent.start()
    try:
        wait_for(lambda: agent.connected and "printer" in agent.health(), what="agent connected with a reading")
        health = agent.health()["printer"]
        assert (health.kind, health.state, health.detail) == ("printer", "ok", "")
        assert health.last_answer_at is not None
        answer = agent.sio.call("health", {"devices": {k: v.as_dict() for k, v in agent.health().items()}},
                               namespace=agent.namespace, timeout=5)
        assert answer == {"ok": True}

        site.sim.set_state(PrinterState.PAPER_OUT)
        wait_for(lambda: agent.health()["printer"].state == "paper_out", what="paper out in health")
        assert agent.health()["printer"].detail == "kertas habis / paper out"
        site.sim.set_state(PrinterState.OFFLINE)
        wait_for(lambda: agent.health()["printer"].state == "offline", what="offline in health")
        offline = agent.health()["printer"]
        assert offline.last_answer_at is not None and "tcp 127.0.0.1" in offline.detail
        answer = agent.sio.call("health", {"devices": {k: v.as_dict() for k, v in agent.health().items()}},
                               namespace=agent.namespace, timeout=5)
        assert answer == {"ok": True}
    finally:
        agent.stop()
