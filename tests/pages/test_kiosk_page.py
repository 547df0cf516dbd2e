"""The kiosk page in headless Chromium: choose, read requirements, take a number, print state."""
from __future__ import annotations

import re
import time
from datetime import time as clock

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Device, Office

pytestmark = pytest.mark.browser

PORTRAIT = (1080, 1920)
LANDSCAPE = (1920, 1080)


def _open_kiosk(live_server, page_factory, size, **params):
    page = page_factory(*size)
    page.goto(live_server.kiosk_url(**params))
    expect(page.locator("#screen-services")).to_be_visible()
    return page


def _take(page, service="ktp_el", priority=None):
    page.get_by_test_id(f"service-{service}").click()
    expect(page.locator("#screen-detail")).to_be_visible()
    if priority:
        page.get_by_test_id(f"priority-{priority}").click()
    page.get_by_test_id("take-ticket").click()


def _close_office(live_server):
    with live_server.db.session() as s:
        office = s.scalars(select(Office).where(Office.code == live_server.office)).one()
        office.opening_time = office.closing_time = clock(0, 0)  # never open
        settings = dict(office.settings or {})
        settings["queue"] = {**settings.get("queue", {}), "enforce_hours": True}
        office.settings = settings


@pytest.mark.slow
def test_portrait_take_number_with_requirements_and_qr(live_server, page_factory, artifacts):
    staff = live_server.staff("fo1")
    staff.act(1, "open")  # counter 1 serves KTP-el and KK
    live_server.staff("fo2").act(3, "open")  # KK, KIA, PELITA 1
    live_server.staff("fo3").act(5, "open")  # moving out / in
    live_server.staff("fo4").act(7, "open")  # KTP-el activation
    live_server.issue("ktp_el")
    live_server.issue("ktp_el")

    page = _open_kiosk(live_server, page_factory, PORTRAIT)
    expect(page.get_by_test_id("office-name")).to_contain_text("Kota Demo")
    ktp = page.get_by_test_id("service-ktp_el")
    expect(ktp).to_be_enabled()
    expect(page.get_by_test_id("waiting-ktp_el")).to_have_text("2 orang menunggu")
    # nobody serves document pickup (counters 6 and 8 are closed): shown closed, not tappable
    pickup = page.get_by_test_id("service-pickup")
    expect(pickup).to_be_disabled()
    expect(pickup).to_contain_text("Tutup")
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")

    # live: a ticket taken elsewhere raises the count
    live_server.issue("ktp_el")
    expect(page.get_by_test_id("waiting-ktp_el")).to_have_text("3 orang menunggu")
    page.screenshot(path=str(artifacts / "kiosk-portrait.png"))

    ktp.click()
    reqs = page.get_by_test_id("requirements")
    expect(reqs).to_contain_text("Formulir F-1.21")
    expect(reqs).to_contain_text("Fotokopi KK terbaru")
    expect(page.locator("#screen-detail")).to_contain_text("UU No. 25 Tahun 2009")
    page.get_by_test_id("priority-lansia").click()
    expect(page.get_by_test_id("priority-lansia")).to_have_attribute("aria-checked", "true")
    page.screenshot(path=str(artifacts / "kiosk-detail-portrait.png"))
    page.get_by_test_id("take-ticket").click()

    number = page.get_by_test_id("ticket-number")
    expect(number).to_have_text(re.compile(r"^A\d{3}$"))
    assert number.inner_text() == "A004"
    expect(page.get_by_test_id("people-ahead")).to_have_text("3")
    expect(page.get_by_test_id("estimated-wait")).to_have_text(re.compile(r"^± \d+ menit$"))
    expect(page.get_by_test_id("ticket-service")).to_have_text("KTP-el")
    expect(page.locator("#ticket-priority")).to_contain_text("Lansia")
    expect(page.locator(".k-qr-caption")).to_have_text("Pindai untuk memantau antrian")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=ticket-qr]'); return i.complete && i.naturalWidth > 0; }"
    )
    expect(page.get_by_test_id("print-status")).to_have_text("Mencetak tiket...")
    page.screenshot(path=str(artifacts / "kiosk-ticket.png"), animations="disabled")

    # the ticket really is in the queue, as a priority ticket
    waiting = {t["number"]: t for t in live_server.kiosk_state()["waiting"]}
    assert waiting["A004"]["priority_kind"] == "lansia"

    # "Selesai" returns to the service list, where the count went up
    page.get_by_test_id("done").click()
    expect(page.locator("#screen-services")).to_be_visible()
    expect(page.get_by_test_id("waiting-ktp_el")).to_have_text("4 orang menunggu")


