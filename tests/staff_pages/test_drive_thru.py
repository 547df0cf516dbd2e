"""The Drive-Thru pickup flow in headless Chromium (issue 4): a ready KK file, a pickup agent
whose simulated camera plays a video file of the printed resi QR, the officer's station page
and the citizen's lane screen; signing on the canvas and confirming; a forged QR refused on
both screens; an optional collector photo (a real JPEG file) uploaded, previewed and stored."""
from __future__ import annotations

from datetime import datetime

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from drivers.qr.simulator import SimulatedCamera, code_in_view, write_video
from pickup.agent import PickupAgent
from server.models import Device, DeviceKind
from server.services.resi import ResiSigner, derive_key
from tests.live import wait_for

pytestmark = pytest.mark.browser

NIK, NAME = "1471011205900001", "Budi Santoso"


def ready_kk(server) -> dict:
    """Register a KK application at counter 1 and drive it to ready (shelf RAK-B-03)
    through the REST API; returns the registration answer {application, resi}."""
    fo1 = server.staff("fo1")
    fo1.act(1, "open")
    server.issue("kk")
    fo1.act(1, "call-next", finish_current=True)
    fo1.act(1, "start")
    cid = fo1.counters()[1]["id"]
    r = fo1.http.post(f"{server.url}/api/v1/counters/{cid}/application", timeout=10, json={
        "nik": NIK, "name": NAME, "phone": "081234567890", "email": "budi@example.id",
        "confirmed": [0, 1, 2, 3, 4], "case": None})
    assert r.status_code == 201, r.text
    data = r.json()
    app_id = data["application"]["id"]
    for version, who, extra in ((1, "kasi", {}), (2, "kabid", {}), (3, "admin", {}),
                                (4, "fo1", {"shelf_location": "RAK-B-03"})):
        officer = fo1 if who == "fo1" else server.staff(who)
        r = officer.http.post(f"{server.url}/api/v1/applications/{app_id}/approve", timeout=10,
                              json={"expected_version": version, **extra})
        assert r.status_code == 200, r.text
    assert r.json()["application"]["status"] == "ready"
    return data


def pickup_device_id(server) -> int:
    with server.db.session() as s:
        return s.scalar(select(Device.id).where(Device.kind == DeviceKind.PICKUP.value, Device.active.is_(True)))


def resi_video(path, payload: str) -> str:
    """A video file of the printed resi QR held up to the lane camera: 3 empty frames, 8
    with the code, 3 empty (segno renders the QR; drivers.qr draws and stores the frames)."""
    write_video(path, code_in_view(payload, 8, size=(640, 480), before=3, after=3))
    return str(path)


def run_agent(server, video: str) -> PickupAgent:
    agent = PickupAgent(server.url, server.tokens["pickup"], camera=SimulatedCamera(video), fps=20,
                        health_interval_s=1.0)
    agent.start()
    return agent


def shown(page) -> list[dict]:
    return page.evaluate("window.LOKET_PICKUP.shown")


