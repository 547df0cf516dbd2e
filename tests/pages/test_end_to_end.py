"""The main job end to end in Chromium: a citizen taps a service on the kiosk, the officer
calls the number from the counter console with the keyboard, the TV shows and speaks the
call, the citizen's phone says "dipanggil ke loket 1"; a TV that reconnects resyncs."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _login(page, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo1234")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{url}/")


def test_kiosk_to_console_to_tv_and_phone(live_server, page_factory, artifacts):
    # The officer opens counter 1 in the console.
    console = page_factory(1366, 768)
    _login(console, live_server.url, "fo1")
    console.goto(f"{live_server.url}/console")
    option = console.locator("[data-testid=counter-select] option", has_text=re.compile(r"^Loket 1 "))
    console.get_by_test_id("counter-select").select_option(option.get_attribute("value"))
    console.get_by_test_id("open-counter").click()
    expect(console.get_by_test_id("btn-call-next")).to_be_visible()

    # The TV is on.
    tv = page_factory(1920, 1080)
    tv.goto(live_server.display_url())
    expect(tv.get_by_test_id("connection-status")).to_have_attribute("data-online", "true")
    tv.wait_for_function("() => LoketDisplay.stream.position !== null")  # the first full state is in

    # A citizen takes a KTP-el number at the kiosk.
    kiosk = page_factory(1080, 1920)
    kiosk.goto(live_server.kiosk_url())
    kiosk.get_by_test_id("service-ktp_el").click()
    kiosk.get_by_test_id("take-ticket").click()
    number = kiosk.get_by_test_id("ticket-number")
    expect(number).to_have_text("A001")
    qr_src = kiosk.get_by_test_id("ticket-qr").get_attribute("src")
    public_id = qr_src.split("/t/")[1].split("/")[0]

    # Their phone follows the ticket (the QR target).
    phone = page_factory(390, 844)
    phone.goto(f"{live_server.url}/t/{public_id}")
    expect(phone.get_by_test_id("status-text")).to_contain_text("Menunggu")

    # The number appears live in the console's waiting list; N calls it.
    expect(console.get_by_test_id("waiting-list")).to_contain_text("A001")
    console.keyboard.press("n")
    expect(console.get_by_test_id("current-number")).to_have_text("A001")

    # The TV shows it large and speaks it; the phone says where to go.
    expect(tv.get_by_test_id("current-number")).to_have_text("A001")
    expect(tv.get_by_test_id("current-counter")).to_contain_text("1")
    tv.wait_for_function("() => LoketDisplay.spoken.some(s => s.number === 'A001')", timeout=15000)
    expect(phone.get_by_test_id("called-counter")).to_contain_text("1")

    # A recall is spoken again; the TV reconnecting resyncs without speaking old calls.
    console.keyboard.press("r")
    tv.wait_for_function("() => LoketDisplay.spoken.filter(s => s.number === 'A001').length >= 2", timeout=20000)
    tv.wait_for_function("() => LoketDisplay.queue.length === 0 && LoketDisplay.spoken.every(s => s.end !== null)",
                         timeout=30000)
    spoken = tv.evaluate("() => LoketDisplay.spoken.length")
    resyncs = tv.evaluate("() => LoketDisplay.stream.resyncs")
    tv.evaluate("() => LoketDisplay.stream.socket.io.engine.close()")
    tv.wait_for_function(f"() => LoketDisplay.stream.resyncs > {resyncs} && LoketDisplay.stream.position !== null")
    expect(tv.get_by_test_id("current-number")).to_have_text("A001")
    tv.wait_for_timeout(1000)
    assert tv.evaluate("() => LoketDisplay.spoken.length") == spoken

    kiosk.screenshot(path=str(artifacts / "e2e-kiosk.png"))
    console.screenshot(path=str(artifacts / "e2e-console.png"))
    tv.screenshot(path=str(artifacts / "e2e-display.png"))
    phone.screenshot(path=str(artifacts / "e2e-phone.png"))
