"""Pickup agent against a real Loket server (in this process, threading mode), with a
simulated camera playing generated video files through cv2.VideoCapture."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from drivers.qr.simulator import SimulatedCamera, code_in_view, write_video
from pickup.agent import PickupAgent, main, start_demo_agent
from server.models import Device, Office
from server.models.audit import AuditEntry
from server.services.accounts import create_device
from server.services.actors import SYSTEM
from tests.live import wait_for

CODE = "http://127.0.0.1:8080/t/DriveThruA001"


@pytest.fixture
def served(live_server):
    """A served app with the demo office; ``token``: a pickup station's device token."""
    db = live_server.db
    token = live_server.tokens.get("pickup")
    if token is None:  # demo seeds without a pickup station
        with db.session() as s:
            office = s.scalars(select(Office).where(Office.code == live_server.office)).one()
            _device, token = create_device(s, office.id, "pickup", "Drive-Thru", actor=SYSTEM)
    return SimpleNamespace(app=live_server.app, db=db, token=token, base=live_server.url, server=live_server)


@pytest.fixture
def clip(tmp_path) -> Path:
    """A video: 3 empty frames, the ticket held up for 10 frames, 3 empty frames."""
    path = tmp_path / "drive-thru.avi"
    write_video(path, code_in_view(CODE, 10))
    return path


def scan_audits(served) -> list[dict]:
    with served.db.session() as s:
        return [e.data for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "device.scan")
                                          .order_by(AuditEntry.id))]


def pickup_health(served) -> dict:
    with served.db.session() as s:
        device = s.scalars(select(Device).where(Device.kind == "pickup", Device.active.is_(True))).first()
        return dict(device.health or {})


def test_code_in_ten_frames_gives_one_acked_scan(served, clip):
    agent = PickupAgent(served.base, served.token, camera=SimulatedCamera(clip), fps=20, health_interval_s=0.5)
    agent.start()
    try:
        wait_for(lambda: agent.acked, what="the scan acknowledged by the server")
        wait_for(lambda: agent.camera.state.value == "offline", what="the end of the clip")
        wait_for(lambda: pickup_health(served).get("camera", {}).get("state") == "offline",
                 what="end of video in the server's health")
        assert agent.frames_decoded == 16
        assert [r["code"] for r in agent.reported] == [CODE]
        assert [r["code"] for r in agent.acked] == [CODE] and list(agent.rejected) == [] and agent.pending() == 0
        [audit] = scan_audits(served)
        assert audit["code"] == CODE and audit["source"] == "camera"
        assert pickup_health(served)["camera"]["detail"] == "video selesai / end of video"
    finally:
        agent.stop()


def test_scans_made_while_server_is_down_are_delivered_once(served, clip):
    served.server.stop()
    agent = PickupAgent(served.base, served.token, camera=SimulatedCamera(clip), fps=0, max_backoff_s=0.5)
    agent.start()
    try:
        wait_for(lambda: agent.camera.state.value == "offline" and agent.frames_decoded == 16, what="clip played")
        assert [r["code"] for r in agent.reported] == [CODE] and agent.pending() == 1 and not agent.connected
        served.server.start()
        wait_for(lambda: agent.acked, what="scan delivered after the server came up")
        assert len(scan_audits(served)) == 1 and agent.pending() == 0
    finally:
        agent.stop()


def test_camera_loss_shows_offline_on_the_server_and_recovers(served):
    cam = SimulatedCamera(code_in_view(CODE, 5, before=5, after=5), loop=True)
    agent = PickupAgent(served.base, served.token, camera=cam, fps=25, retry_s=0.2, max_retry_s=0.5,
                        health_interval_s=0.5)
    agent.start()
    try:
        wait_for(lambda: pickup_health(served).get("camera", {}).get("state") == "ok", what="camera ok")
        cam.lose()
        wait_for(lambda: pickup_health(served).get("camera", {}).get("state") == "offline", what="camera offline")
        assert "kamera" in pickup_health(served)["camera"]["detail"]
        with served.db.session() as s:
            device = s.scalars(select(Device).where(Device.kind == "pickup", Device.active.is_(True))).first()
            assert device.unhealthy_since is not None and device.last_error.startswith("camera: offline")
        cam.restore()
        wait_for(lambda: pickup_health(served).get("camera", {}).get("state") == "ok", what="camera back")
        wait_for(lambda: agent.acked, what="the scan acknowledged")
        assert all(r["code"] == CODE for r in agent.reported)
    finally:
        agent.stop()


def test_demo_agent_reports_a_car_each_period(served):
    agent = start_demo_agent(served.app, served.base, served.token, period_s=1.2)
    try:
        assert served.app.extensions["loket_demo_pickup_agent"] is agent
        wait_for(lambda: len(agent.acked) >= 2, what="two demo cars")
        assert {r["code"] for r in agent.acked} == {f"{served.base}/t/DEMO-DRIVE-THRU"}
        assert pickup_health(served)["camera"]["state"] == "ok"
    finally:
        agent.stop()


def test_command_line_agent_in_its_own_process(served, clip):
    loket = Path(sys.executable).with_name("loket")
    cmd = ([str(loket), "agent", "pickup"] if loket.exists() else [sys.executable, "-m", "pickup.agent"])
    proc = subprocess.Popen(cmd + ["--server", served.base, "--token", served.token, "--camera", str(clip),
                                   "--decoder", "zxing", "--fps", "20"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: scan_audits(served), timeout=30, what="scan from the agent process")
        wait_for(lambda: pickup_health(served).get("camera", {}).get("state") == "offline", timeout=15,
                 what="end of video reported")
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=20)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
        print("agent output:\n" + proc.communicate()[0])  # shown by pytest when the test fails
        raise
    assert proc.returncode == 0, output
    assert [a["code"] for a in scan_audits(served)] == [CODE]


def test_command_line_needs_a_device(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--server", "http://127.0.0.1:9", "--token", "t"])
    assert exc.value.code == 2 and "give --camera, --scanner or both" in capsys.readouterr().err


def test_scan_histories_stay_bounded_and_a_code_in_view_is_sent_once(tmp_path):
    """10 000 cars pass while one code stays in view: ``reported``, ``acked`` and ``rejected``
    keep the last ``history`` scans each, the deduplicator its bound, and every code goes to
    the server exactly once (the held one once, not at every read)."""
    from drivers.qr.sources import ScannerReader

    agent = PickupAgent("http://127.0.0.1:9", "t", scanner=ScannerReader(str(tmp_path / "none")), history=50)
    sent: list[str] = []

    def send(event, payload, on_ack=None):  # the server, acking at once: odd cars are refused
        sent.append(payload["code"])
        on_ack({"ok": True} if len(sent) % 2 else {"ok": False, "error": "not_found"})

    agent.send = send
    for i in range(10_000):
        now = i * 0.01
        assert agent.handle_codes(["held", f"car-{i}"], "scanner", now=now) == (["held", f"car-{i}"] if i == 0
                                                                               else [f"car-{i}"])
        assert agent.handle_codes([f"car-{i}"], "scanner", now=now + 0.005) == []  # read again: not sent
    assert sent == ["held"] + [f"car-{i}" for i in range(10_000)]
    assert len(agent.reported) == len(agent.acked) == len(agent.rejected) == 50
    assert [r["code"] for r in agent.reported] == [f"car-{i}" for i in range(9_950, 10_000)]
    assert agent.acked[-1]["code"] == "car-9999" and agent.rejected[-1][0]["code"] == "car-9998"
    assert len(agent.reading._dedupe["scanner"]) <= agent.reading._dedupe["scanner"].max_codes
