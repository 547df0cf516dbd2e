"""The IKM, AKAPELA and activation report pages in Chromium through the shared report header:
download links, and the printable view (reports.css: the form and buttons hidden, the
tables and the printed-at line shown)."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_ikm_complaint_and_activation_reports_print(new_page, staff_server, shots):
    page = new_page("manager")
    for path, table in (("/reports/ikm", "ikm-elements"), ("/reports/complaints", "report-times"),
                        ("/reports/activations", "report-days")):
        page.goto(f"{staff_server.url}{path}?from=2026-11-01&to=2026-11-03")
        expect(page.get_by_test_id(table)).to_be_visible()
        assert "format=csv" in page.get_by_test_id("export-csv").get_attribute("href")
        assert "from=2026-11-01" in page.get_by_test_id("export-xlsx").get_attribute("href")
        page.emulate_media(media="print")
        expect(page.get_by_test_id("report-form")).to_be_hidden()
        expect(page.get_by_test_id("print")).to_be_hidden()
        expect(page.get_by_test_id(table)).to_be_visible()
        expect(page.locator(".report-printed")).to_be_visible()
        page.screenshot(path=str(shots / f"report-print-{path.rsplit('/', 1)[1]}.png"), full_page=True)
        page.emulate_media(media="screen")
    assert page.errors == []
