"""AKAPELA in Chromium: a citizen sends the public web form on a phone, an officer answers
it on the staff pages, and the citizen's status page shows the answer (and no name)."""
from __future__ import annotations

from tests.staff_pages.conftest import sign_in

ANSWER = "Berkas Anda sudah kami teruskan; KTP-el dapat diambil hari Kamis."


def test_public_form_staff_answer_public_status(live_server, browser, artifacts):
    phone_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="id-ID")
    staff_ctx = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    try:
        citizen = phone_ctx.new_page()
        citizen.set_default_timeout(10000)
        citizen.goto(f"{live_server.url}/pengaduan/{live_server.office}")
        citizen.select_option("[data-testid=field-kind]", "complaint")
        citizen.fill("[data-testid=field-name]", "Siti Aminah")
        citizen.fill("[data-testid=field-phone]", "0812 3456 7890")
        citizen.fill("[data-testid=field-id_number]", "1471011205900002")
        citizen.fill("[data-testid=field-text]", "")
        citizen.click("[data-testid=complaint-submit]")
        assert citizen.locator("[data-testid=error-text]").is_visible()  # the empty text is named
        assert citizen.input_value("[data-testid=field-name]") == "Siti Aminah"  # what was typed is kept
        citizen.fill("[data-testid=field-text]", "KTP-el saya belum jadi setelah dua minggu.")
        citizen.click("[data-testid=complaint-submit]")
        number = citizen.locator("[data-testid=complaint-number]").inner_text().strip()
        assert number.startswith("AKP-")
        citizen.screenshot(path=str(artifacts / "complaint_public_sent.png"))

        officer = staff_ctx.new_page()
        officer.set_default_timeout(10000)
        sign_in(officer, live_server.url, "fo1")
        officer.click("[data-testid=complaints-link]")
        officer.click(f"[data-testid=complaint-row][data-number='{number}'] [data-testid=complaint-link]")
        assert "Siti Aminah" in officer.locator("[data-testid=complaint-identity]").inner_text()
        officer.fill("[data-testid=note-close]", ANSWER)
        officer.click("[data-testid=submit-close]")
        officer.wait_for_selector("[data-testid=complaint][data-status=closed]")
        assert [row.get_attribute("data-action") for row in officer.locator("[data-testid=complaint-step]").all()] == [
            "register", "close"]
        officer.screenshot(path=str(artifacts / "complaint_staff_closed.png"), full_page=True)

        citizen.click("[data-testid=status-link]")
        assert citizen.input_value("[data-testid=status-field-number]") == number
        citizen.fill("[data-testid=status-field-check]", "7891")
        citizen.click("[data-testid=status-submit]")
        assert citizen.locator("[data-testid=status-error]").is_visible()
        assert citizen.locator("[data-testid=status-result]").count() == 0
        citizen.fill("[data-testid=status-field-check]", "7890")
        citizen.click("[data-testid=status-submit]")
        assert citizen.locator("[data-testid=status-answer]").inner_text().strip() == ANSWER
        assert citizen.locator("[data-testid=status-result]").get_attribute("data-status") == "closed"
        assert "Siti" not in citizen.locator("main").inner_text()
        citizen.screenshot(path=str(artifacts / "complaint_public_status.png"), full_page=True)
    finally:
        phone_ctx.close()
        staff_ctx.close()
