"""Binding the printed KTP-el on the kartu kendali in headless Chromium (issue 5): a KTP-el
renewal driven through the REST API to its print step; fo1's worklist refuses to approve
the print without a bound card and links to the kartu kendali; there "Daftarkan kartu"
with no card on the reader says so; the card tapped (a python-socketio client acting as
the activation station's agent, as in test_activation_page.py) binds and its UID is shown;
the worklist approval of the print step then succeeds and the card stays shown read-only."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.models import DeviceKind
from tests.staff_pages.test_activation_page import NAME, UID, CardAgent, application, device_id, ktp_at_print

pytestmark = pytest.mark.browser

NOTE = "UID kartu hanya menandai kartu yang dicetak untuk berkas ini, bukan bukti identitas pemegangnya."


def test_bind_the_printed_card_then_approve_the_print(new_page, staff_server, shots):
    agent = CardAgent(staff_server)
    try:
        data = ktp_at_print(staff_server)
        app_id, resi = data["application"]["id"], data["resi"]["number"]

        # The worklist refuses the print approval without a card and links to the kartu kendali.
        fo = new_page("fo1")
        fo.goto(staff_server.url + "/worklist")
        row = fo.locator(f"[data-testid=wl-row][data-resi='{resi}']")
        expect(row).to_contain_text(NAME)
        row.get_by_test_id("wl-approve").click()
        expect(fo.get_by_test_id("worklist-message")).to_contain_text("Tempelkan KTP-el yang dicetak pada pembaca")
        link = fo.get_by_test_id("wl-message-link")
        expect(link).to_have_attribute("href", f"/applications/{app_id}")
        link.click()
        fo.wait_for_url(f"{staff_server.url}/applications/{app_id}")

        box = fo.get_by_test_id("card-bind")
        expect(box).to_be_visible()
        expect(box).to_contain_text("Kartu KTP-el")
        expect(fo.get_by_test_id("card-bound")).to_have_text("Belum didaftarkan")
        expect(fo.get_by_test_id("card-bind-how")).to_have_text(
            "Tempelkan KTP-el yang baru dicetak pada pembaca, lalu tekan Daftarkan kartu")
        expect(fo.get_by_test_id("card-uid-note")).to_have_text(NOTE)
        reader = fo.get_by_test_id("card-reader")
        expect(reader).to_have_value(str(device_id(staff_server, DeviceKind.ACTIVATION)))
        expect(reader.locator("option:checked")).to_have_text("Aktivasi KTP-el Loket 7")

        # No card on the reader yet: the server's answer is shown.
        fo.get_by_test_id("card-bind-button").click()
        error = fo.get_by_test_id("card-bind-error")
        expect(error).to_contain_text("Tidak ada kartu di pembaca")
        expect(error).to_have_attribute("data-code", "no_card")
        expect(fo.get_by_test_id("card-bound")).to_have_text("Belum didaftarkan")
        fo.screenshot(path=str(shots / "card-bind-no-card.png"), full_page=True)

        # The new card tapped on the reader, then bound: its UID is shown.
        agent.card("inserted", UID)
        fo.get_by_test_id("card-bind-button").click()
        expect(fo.get_by_test_id("card-uid")).to_have_text(UID)
        expect(error).to_be_hidden()
        expect(fo.get_by_test_id("card-bind-done")).to_be_visible()
        expect(fo.get_by_test_id("card-bound")).to_contain_text("Virtual PCD 00 00")
        fo.screenshot(path=str(shots / "card-bind-bound.png"), full_page=True)
        agent.card("removed")

        # Now the print step is approved from the worklist.
        fo.goto(staff_server.url + "/worklist")
        row = fo.locator(f"[data-testid=wl-row][data-resi='{resi}']")
        row.get_by_test_id("wl-approve").click()
        expect(fo.get_by_test_id("worklist-message")).to_have_text(f"{resi} disetujui.")
        expect(fo.get_by_test_id("wl-message-link")).to_have_count(0)
        assert application(staff_server, "fo1", app_id)["step"]["code"] == "activate"

        # Later steps show the bound card read-only.
        fo.goto(f"{staff_server.url}/applications/{app_id}")
        expect(fo.get_by_test_id("card-uid")).to_have_text(UID)
        expect(fo.get_by_test_id("card-bind-button")).to_be_hidden()
        expect(fo.get_by_test_id("card-uid-note")).to_have_text(NOTE)
        fo.goto(f"{staff_server.url}/applications/{app_id}?lang=en")
        expect(fo.get_by_test_id("card-uid-note")).to_contain_text("not proof of the holder's identity")
        assert fo.errors == []
    finally:
        agent.close()