def test_drive_thru_scan_sign_and_collect(new_page, staff_server, shots, tmp_path):
    data = ready_kk(staff_server)
    payload, number = data["resi"]["payload"], data["resi"]["number"]
    device_id = pickup_device_id(staff_server)

    station = new_page("ambil")
    station.goto(f"{staff_server.url}/pickup/{device_id}")
    station.wait_for_function("document.body.dataset.joined === '1'")
    expect(station.get_by_test_id("result-title")).to_have_text("Menunggu pindaian resi…")
    lane = new_page()
    lane.goto(f"{staff_server.url}/pickup/{device_id}/lane?token={staff_server.tokens['pickup']}")
    lane.wait_for_function("document.body.dataset.joined === '1'")
    expect(lane.get_by_test_id("lane-title")).to_have_text("Silakan tunggu")

    agent = run_agent(staff_server, resi_video(tmp_path / "resi.avi", payload))
    try:
        wait_for(lambda: agent.acked, timeout=10, what="the scan acked")
        expect(station.get_by_test_id("pickup-result")).to_have_attribute("data-state", "ok")
    finally:
        agent.stop()
    assert [s["code"] for s in agent.reported] == [payload]
    [first] = shown(station)
    scanned_at = datetime.fromisoformat(agent.reported[0]["at"]).timestamp() * 1000
    assert first["shownAt"] - scanned_at < 1000, first  # shown within a second of the camera's read
    expect(station.get_by_test_id("result-title")).to_have_text("SIAP DISERAHKAN")
    expect(station.get_by_test_id("d-resi")).to_have_text(number)
    expect(station.get_by_test_id("d-applicant")).to_have_text(NAME)
    expect(station.get_by_test_id("d-shelf")).to_have_text("RAK-B-03")
    expect(station.get_by_test_id("d-status")).to_have_text("Siap diambil")
    expect(station.get_by_test_id("checks")).to_contain_text("surat kuasa F-1.07")
    expect(lane.get_by_test_id("lane-title")).to_have_text("Dokumen Anda siap — mohon tanda tangan")
    expect(lane.get_by_test_id("lane-name")).to_have_text("B*** S******")
    assert NAME not in lane.inner_text("body") and NIK not in lane.content()

    # The same car's QR read again within 10 s: one event, no second look-up.
    again = run_agent(staff_server, resi_video(tmp_path / "again.avi", payload))
    try:
        wait_for(lambda: again.acked, timeout=10, what="the repeated scan acked")
        station.wait_for_function("window.LOKET_PICKUP.ignored >= 1")
    finally:
        again.stop()
    assert station.evaluate("window.LOKET_PICKUP.lookups") == 1

    # Sign (mouse drag on the canvas) and confirm.
    station.get_by_test_id("f-nik").fill(NIK)
    box = station.get_by_test_id("signature").bounding_box()
    station.mouse.move(box["x"] + 40, box["y"] + 100)
    station.mouse.down()
    for i in range(1, 12):
        station.mouse.move(box["x"] + 40 + 30 * i, box["y"] + 100 + (25 if i % 2 else -25), steps=3)
    station.mouse.up()
    # An optional photo of the collector: a real 1600×1200 JPEG file, downscaled in the browser.
    frame = np.full((1200, 1600, 3), 200, np.uint8)
    cv2.rectangle(frame, (500, 300), (1100, 900), (40, 90, 160), -1)
    assert cv2.imwrite(str(tmp_path / "pengambil.jpg"), frame)
    station.get_by_test_id("photo-input").set_input_files(str(tmp_path / "pengambil.jpg"))
    expect(station.get_by_test_id("photo-preview")).to_be_visible()
    station.get_by_test_id("photo-remove").click()
    expect(station.get_by_test_id("photo-preview")).to_be_hidden()
    station.get_by_test_id("photo-input").set_input_files(str(tmp_path / "pengambil.jpg"))
    expect(station.get_by_test_id("photo-preview")).to_be_visible()
    station.screenshot(path=str(shots / "drive-thru-station.png"), full_page=True)
    lane.screenshot(path=str(shots / "drive-thru-lane.png"))
    station.get_by_test_id("confirm").click()
    expect(station.get_by_test_id("result-title")).to_have_text("SUDAH DISERAHKAN")
    expect(station.get_by_test_id("result-message")).to_contain_text(NAME)
    expect(lane.get_by_test_id("lane-title")).to_have_text("Terima kasih. Dokumen telah diserahkan.")
    status = staff_server.staff("ambil").http.get(
        f"{staff_server.url}/api/v1/applications/{data['application']['id']}", timeout=10).json()["application"]
    assert status["status"] == "collected" and status["collector"]["kind"] == "applicant"
    assert (staff_server.data_dir / status["collector"]["signature"]).read_bytes().startswith(b"\x89PNG")
    assert status["collector"]["photo"] == f"photos/{data['application']['id']}.jpg"
    stored = cv2.imread(str(staff_server.data_dir / status["collector"]["photo"]))
    assert stored is not None and stored.shape[:2] == (960, 1280)  # long side 1280 px

    # A forged QR (signed with another key): refused on both screens.
    forged = ResiSigner(derive_key("not the office key")).make_payload(data["application"]["id"], "DEMO", number)
    agent = run_agent(staff_server, resi_video(tmp_path / "forged.avi", forged))
    try:
        wait_for(lambda: agent.acked, timeout=10, what="the forged scan acked")
        expect(station.get_by_test_id("pickup-result")).to_have_attribute("data-state", "refused")
    finally:
        agent.stop()
    expect(station.get_by_test_id("result-title")).to_have_text("DITOLAK")
    expect(station.get_by_test_id("result-message")).to_have_text("QR resi PALSU atau telah diubah. Jangan serahkan dokumen.")
    expect(station.get_by_test_id("handover")).to_be_hidden()
    expect(lane.get_by_test_id("lane-title")).to_have_text("Mohon maaf")
    expect(lane.get_by_test_id("lane-hint")).to_have_text("Resi ini tidak sah. Silakan ke loket informasi.")
    station.screenshot(path=str(shots / "drive-thru-station-forged.png"), full_page=True)
    assert station.errors == [] and lane.errors == []


def test_typed_resi_at_an_ordinary_counter_and_english(new_page, staff_server):
    data = ready_kk(staff_server)
    device_id = pickup_device_id(staff_server)
    station = new_page("ambil")
    station.goto(f"{staff_server.url}/pickup/{device_id}?lang=en")
    station.wait_for_function("document.body.dataset.joined === '1'")
    station.get_by_test_id("resi-input").fill(data["resi"]["number"].lower())
    station.get_by_test_id("resi-input").press("Enter")
    expect(station.get_by_test_id("result-title")).to_have_text("READY TO HAND OVER")
    expect(station.get_by_test_id("d-shelf")).to_have_text("RAK-B-03")
    station.get_by_test_id("kind-representative").check()
    station.get_by_test_id("f-nik").fill("1471015205900002")
    station.get_by_test_id("confirm").click()  # not signed yet
    expect(station.get_by_test_id("handover-error")).to_have_text("The collector has not signed yet.")
    assert station.errors == []