@pytest.mark.slow
def test_landscape_flow_and_english(live_server, page_factory, artifacts):
    staff = live_server.staff("fo3")
    staff.act(3, "open")  # counter 3 serves KK, KIA, PELITA 1

    page = _open_kiosk(live_server, page_factory, LANDSCAPE)
    expect(page.get_by_test_id("service-kk")).to_be_enabled()
    expect(page.get_by_test_id("service-pelita1")).to_be_enabled()
    expect(page.get_by_test_id("service-ktp_el")).to_be_disabled()
    # every service button is a big touch target
    for box in page.locator(".k-service").evaluate_all(
            "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })"):
        assert box[0] >= 120 and box[1] >= 120, box
    page.screenshot(path=str(artifacts / "kiosk-landscape.png"))

    # the counter closes: its services turn "Tutup" live
    staff.act(3, "close")
    expect(page.get_by_test_id("service-kk")).to_be_disabled()
    staff.act(3, "open")
    expect(page.get_by_test_id("service-kk")).to_be_enabled()

    page.get_by_test_id("service-pelita1").click()
    expect(page.get_by_test_id("requirements")).to_contain_text("Surat keterangan lahir")
    page.screenshot(path=str(artifacts / "kiosk-detail-landscape.png"))
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text("D001")
    expect(page.get_by_test_id("people-ahead")).to_have_text("0")
    page.wait_for_function("() => document.querySelector('[data-testid=ticket-qr]').naturalWidth > 0")
    take_box = page.get_by_test_id("done").bounding_box()
    assert take_box["height"] >= 120
    page.screenshot(path=str(artifacts / "kiosk-ticket-landscape.png"), animations="disabled")

    # English via the visible switch (the token stays in the URL)
    page.get_by_test_id("done").click()
    page.get_by_test_id("lang-en").click()
    expect(page.locator("#screen-services h2")).to_have_text("Please choose a service")
    assert "token=" in page.url and "lang=en" in page.url
    page.get_by_test_id("service-kk").click()
    expect(page.get_by_test_id("take-ticket")).to_have_text("Take a Number")
    expect(page.get_by_test_id("requirements")).to_contain_text("Form F-1.01")
    page.get_by_test_id("lang-id").click()
    expect(page.locator("#screen-services h2")).to_have_text("Silakan pilih layanan")


@pytest.mark.slow
def test_print_fallback_without_agent(live_server, page_factory):
    live_server.staff("fo1").act(1, "open")
    page = _open_kiosk(live_server, page_factory, LANDSCAPE)
    _take(page, "kk")
    status = page.get_by_test_id("print-status")
    expect(status).to_have_text("Mencetak tiket...")
    shown = time.monotonic()
    expect(status).to_have_text(
        "Printer tidak dapat mencetak. Nomor Anda tetap berlaku: foto layar ini atau pindai QR.", timeout=9500)
    assert 7.0 <= time.monotonic() - shown <= 9.5
    expect(status).to_have_attribute("data-state", "failed")
    # the number stays on screen, with the longer countdown
    expect(page.get_by_test_id("ticket-number")).to_have_text("B001")
    left = int(re.search(r"\d+", page.get_by_test_id("done").inner_text()).group())
    assert 30 <= left <= 45


@pytest.mark.slow
def test_print_result_from_agent(live_server, page_factory, artifacts):
    """A kiosk agent (Socket.IO client on "/agents" with the kiosk's token) prints and reports back."""
    import socketio

    agent = socketio.Client(reconnection=False)
    jobs = []

    @agent.on("print_job", namespace="/agents")
    def _job(job):
        jobs.append(job)
        ok = job["number"] != "B002"
        agent.emit("print_result", {"ticket_id": job["ticket_id"], "job_id": job["job_id"], "ok": ok,
                                    "error": None if ok else "paper out"}, namespace="/agents")

    agent.connect(live_server.url, transports=["websocket"], auth={"token": live_server.tokens["kiosk"]},
                  namespaces=["/agents"])
    try:
        live_server.staff("fo1").act(1, "open")
        page = _open_kiosk(live_server, page_factory, PORTRAIT)
        _take(page, "kk")
        expect(page.get_by_test_id("print-status")).to_have_text("Silakan ambil tiket Anda")
        expect(page.get_by_test_id("print-status")).to_have_attribute("data-state", "printed")
        page.get_by_test_id("done").click()
        _take(page, "kk")
        expect(page.get_by_test_id("ticket-number")).to_have_text("B002")
        expect(page.get_by_test_id("print-status")).to_have_attribute("data-state", "failed", timeout=3000)
        expect(page.get_by_test_id("print-status")).to_contain_text("Nomor Anda tetap berlaku")
        assert [j["number"] for j in jobs] == ["B001", "B002"]
    finally:
        agent.disconnect()


def test_double_tap_gives_one_ticket(live_server, page_factory):
    live_server.staff("fo1").act(1, "open")
    page = _open_kiosk(live_server, page_factory, PORTRAIT)
    # slow the answer down so the second tap lands while the first request is in flight
    posts = []

    def slow(route):
        posts.append(route.request.url)
        time.sleep(0.6)
        route.continue_()

    page.route("**/api/v1/offices/*/tickets", slow)
    page.get_by_test_id("service-ktp_el").click()
    take = page.get_by_test_id("take-ticket")
    take.dblclick()
    page.evaluate("() => { const b = document.querySelector('[data-testid=take-ticket]'); b.click(); b.click(); }")
    expect(page.get_by_test_id("ticket-number")).to_have_text("A001")
    time.sleep(0.8)
    assert len(posts) == 1
    assert [t["number"] for t in live_server.kiosk_state()["waiting"]] == ["A001"]


