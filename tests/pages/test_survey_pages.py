"""IKM survey in headless Chromium: the counter tablet answering after the officer finishes a
ticket at its counter, and a phone reaching the survey from its ticket page."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import SurveyResponse

pytestmark = pytest.mark.browser

PICKS = {"u1": 4, "u2": 3, "u3": 3, "u4": 4, "u5": 3, "u6": 4, "u7": 4, "u8": 2, "u9": 3}


def pick(page, answers: dict) -> None:
    for key, value in answers.items():
        page.locator(f'fieldset[data-element="{key}"] label[data-value="{value}"]').click()


def stored(live_server) -> list[tuple]:
    with live_server.db.session() as s:
        return [(r.ticket_id, r.channel, r.values(), r.comment) for r in s.scalars(select(SurveyResponse))]


@pytest.mark.slow
def test_counter_tablet_surveys_after_the_finish(live_server, page_factory, artifacts):
    page = page_factory(1280, 800, has_touch=True)
    page.clock.install()
    page.goto(f"{live_server.url}/survey/{live_server.office}?token={live_server.tokens['survey']}")
    expect(page.locator("#survey-app")).to_have_attribute("data-tablet-ready", "1")
    expect(page.get_by_test_id("survey-idle")).to_be_visible()
    expect(page.get_by_test_id("survey-idle")).to_contain_text("Terima kasih atas kunjungan Anda")

    ticket = live_server.issue("ktp_el")["ticket"]
    staff = live_server.staff("fo1")  # the counter console's REST calls
    staff.act(1, "open")
    staff.act(1, "call-next")
    staff.act(1, "start")
    expect(page.get_by_test_id("survey-idle")).to_be_visible()  # nothing to rate while being served
    staff.act(1, "finish")

    expect(page.get_by_test_id("survey-form")).to_be_visible()
    expect(page.get_by_test_id("survey-ticket")).to_contain_text(ticket["number"])
    expect(page.get_by_test_id("q-u1")).to_contain_text(
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?")
    box = page.locator('fieldset[data-element="u1"] label[data-value="4"]').bounding_box()
    assert box["height"] >= 64 and box["width"] >= 120  # large touch targets

    pick(page, {"u1": 4, "u2": 3})
    page.get_by_test_id("survey-submit").click()  # seven elements left: refused on the page
    expect(page.get_by_test_id("survey-error")).to_contain_text("U3, U4, U5, U6, U7, U8, U9")
    assert stored(live_server) == []
    pick(page, PICKS)
    page.get_by_test_id("comment").fill("Petugas ramah, ruang tunggu nyaman")
    page.screenshot(path=str(artifacts / "survey-tablet.png"), full_page=True)
    page.get_by_test_id("survey-submit").click()
    expect(page.get_by_test_id("survey-thanks")).to_be_visible()
    page.clock.fast_forward(9000)
    expect(page.get_by_test_id("survey-idle")).to_be_visible()
    assert stored(live_server) == [(ticket["id"], "counter", list(PICKS.values()), "Petugas ramah, ruang tunggu nyaman")]


def test_phone_answers_from_its_ticket_page(live_server, page_factory):
    ticket = live_server.issue("ktp_el")["ticket"]
    staff = live_server.staff("fo1")
    staff.act(1, "open")
    staff.act(1, "call-next")
    staff.act(1, "start")
    page = page_factory(390, 844, is_mobile=True, has_touch=True)
    page.goto(f"{live_server.url}/t/{ticket['public_id']}?lang=en")
    expect(page.get_by_test_id("status-text")).to_contain_text("counter 1")
    expect(page.get_by_test_id("survey-link")).to_be_hidden()
    staff.act(1, "finish")
    expect(page.get_by_test_id("survey-link")).to_be_visible()
    page.get_by_test_id("survey-link").click()
    expect(page.get_by_test_id("survey-form")).to_be_visible()
    expect(page.get_by_test_id("q-u4")).to_contain_text("fairness of the cost/fee")
    pick(page, PICKS)
    page.get_by_test_id("survey-submit").click()
    # the thanks screen is in the page from the start: visible only once the answer is saved
    expect(page.get_by_test_id("survey-thanks")).to_be_visible()
    expect(page.get_by_test_id("survey-thanks")).to_contain_text("Thank you")
    assert [(t, c) for t, c, _v, _m in stored(live_server)] == [(ticket["id"], "link")]
