"""The managers' live dashboard in Chromium (issue 7): thresholds set on the form turn a
tile red, and the figures follow tickets issued at the kiosk and called from a counter
over the staff stream without a reload; a lost connection shows "koneksi terputus" and
the page catches up when the server is back."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Office
from server.services.actors import PUBLIC
from server.services.queue import issue_ticket

pytestmark = pytest.mark.browser


def value(page, key: str):
    return page.get_by_test_id(f"tile-{key}-value")


def test_dashboard_updates_live_turns_tiles_red_and_resyncs(new_page, staff_server, shots):
    page = new_page("manager")
    page.get_by_test_id("dashboard-link").click()
    page.get_by_test_id("thresholds-link").click()
    page.get_by_test_id("thr-max_waiting").fill("1")  # more than one ticket waiting is an alert
    page.get_by_test_id("thresholds-save").click()
    expect(page.get_by_test_id("thresholds-saved")).to_be_visible()
    page.get_by_test_id("dashboard-link").click()
    expect(page.locator("body")).to_have_attribute("data-online", "1")
    expect(value(page, "waiting")).to_have_text("0")
    expect(page.get_by_test_id("alerts-none")).to_be_visible()
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded

    staff_server.issue("ktp_el")
    expect(value(page, "waiting")).to_have_text("1")
    expect(page.get_by_test_id("tile-waiting")).not_to_have_class("dash-tile is-alert")
    staff_server.issue("kk")
    staff_server.issue("kk")
    expect(value(page, "waiting")).to_have_text("3")
    expect(page.get_by_test_id("tile-waiting")).to_have_class("dash-tile is-alert")
    expect(page.get_by_test_id("alerts-list")).to_contain_text("3 tiket menunggu, melewati batas 1")

    fo1 = staff_server.staff("fo1")
    fo1.act(1, "open")
    fo1.act(1, "call-next")  # A001 to counter 1, from the console's API
    expect(value(page, "serving")).to_have_text("1")
    expect(value(page, "waiting")).to_have_text("2")
    expect(value(page, "calls")).to_have_text("1")
    expect(page.get_by_test_id("alerts-list")).to_contain_text("2 tiket menunggu, melewati batas 1")
    expect(page.get_by_test_id("counter-1")).to_contain_text("Melayani")
    expect(page.get_by_test_id("counter-1")).to_contain_text("A001")
    expect(page.get_by_test_id("counter-1")).to_contain_text("Andi Pratama")
    expect(page.get_by_test_id("service-ktp_el")).to_contain_text("KTP-el")
    served = page.evaluate("Chart.getChart('chart-services').data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))")
    assert served == [2, 1]  # waiting, being served: the chart follows too
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)
    assert page.evaluate("window.sameDocument") is True

    staff_server.stop()
    expect(page.get_by_test_id("connection-lost")).to_be_visible()
    expect(page.get_by_test_id("connection-lost")).to_contain_text("Koneksi terputus")
    with staff_server.db.session() as s:  # a ticket while the page is cut off
        issue_ticket(s, s.scalars(select(Office)).one(), "kia", actor=PUBLIC)
    staff_server.start()
    expect(page.get_by_test_id("connection-lost")).to_be_hidden(timeout=15000)
    expect(value(page, "waiting")).to_have_text("3")
    assert page.evaluate("window.sameDocument") is True
    assert page.errors == []
