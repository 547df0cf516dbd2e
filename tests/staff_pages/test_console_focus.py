"""The counter console's keyboard after a dialog closes, in headless Chromium: focus must
not stay on a field of a closed (hidden) dialog, or the next shortcut is swallowed.

Chromium gives the focus back on close only to an element that had it when the dialog
opened; with the focus on the page body (keyboard use, or the row button that opened the
previous dialog redrawn) the closed dialog's field kept it until Chromium's next style
update, and the shortcut guard took every key there for typing: a race the officer lost."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.staff_pages.test_console import expect_waiting, open_counter

pytestmark = pytest.mark.browser

# True once no closed dialog holds the focus (the page blurs it when the dialog's close
# event runs, a task after the dialog closed: waited for, not asserted at once).
FOCUS_LEFT_CLOSED_DIALOGS = "![...document.querySelectorAll('dialog:not([open])')].some((d) => d.contains(document.activeElement))"


def test_cancel_from_a_row_then_call_number_escape_then_pause(new_page, staff_server):
    """The sequence from the counter: cancel a waiting ticket from its row button, C, Esc,
    P. P must open the pause dialog (the old code left the focus on the hidden call-number
    input and ignored P)."""
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    for _ in range(3):
        staff_server.issue("ktp_el")
    expect_waiting(page, ["A001", "A002", "A003"])

    page.locator("[data-testid=waiting-list] li", has_text="A002").get_by_test_id("row-cancel").click()
    expect(page.get_by_test_id("cancel-reason")).to_be_focused()
    page.keyboard.type("Pemohon pulang")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("toast")).to_contain_text("Tiket A002 dibatalkan")
    expect_waiting(page, ["A001", "A003"])

    page.keyboard.press("c")
    expect(page.get_by_test_id("call-number-dialog")).to_be_visible()
    expect(page.get_by_test_id("call-number-input")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("call-number-dialog")).to_be_hidden()
    # Whether Chromium has moved the focus off the hidden input yet is a race; the guard
    # must not count a hidden field as typing either way.
    assert page.evaluate("LoketConsole.isTyping(document.getElementById('call-number-input'))") is False
    page.keyboard.press("p")
    expect(page.get_by_test_id("pause-dialog")).to_be_visible()
    page.keyboard.press("Enter")  # the first reason (break) is chosen
    expect(page.get_by_test_id("paused-banner")).to_be_visible()
    expect(page.get_by_test_id("counter-state")).to_contain_text("Jeda")
    page.wait_for_function(FOCUS_LEFT_CLOSED_DIALOGS)
    # The pause dialog closed by a finished request: P again resumes.
    page.keyboard.press("p")
    expect(page.get_by_test_id("paused-banner")).to_be_hidden()
    assert page.errors == []


def test_escape_out_of_transfer_and_cancel_dialogs_then_a_shortcut(new_page, staff_server):
    """Esc out of the transfer dialog (focus was in its select), then S starts serving;
    Esc out of a row's cancel dialog (focus was in the reason), then F finishes; a dialog
    closed by its Cancel button, then N calls."""
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    for _ in range(3):
        staff_server.issue("ktp_el")
    expect_waiting(page, ["A001", "A002", "A003"])
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")

    page.keyboard.press("t")
    expect(page.get_by_test_id("transfer-dialog")).to_be_visible()
    expect(page.get_by_test_id("transfer-service")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    expect(page.get_by_test_id("transfer-dialog")).to_be_hidden()
    expect(page.get_by_test_id("current-status")).to_have_text("Sedang dilayani")

    page.locator("[data-testid=waiting-list] li", has_text="A003").get_by_test_id("row-cancel").click()
    expect(page.get_by_test_id("cancel-reason")).to_be_focused()
    page.keyboard.type("salah")
    page.keyboard.press("Escape")
    page.keyboard.press("f")
    expect(page.get_by_test_id("cancel-dialog")).to_be_hidden()
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect_waiting(page, ["A002", "A003"])  # nothing was cancelled

    page.keyboard.press("c")
    expect(page.get_by_test_id("call-number-input")).to_be_focused()
    page.get_by_test_id("call-number-dialog").locator("[data-dismiss]").click()
    page.keyboard.press("n")
    expect(page.get_by_test_id("call-number-dialog")).to_be_hidden()
    expect(page.get_by_test_id("current-number")).to_have_text("A002")
    page.wait_for_function(FOCUS_LEFT_CLOSED_DIALOGS)
    assert page.errors == []


def test_a_key_in_the_same_moment_as_the_close_is_not_swallowed(new_page, staff_server):
    """Chromium moves the focus off a hidden field only after its next style update (and
    the page's blur runs with the close event, a task later): a key that comes first still
    has the hidden input as its target. Made certain here: the Cancel button and P in one
    script task. Failed every time on the old guard (INPUT = typing)."""
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    page.keyboard.press("c")
    expect(page.get_by_test_id("call-number-input")).to_be_focused()
    target = page.evaluate("""() => {
      document.querySelector("#dlg-call [data-dismiss]").click();
      const target = document.activeElement;
      target.dispatchEvent(new KeyboardEvent("keydown", {key: "p", bubbles: true, cancelable: true}));
      return target.id;
    }""")
    assert target == "call-number-input"  # the race this test is about did happen
    expect(page.get_by_test_id("call-number-dialog")).to_be_hidden()
    expect(page.get_by_test_id("pause-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("pause-dialog")).to_be_hidden()
    page.wait_for_function(FOCUS_LEFT_CLOSED_DIALOGS)
    assert page.errors == []
