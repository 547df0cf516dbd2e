"""The managers' report pages (issue 7) in Chromium: from home to the waiting-time report,
its tables and heatmap, the download links, and the printable view (print CSS hides the
form and buttons). Figures are checked against the raw rows in tests/server/test_reports_*.py."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_manager_opens_the_waiting_report_and_prints_it(new_page, staff_server, shots):
    for service in ("ktp_el", "kk", "ktp_el"):
        staff_server.issue(service)
    page = new_page("manager")
    page.get_by_test_id("reports-link").click()
    expect(page.get_by_test_id("reports-index")).to_be_visible()
    page.get_by_test_id("report-link-waiting").click()
    expect(page.get_by_test_id("report-title")).to_have_text("Waktu tunggu dan layanan")
    page.locator("select[name=group]").select_option("service")
    page.get_by_role("button", name="Tampilkan").click()
    summary = page.get_by_test_id("table-summary")
    expect(summary.locator("[data-testid=row]")).to_have_count(3)  # total, A (KTP-el), B (KK)
    expect(summary.locator("tr.report-total td").nth(1)).to_have_text("3")
    expect(page.get_by_test_id("table-heatmap").locator("[data-testid=row]")).to_have_count(7)
    assert "format=xlsx" in page.get_by_test_id("export-xlsx").get_attribute("href")
    page.screenshot(path=str(shots / "report-waiting.png"), full_page=True)
    page.emulate_media(media="print")
    expect(page.get_by_test_id("report-form")).to_be_hidden()
    expect(page.get_by_test_id("print")).to_be_hidden()
    expect(summary).to_be_visible()
    assert page.errors == []
