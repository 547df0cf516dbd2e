"""The counter console in headless Chromium against a live server: keyboard-driven calling,
serving, skipping, transferring, pausing; live updates; errors; duplicate key presses."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def open_counter(page, base_url: str, number: int) -> None:
    """Open the console, choose counter ``number`` and open it; waits for the live state."""
    page.goto(base_url + "/console")
    expect(page.get_by_test_id("choose-view")).to_be_visible()
    option = page.locator("[data-testid=counter-select] option", has_text=re.compile(rf"^Loket {number} "))
    page.get_by_test_id("counter-select").select_option(option.get_attribute("value"))
    page.get_by_test_id("open-counter").click()
    expect(page.get_by_test_id("work-view")).to_be_visible()
    expect(page.get_by_test_id("counter-state")).to_contain_text(f"Loket {number}")
    wait_synced(page)


def wait_synced(page) -> None:
    page.wait_for_function("window.LoketConsole && window.LoketConsole.state.synced && window.LoketConsole.state.online")


def waiting_numbers(page) -> list[str]:
    return page.locator("[data-testid=waiting-list] li .num").all_inner_texts()


def expect_waiting(page, numbers: list[str]) -> None:
    expect(page.locator("[data-testid=waiting-list] li .num")).to_have_text(numbers)


def ticket_status(server, public_id: str) -> str:
    return requests.get(f"{server.url}/api/v1/tickets/{public_id}", timeout=5).json()["status"]


def test_full_shift_by_keyboard(new_page, staff_server, shots):
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    expect(page.get_by_test_id("toast")).to_contain_text("Loket 1 dibuka")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    # No ticket: only call, call a number, pause and close.
    for tid in ("btn-call-next", "btn-call-number", "btn-pause", "btn-close"):
        expect(page.get_by_test_id(tid)).to_be_enabled()
    for tid in ("btn-recall", "btn-start", "btn-finish", "btn-skip", "btn-transfer"):
        expect(page.get_by_test_id(tid)).to_be_disabled()

    # Tickets taken at the kiosk appear live, in queue order.
    a1, a2, a3 = (staff_server.issue("ktp_el") for _ in range(3))
    staff_server.issue("pickup")  # another counter's service: not in this list
    b1 = staff_server.issue("kk")
    expect_waiting(page, ["A001", "A002", "A003", "B001"])
    expect(page.get_by_test_id("waiting-total")).to_have_text("4")

    # N calls the next ticket.
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    expect(page.get_by_test_id("current-status")).to_have_text("Dipanggil")
    expect(page.get_by_test_id("current-timer")).to_contain_text("dipanggil 00:0")
    expect_waiting(page, ["A002", "A003", "B001"])
    for tid in ("btn-recall", "btn-start", "btn-skip", "btn-finish", "btn-transfer"):
        expect(page.get_by_test_id(tid)).to_be_enabled()
    for tid in ("btn-call-next", "btn-call-number", "btn-pause", "btn-close"):
        expect(page.get_by_test_id(tid)).to_be_disabled()

    # S starts serving, F finishes.
    page.keyboard.press("s")
    expect(page.get_by_test_id("current-status")).to_have_text("Sedang dilayani")
    expect(page.get_by_test_id("btn-recall")).to_be_disabled()
    expect(page.get_by_test_id("btn-skip")).to_be_disabled()
    expect(page.get_by_test_id("btn-finish")).to_be_enabled()
    expect(page.get_by_test_id("btn-transfer")).to_be_enabled()
    page.keyboard.press("f")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect(page.get_by_test_id("toast")).to_contain_text("A001 selesai dilayani")
    assert ticket_status(staff_server, a1["public_id"]) == "done"

    # R recalls, X skips after a confirmation: the ticket goes back marked "dilewati".
    page.keyboard.press("F1")
    expect(page.get_by_test_id("current-number")).to_have_text("A002")
    page.keyboard.press("r")
    expect(page.get_by_test_id("toast")).to_contain_text("A002 dipanggil ulang")
    page.keyboard.press("x")
    expect(page.get_by_test_id("skip-dialog")).to_be_visible()
    expect(page.get_by_test_id("skip-dialog")).to_contain_text("Lewati A002?")
    page.keyboard.press("Escape")  # changed my mind
    expect(page.get_by_test_id("skip-dialog")).to_be_hidden()
    expect(page.get_by_test_id("current-number")).to_have_text("A002")
    page.keyboard.press("x")
    expect(page.get_by_test_id("skip-dialog")).to_be_visible()  # Enter confirms the open dialog
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect_waiting(page, ["A002", "A003", "B001"])
    expect(page.locator("[data-testid=waiting-list] li", has_text="A002")).to_contain_text("dilewati 1×")

    # A002 may be called again only after a few calls, so N calls A003; T transfers it to KK, at the back.
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A003")
    page.keyboard.press("t")
    expect(page.get_by_test_id("transfer-dialog")).to_be_visible()
    page.get_by_test_id("transfer-service").select_option("kk")
    page.get_by_test_id("transfer-back").check()
    page.screenshot(path=str(shots / "console-transfer.png"))
    page.get_by_test_id("transfer-confirm").click()
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect(page.get_by_test_id("toast")).to_contain_text("A003 dialihkan ke Kartu Keluarga (KK) (belakang)")
    expect_waiting(page, ["A002", "B001", "A003"])
    row = page.locator("[data-testid=waiting-list] li", has_text="A003")
    expect(row.locator(".letter")).to_have_text("B")  # counter 1 also serves KK
    assert ticket_status(staff_server, a3["public_id"]) == "waiting"

    # C calls a number out of order (the skipped A002 came back).
    page.keyboard.press("c")
    expect(page.get_by_test_id("call-number-input")).to_be_focused()
    page.keyboard.type("a002")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("current-number")).to_have_text("A002")
    expect(page.get_by_test_id("current-status")).to_have_text("Dipanggil")
    page.keyboard.press("s")
    expect(page.get_by_test_id("current-status")).to_have_text("Sedang dilayani")
    page.screenshot(path=str(shots / "console-serving.png"))

    # "Selesai & panggil berikutnya" (F2): finishes A002 and calls the next one, B001.
    page.keyboard.press("F2")
    expect(page.get_by_test_id("current-number")).to_have_text("B001")
    assert ticket_status(staff_server, a2["public_id"]) == "done"
    expect(page.get_by_test_id("btn-finish-next")).to_be_disabled()  # only while serving
    page.keyboard.press("s")
    expect(page.get_by_test_id("btn-finish-next")).to_be_enabled()
    page.keyboard.press("F2")
    expect(page.get_by_test_id("current-number")).to_have_text("A003")
    assert ticket_status(staff_server, b1["public_id"]) == "done"
    # F2 with nobody waiting still finishes the current ticket, and says nobody is waiting.
    page.keyboard.press("s")
    expect(page.get_by_test_id("current-status")).to_have_text("Sedang dilayani")
    page.keyboard.press("F2")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    expect(page.get_by_test_id("toast")).to_contain_text("A003 selesai dilayani")
    expect(page.get_by_test_id("toast")).to_contain_text("Tidak ada antrian menunggu")

    # Errors are toasted with a clear text: nobody is waiting.
    expect_waiting(page, [])
    page.keyboard.press("n")
    expect(page.get_by_test_id("toast")).to_contain_text("Tidak ada antrian menunggu")
    expect(page.get_by_test_id("toast")).to_have_class(re.compile("toast-error"))
    expect(page.get_by_test_id("current-number")).to_have_text("—")

    # P pauses with a reason (2 = Sholat); calling is off until P resumes.
    page.keyboard.press("p")
    expect(page.get_by_test_id("pause-dialog")).to_be_visible()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("counter-state")).to_contain_text("Jeda: Sholat")
    expect(page.get_by_test_id("paused-banner")).to_contain_text("Sholat")
    expect(page.get_by_test_id("btn-call-next")).to_be_disabled()
    expect(page.get_by_test_id("btn-pause")).to_contain_text("Lanjut")
    expect(page.get_by_test_id("btn-pause")).to_be_enabled()
    page.screenshot(path=str(shots / "console-paused.png"))
    page.keyboard.press("p")
    expect(page.get_by_test_id("counter-state")).to_contain_text("Buka")
    expect(page.get_by_test_id("paused-banner")).to_be_hidden()
    expect(page.get_by_test_id("btn-call-next")).to_be_enabled()

    # Pause with a reason of one's own.
    page.keyboard.press("p")
    page.keyboard.press("4")
    expect(page.get_by_test_id("pause-other")).to_be_focused()
    page.keyboard.type("Rapat koordinasi")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("counter-state")).to_contain_text("Jeda: Rapat koordinasi")
    expect(page.get_by_test_id("btn-pause")).to_be_enabled()  # the answer is in
    page.keyboard.press("p")
    expect(page.get_by_test_id("counter-state")).to_contain_text("Buka")

    # Q closes the counter (after a confirmation) and returns to the counter choice.
    page.keyboard.press("q")
    expect(page.get_by_test_id("close-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("choose-view")).to_be_visible()
    expect(page.get_by_test_id("toast")).to_contain_text("Loket 1 ditutup")
    assert page.errors == []


def test_waiting_list_marks_priority_and_reprint_and_cancel(new_page, staff_server, shots):
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    staff_server.issue("ktp_el")
    staff_server.issue("kk", priority_kind="lansia")
    staff_server.issue("kk")
    staff_server.issue("ktp_el")
    staff_server.issue("ktp_el")
    staff_server.issue("kk", priority_kind="disabilitas")
    expect_waiting(page, ["A001", "B001", "B002", "A002", "A003", "B003"])
    lansia = page.locator("[data-testid=waiting-list] li", has_text="B001").get_by_test_id("priority-badge")
    expect(lansia).to_have_text("★ Lansia")
    expect(lansia).to_have_attribute("title", "Prioritas · Lansia")
    expect(page.locator("[data-testid=waiting-list] li", has_text="B003").get_by_test_id("priority-badge")).to_have_text(
        "★ Disabilitas")
    expect(page.locator("[data-testid=waiting-list] li", has_text="A002").get_by_test_id("priority-badge")).to_have_count(0)
    expect(page.get_by_test_id("service-counts")).to_contain_text("A KTP-el")
    expect(page.locator("[data-testid=service-counts] [data-service=kk] strong")).to_have_text("3")
    expect(page.get_by_test_id("current-hint")).to_contain_text("6 menunggu")

    # Reprint a citizen's ticket from its row.
    page.locator("[data-testid=waiting-list] li", has_text="A001").get_by_test_id("row-reprint").click()
    expect(page.get_by_test_id("toast")).to_contain_text("Tiket A001 dikirim ke printer kios")

    # Cancel a waiting ticket with a reason: it leaves the list.
    page.locator("[data-testid=waiting-list] li", has_text="B002").get_by_test_id("row-cancel").click()
    expect(page.get_by_test_id("cancel-dialog")).to_be_visible()
    expect(page.get_by_test_id("cancel-reason")).to_be_focused()
    page.keyboard.type("Pemohon pulang")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("toast")).to_contain_text("Tiket B002 dibatalkan")
    expect_waiting(page, ["A001", "B001", "A002", "A003", "B003"])
    expect(page.locator("[data-testid=service-counts] [data-service=kk] strong")).to_have_text("2")

    # Reprint from the current ticket too.
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    page.keyboard.press("s")
    expect(page.get_by_test_id("current-status")).to_have_text("Sedang dilayani")
    page.get_by_test_id("current-reprint").click()
    expect(page.get_by_test_id("toast")).to_contain_text("Tiket A001 dikirim ke printer kios")
    page.screenshot(path=str(shots / "console.png"))
    assert page.errors == []


def test_second_officer_sees_the_first_counter_live(new_page, staff_server, shots):
    fo1 = new_page("fo1")
    open_counter(fo1, staff_server.url, 1)
    fo2 = new_page("fo2")
    fo2.goto(staff_server.url + "/console")
    wait_synced(fo2)
    fo2.screenshot(path=str(shots / "console-choose.png"))
    # Counter 1 is held by fo1: fo2 cannot pick it.
    expect(fo2.locator("[data-testid=counter-select] option[value]").first).to_be_disabled()
    expect(fo2.locator("[data-testid=counter-select]")).not_to_have_value(
        fo2.locator("[data-testid=counter-select] option").first.get_attribute("value"))
    open_counter(fo2, staff_server.url, 2)
    other = fo2.locator("[data-testid=other-counters] li", has_text="Loket 1")
    expect(other).to_contain_text("Buka")
    expect(other).to_contain_text("Andi Pratama")

    staff_server.issue("ktp_el")
    staff_server.issue("ktp_el")
    expect_waiting(fo2, ["A001", "A002"])
    fo1.keyboard.press("n")
    expect(fo1.get_by_test_id("current-number")).to_have_text("A001")
    expect(other.locator(".o-current")).to_have_text("A001")   # live on fo2's screen
    expect_waiting(fo2, ["A002"])

    fo1.keyboard.press("s")
    fo1.keyboard.press("f")
    expect(other.locator(".o-current")).to_have_text("")
    expect(fo1.get_by_test_id("btn-pause")).to_be_enabled()
    fo1.keyboard.press("p")
    expect(fo1.get_by_test_id("pause-dialog")).to_be_visible()
    fo1.keyboard.press("Enter")  # Istirahat
    expect(other).to_contain_text("Jeda: Istirahat")

    # fo2 calls the next one: fo1's list empties live.
    fo2.keyboard.press("n")
    expect(fo2.get_by_test_id("current-number")).to_have_text("A002")
    expect_waiting(fo1, [])
    expect(fo1.locator("[data-testid=other-counters] li", has_text="Loket 2").locator(".o-current")).to_have_text("A002")
    assert fo1.errors == [] and fo2.errors == []


def test_double_press_calls_only_one_ticket(new_page, staff_server):
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    tickets = [staff_server.issue("ktp_el") for _ in range(3)]
    expect_waiting(page, ["A001", "A002", "A003"])
    # Two key presses in the same instant (a bouncing key), then a third right after.
    page.evaluate("""() => {
        for (let i = 0; i < 2; i++) document.dispatchEvent(new KeyboardEvent("keydown", {key: "n", bubbles: true}));
    }""")
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    page.wait_for_timeout(500)
    expect_waiting(page, ["A002", "A003"])
    assert [ticket_status(staff_server, t["public_id"]) for t in tickets] == ["called", "waiting", "waiting"]
    expect(page.get_by_test_id("toast")).not_to_have_class(re.compile("toast-error"))

    # A double click on "Selesai" finishes once and does not error.
    page.get_by_test_id("btn-finish").dblclick()
    expect(page.get_by_test_id("current-number")).to_have_text("—")
    page.wait_for_timeout(300)
    expect(page.get_by_test_id("toast")).not_to_have_class(re.compile("toast-error"))
    assert [ticket_status(staff_server, t["public_id"]) for t in tickets] == ["done", "waiting", "waiting"]


def test_call_number_errors_are_explained(new_page, staff_server):
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    staff_server.issue("pickup")  # G001: not served at counter 1
    page.keyboard.press("c")
    page.keyboard.type("A999")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("toast")).to_contain_text("Tidak ditemukan")
    expect(page.get_by_test_id("toast")).to_contain_text("A999")
    page.keyboard.press("c")
    page.keyboard.type("G001")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("toast")).to_contain_text("tidak sesuai")
    expect(page.get_by_test_id("current-number")).to_have_text("—")


def test_reload_returns_to_the_counter_in_use(new_page, staff_server):
    page = new_page("fo1")
    open_counter(page, staff_server.url, 3)
    staff_server.issue("kia")
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("C001")
    page.reload()
    expect(page.get_by_test_id("work-view")).to_be_visible()
    expect(page.get_by_test_id("counter-state")).to_contain_text("Loket 3")
    expect(page.get_by_test_id("current-number")).to_have_text("C001")
    expect(page.get_by_test_id("current-timer")).to_contain_text("dipanggil")
    expect(page.get_by_test_id("btn-start")).to_be_enabled()


def test_console_in_english(new_page, staff_server, shots):
    page = new_page("fo1")
    page.goto(staff_server.url + "/console")
    expect(page.get_by_test_id("open-counter")).to_contain_text("Buka loket")
    page.get_by_test_id("lang-switch").get_by_text("EN").click()
    expect(page.get_by_test_id("open-counter")).to_contain_text("Open counter")
    page.get_by_test_id("open-counter").click()
    expect(page.get_by_test_id("work-view")).to_be_visible()  # the open answer applied, as open_counter waits
    wait_synced(page)
    expect(page.get_by_test_id("btn-call-next")).to_contain_text("Call next")
    expect(page.get_by_test_id("current-status")).to_have_text("Idle")
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bis-busy\b"))  # no request in flight
    page.keyboard.press("n")
    expect(page.get_by_test_id("toast")).to_contain_text("Nobody is waiting")
    staff_server.issue("ktp_el")
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-status")).to_have_text("Called")
    page.screenshot(path=str(shots / "console-en.png"))


def test_transferred_ticket_into_an_untouched_service_is_callable(new_page, staff_server):
    """A ticket sent to a service nobody has taken a number for today is still called next."""
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    staff_server.issue("ktp_el")
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    page.keyboard.press("t")
    page.get_by_test_id("transfer-service").select_option("kk")
    page.get_by_test_id("transfer-confirm").click()
    expect_waiting(page, ["A001"])
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001", timeout=3000)


def test_officers_are_warned_when_the_kiosk_printer_is_out_of_paper(new_page, staff_server):
    import socketio

    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    alert = page.get_by_test_id("device-alert")
    expect(alert).to_be_hidden()
    agent = socketio.Client()
    agent.connect(staff_server.url, auth={"token": staff_server.tokens["kiosk"]}, namespaces=["/agents"],
                  transports=["websocket"])
    try:
        agent.call("health", {"devices": {"printer": {"kind": "printer", "state": "paper_out"}}}, namespace="/agents",
                   timeout=10)
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("Kiosk Lobi: printer kertas habis")
        agent.call("health", {"devices": {"printer": {"kind": "printer", "state": "ok"}}}, namespace="/agents",
                   timeout=10)
        expect(alert).to_be_hidden()
    finally:
        agent.disconnect()


def test_escape_then_quick_reopen_still_confirms(new_page, staff_server):
    """Esc closes the skip dialog; its close event arrives late. Pressing X and Enter at
    once must still skip (the stale close must not swallow the confirmation)."""
    page = new_page("fo1")
    open_counter(page, staff_server.url, 1)
    staff_server.issue("ktp_el")
    page.keyboard.press("n")
    expect(page.get_by_test_id("current-number")).to_have_text("A001")
    for _ in range(3):  # no waits between the keys: as fast as an officer's fingers
        page.keyboard.press("x")
        page.keyboard.press("Escape")
    page.keyboard.press("x")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("current-number")).to_have_text("—")
