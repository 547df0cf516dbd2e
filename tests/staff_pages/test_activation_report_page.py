"""The managers' activation report page (issue 5) against a live server: access, the
period form and the tables (the figures themselves are checked against the raw records in
tests/server/test_activation_api.py)."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from server.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def signed_in(server, username: str) -> requests.Session:
    s = requests.Session()
    s.post(f"{server.url}/api/v1/auth/login", json={"username": username, "password": DEMO_PASSWORD},
           headers={"X-CSRFToken": s.get(f"{server.url}/api/v1/auth/csrf").json()["csrf_token"]})
    return s


def test_managers_open_the_activation_report_from_home(new_page, staff_server, shots):
    staff_server.issue("ktp_activation")
    page = new_page("manager")
    page.get_by_test_id("report-activations-link").click()
    expect(page.get_by_test_id("report-days").locator("[data-testid=report-day]")).to_have_count(7)
    expect(page.get_by_test_id("report-totals")).to_contain_text("0 aktivasi")
    expect(page.locator("[data-testid=report-queue]").first).to_have_attribute("data-service", "ktp_activation")
    page.screenshot(path=str(shots / "report-activations.png"))
    page.locator("input[name=from]").fill("2026-11-01")
    page.locator("input[name=to]").fill("2026-11-03")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_test_id("report-days").locator("[data-testid=report-day]")).to_have_count(3)

    assert signed_in(staff_server, "fo1").get(f"{staff_server.url}/reports/activations").status_code == 403
    bad = signed_in(staff_server, "manager").get(f"{staff_server.url}/reports/activations?from=2026-02-01&to=2026-01-01")
    assert bad.status_code == 400