def test_office_closed_error_is_shown(live_server, page_factory):
    live_server.staff("fo1").act(1, "open")
    _close_office(live_server)
    page = _open_kiosk(live_server, page_factory, LANDSCAPE)
    _take(page, "ktp_el")
    error = page.get_by_test_id("error-message")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Kantor sedang tutup")
    expect(error).to_contain_text("00:00")
    expect(page.locator("#screen-detail")).to_be_visible()
    expect(page.get_by_test_id("take-ticket")).to_be_enabled()  # may try again
    assert live_server.kiosk_state()["waiting"] == []


def test_network_and_service_errors_are_shown(live_server, page_factory):
    live_server.staff("fo1").act(1, "open")
    page = _open_kiosk(live_server, page_factory, PORTRAIT)
    page.route("**/api/v1/offices/*/tickets", lambda route: route.abort("connectionrefused"))
    _take(page, "kk")
    expect(page.get_by_test_id("error-message")).to_contain_text("Tidak dapat terhubung ke server, coba lagi")

    page.unroute("**/api/v1/offices/*/tickets")
    page.route("**/api/v1/offices/*/tickets", lambda route: route.fulfill(
        status=409, content_type="application/json",
        body='{"error": "service_unavailable", "message": "service is not available"}'))
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("error-message")).to_contain_text("Layanan ini sedang tidak tersedia")

    # the error clears and the number comes once the server answers again
    page.unroute("**/api/v1/offices/*/tickets")
    page.get_by_test_id("take-ticket").click()
    expect(page.get_by_test_id("ticket-number")).to_have_text("B001")


def test_offline_indicator(live_server, page_factory):
    page = _open_kiosk(live_server, page_factory, LANDSCAPE)
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")
    page.evaluate("() => { LoketKiosk.stream.socket.io.opts.reconnection = false; LoketKiosk.stream.socket.io.engine.close(); }")
    expect(page.get_by_test_id("offline-banner")).to_be_visible()
    expect(page.get_by_test_id("connection-status")).to_have_attribute("data-online", "false")
    page.evaluate("() => { LoketKiosk.stream.socket.io.opts.reconnection = true; LoketKiosk.stream.socket.connect(); }")
    expect(page.get_by_test_id("offline-banner")).to_be_hidden()


def test_revoked_kiosk_is_explained(live_server, page_factory):
    page = _open_kiosk(live_server, page_factory, LANDSCAPE)
    with live_server.db.session() as s:
        for device in s.scalars(select(Device).where(Device.kind == "kiosk")):
            device.active = False
    page.evaluate("() => LoketKiosk.stream.socket.io.engine.close()")
    banner = page.get_by_test_id("offline-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Kiosk ini belum terdaftar")


def test_missing_token_is_explained(live_server, page_factory):
    page = page_factory(*PORTRAIT)
    page.goto(f"{live_server.url}/kiosk/{live_server.office}")
    expect(page.locator("#loading-text")).to_contain_text("Kiosk ini belum terdaftar")


def test_printer_out_of_paper_is_announced_and_the_ticket_shown_on_screen(live_server, page_factory):
    """The kiosk agent reports paper out: the kiosk says so before anyone takes a number,
    and a number taken then goes straight to the on-screen fallback."""
    import socketio

    live_server.staff("fo1").act(1, "open")
    agent = socketio.Client()
    agent.connect(live_server.url, auth={"token": live_server.tokens["kiosk"]}, namespaces=["/agents"],
                  transports=["websocket"])
    try:
        page = _open_kiosk(live_server, page_factory, PORTRAIT)
        banner = page.get_by_test_id("printer-banner")
        expect(banner).to_be_hidden()
        out = {"printer": {"kind": "printer", "state": "paper_out", "detail": "kertas habis"}}
        assert agent.call("health", {"devices": out}, namespace="/agents", timeout=10) == {"ok": True}
        expect(banner).to_be_visible()
        expect(banner).to_contain_text("Printer tiket sedang bermasalah")
        page.get_by_test_id("service-ktp_el").click()
        page.get_by_test_id("take-ticket").click()
        expect(page.get_by_test_id("ticket-number")).to_have_text("A001")
        expect(page.get_by_test_id("print-status")).to_contain_text("Printer tidak dapat mencetak", timeout=2000)
        ok = {"printer": {"kind": "printer", "state": "ok", "detail": ""}}
        agent.call("health", {"devices": ok}, namespace="/agents", timeout=10)
        expect(banner).to_be_hidden()
    finally:
        agent.disconnect()
