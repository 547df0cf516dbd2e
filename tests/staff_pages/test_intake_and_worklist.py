"""Counter intake, the worklist and the kartu kendali in headless Chromium against a live
server: fo1 registers a KK application for the ticket being served (first with a
requirement missing: nothing registered), kasi approves, kabid returns it with a reason,
kasi approves again, and the control card shows each step against its standard."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from drivers.printer.simulator import SimulatedPrinter
from kiosk.agent import KioskAgent
from tests.live import wait_for
from tests.staff_pages.test_console import open_counter

pytestmark = pytest.mark.browser

# 31 DKI Jakarta, 71 Jakarta Pusat, 01 district; born 12-05-1990 (a man: no +40); serial 0001.
NIK = "3171011205900001"


def worklist(server, username: str, role: str | None = None) -> list[dict]:
    staff = server.staff(username)
    r = staff.http.get(f"{server.url}/api/v1/offices/{server.office}/worklist", params={"role": role} if role else None,
                       timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["applications"]


def fill_intake(page, *, skip: tuple[int, ...] = ()) -> None:
    page.get_by_test_id("intake-nik").fill(NIK)
    page.get_by_test_id("intake-name").fill("Siti Rahmawati")
    page.get_by_test_id("intake-phone").fill("081234567890")
    reqs = page.locator("[data-testid=intake-requirements] input:not([disabled])")
    for i in range(reqs.count()):
        box = reqs.nth(i)
        if i in skip:
            box.uncheck()
        else:
            box.check()


def test_intake_worklist_and_control_card(new_page, staff_server, shots):
    ticket = staff_server.issue("kk")
    fo = new_page("fo1")
    open_counter(fo, staff_server.url, 1)
    expect(fo.get_by_test_id("btn-intake")).to_be_disabled()  # no ticket yet
    fo.keyboard.press("n")
    expect(fo.get_by_test_id("current-number")).to_have_text(ticket["number"])
    expect(fo.get_by_test_id("btn-intake")).to_be_enabled()

    # Key A opens the form with the KK checklist (conditional items wait for their case).
    fo.keyboard.press("a")
    dialog = fo.get_by_test_id("intake-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Permohonan untuk {ticket['number']}")
    expect(fo.get_by_test_id("intake-requirements")).to_contain_text("Formulir permohonan KK F-1.15")
    expect(fo.get_by_test_id("intake-case-moved-in")).to_be_visible()

    # A NIK that is not 16 digits is refused in the page; a wrong one by the server.
    fo.get_by_test_id("intake-nik").fill("12345")
    fo.get_by_test_id("intake-submit").click()
    expect(fo.get_by_test_id("intake-error")).to_have_text("NIK harus 16 angka.")
    fill_intake(fo)
    fo.get_by_test_id("intake-nik").fill("9971011205900001")
    fo.get_by_test_id("intake-submit").click()
    expect(fo.get_by_test_id("intake-error")).to_contain_text("NIK")

    # A requirement missing (and the "moved in" case adds the arrival letter): nothing registered.
    fill_intake(fo, skip=(1,))
    fo.get_by_test_id("intake-case-moved-in").check()
    fo.get_by_test_id("intake-submit").click()
    missing = fo.get_by_test_id("intake-missing")
    expect(missing).to_be_visible()
    expect(missing).to_contain_text("Persyaratan belum lengkap")
    expect(fo.locator("[data-testid=intake-missing-list] li")).to_have_text(
        ["Formulir F-1.01", "Surat keterangan datang (bagi pendatang)"])
    expect(fo.get_by_test_id("intake-print-missing")).to_be_visible()
    fo.screenshot(path=str(shots / "intake-missing.png"))
    assert worklist(staff_server, "manager") == []

    # Back to the form, everything handed in: registered, the resi shown.
    fo.get_by_test_id("intake-back").click()
    fo.get_by_test_id("intake-case-moved-in").uncheck()
    fill_intake(fo)
    fo.screenshot(path=str(shots / "intake-form.png"))
    fo.get_by_test_id("intake-submit").click()
    expect(fo.get_by_test_id("intake-done")).to_be_visible()
    expect(fo.get_by_test_id("intake-resi")).to_have_text(re.compile(r"^DEMO-B-[0-9]{8}-0001$"))
    resi = fo.get_by_test_id("intake-resi").inner_text()
    expect(fo.get_by_test_id("intake-status-url")).to_contain_text("/r/LKT1.")
    fo.screenshot(path=str(shots / "intake.png"))
    # The counter's printer agent (a simulated printer) prints it; the dialog hears the result.
    printer = SimulatedPrinter(width_mm=80, tz="Asia/Jakarta")
    agent = KioskAgent(staff_server.url, staff_server.tokens["counter_printer"], printer, max_backoff_s=0.5)
    agent.start()
    try:
        wait_for(lambda: agent.connected, what="counter printer agent connected")
        fo.get_by_test_id("intake-print-resi").click()
        expect(fo.get_by_test_id("intake-note")).to_contain_text("Printer Resi Loket 1-5")
        expect(fo.get_by_test_id("intake-note")).to_have_text("Resi tercetak di Printer Resi Loket 1-5.")
        [slip] = printer.printed
        assert slip["large"] == [resi] and "Nama: S*** R********" in slip["lines"] and slip["qr"]
    finally:
        agent.stop()
    fo.get_by_test_id("intake-close").click()
    expect(dialog).to_be_hidden()
    assert fo.errors == []

    files = worklist(staff_server, "kasi")
    assert [f["resi_number"] for f in files] == [resi]
    app_id = files[0]["id"]

    # Kasi sees it and initials it.
    kasi = new_page("kasi")
    kasi.goto(staff_server.url + "/worklist")
    row = kasi.locator(f"[data-testid=wl-row][data-resi='{resi}']")
    expect(row).to_contain_text("Verifikasi dan paraf Kepala Seksi")
    expect(row).to_contain_text("Siti Rahmawati")
    row.get_by_test_id("wl-approve").click()
    expect(kasi.get_by_test_id("worklist-message")).to_have_text(f"{resi} disetujui.")
    expect(row).to_have_count(0)
    expect(kasi.get_by_test_id("worklist-empty")).to_be_visible()

    # Kabid returns it: a reason is required; the file goes back to kasi.
    kabid = new_page("kabid")
    kabid.goto(staff_server.url + "/worklist")
    row = kabid.locator(f"[data-testid=wl-row][data-resi='{resi}']")
    expect(row).to_contain_text("Verifikasi dan paraf Kepala Bidang")
    kabid.screenshot(path=str(shots / "worklist.png"))
    row.get_by_test_id("wl-return").click()
    expect(kabid.get_by_test_id("return-dialog")).to_be_visible()
    kabid.get_by_test_id("return-confirm").click()
    expect(kabid.get_by_test_id("return-error")).to_have_text("Isi alasan pengembalian.")
    kabid.get_by_test_id("return-reason").fill("Nama ayah pada F-1.01 tidak sesuai akta")
    kabid.get_by_test_id("return-confirm").click()
    expect(kabid.get_by_test_id("worklist-message")).to_have_text(f"{resi} dikembalikan.")
    expect(row).to_have_count(0)
    back = worklist(staff_server, "kasi")
    assert [(f["resi_number"], f["step"]["code"], f["status"]) for f in back] == [(resi, "kasi_verify", "returned")]

    # Kasi approves again (after a reload: the page refreshes by itself every 15 s).
    kasi.reload()
    row = kasi.locator(f"[data-testid=wl-row][data-resi='{resi}']")
    expect(row).to_be_visible()
    row.get_by_test_id("wl-approve").click()
    expect(kasi.get_by_test_id("worklist-message")).to_have_text(f"{resi} disetujui.")
    assert [f["step"]["code"] for f in worklist(staff_server, "kabid")] == ["kabid_verify"]
    assert kasi.errors == [] and kabid.errors == []

    # The manager's worklist shows every step; the control card where the time went.
    manager = new_page("manager")
    manager.goto(staff_server.url + "/worklist")
    row = manager.locator(f"[data-testid=wl-row][data-resi='{resi}']")
    expect(row).to_contain_text("Verifikasi dan paraf Kepala Bidang")
    expect(row.get_by_test_id("wl-approve")).to_have_count(0)  # not the manager's step
    row.get_by_test_id("wl-detail").click()
    manager.wait_for_url(f"{staff_server.url}/applications/{app_id}")
    expect(manager.get_by_test_id("card-resi")).to_contain_text(resi)
    rows = manager.get_by_test_id("card-row")
    expect(rows).to_have_count(10)
    expect(rows.nth(0)).to_contain_text("Pemohon menyerahkan berkas")
    expect(manager.locator("[data-testid=card-row][data-step=kasi_verify]")).to_contain_text("sesuai standar")
    kabid_row = manager.locator("[data-testid=card-row][data-step=kabid_verify]")
    expect(kabid_row).to_contain_text("sedang di sini")
    expect(kabid_row).to_contain_text("dikembalikan: Nama ayah pada F-1.01 tidak sesuai akta")
    expect(kabid_row).to_contain_text("2× di langkah ini")
    expect(manager.locator("[data-testid=card-row][data-step=hand_over]")).to_contain_text("belum")
    expect(manager.get_by_test_id("card-facts")).to_contain_text("Siti Rahmawati")
    manager.screenshot(path=str(shots / "control-card.png"), full_page=True)
    assert manager.errors == []

    # English on request.
    manager.goto(f"{staff_server.url}/applications/{app_id}?lang=en")
    expect(manager.locator("[data-testid=card-row][data-step=kabid_verify]")).to_contain_text("here now")


def test_shelf_location_before_hand_over(new_page, staff_server):
    """The step before the hand-over (KK: register and stamp, front office) asks for the
    shelf location; approving it files the document as ready, waiting for the citizen."""
    staff_server.issue("kk")
    fo_api = staff_server.staff("fo1")
    fo_api.act(1, "open")
    fo_api.act(1, "call-next")
    counter_id = fo_api.counters()[1]["id"]
    r = fo_api.http.post(f"{staff_server.url}/api/v1/counters/{counter_id}/application", timeout=10, json={
        "nik": NIK, "name": "Siti Rahmawati", "phone": "081234567890", "confirmed": [0, 1, 2, 3, 4]})
    assert r.status_code == 201, r.text
    app = r.json()["application"]
    for username in ("kasi", "kabid", "kadis"):
        staff = staff_server.staff(username)
        r = staff.http.post(f"{staff_server.url}/api/v1/applications/{app['id']}/approve",
                            json={"expected_version": app["version"]}, timeout=10)
        assert r.status_code == 200, r.text
        app = r.json()["application"]

    fo = new_page("fo1")
    fo.goto(staff_server.url + "/worklist")
    row = fo.locator(f"[data-testid=wl-row][data-resi='{app['resi_number']}']")
    expect(row).to_contain_text("Registrasi dan cap pengesahan")
    row.get_by_test_id("wl-shelf").fill("R2-B3")
    row.get_by_test_id("wl-approve").click()
    expect(fo.get_by_test_id("worklist-message")).to_have_text(f"{app['resi_number']} disetujui.")
    r = fo_api.http.get(f"{staff_server.url}/api/v1/applications/{app['id']}", timeout=10)
    done = r.json()["application"]
    assert (done["status"], done["shelf_location"], done["step"]["code"]) == ("ready", "R2-B3", "hand_over")

    # The pickup officer's worklist shows it waiting for the citizen (no approve button).
    ambil = new_page("ambil")
    ambil.goto(staff_server.url + "/worklist")
    row = ambil.locator(f"[data-testid=wl-row][data-resi='{app['resi_number']}']")
    expect(row).to_contain_text("Siap diambil: menunggu pemohon")
    expect(row.get_by_test_id("wl-approve")).to_have_count(0)
    assert fo.errors == [] and ambil.errors == []


def test_worklist_and_control_card_follow_the_staff_stream(new_page, staff_server):
    """Another officer approves through the API: the open worklists and the kartu kendali
    change without a reload, well before the 60 s fallback poll."""
    staff_server.issue("kk")
    fo_api = staff_server.staff("fo1")
    fo_api.act(1, "open")
    fo_api.act(1, "call-next")
    counter_id = fo_api.counters()[1]["id"]

    kasi = new_page("kasi")
    kasi.goto(staff_server.url + "/worklist")
    expect(kasi.get_by_test_id("worklist-empty")).to_be_visible()
    kasi.wait_for_function("() => window.LoketWorklist.stream && window.LoketWorklist.stream.position !== null")
    r = fo_api.http.post(f"{staff_server.url}/api/v1/counters/{counter_id}/application", timeout=10, json={
        "nik": NIK, "name": "Siti Rahmawati", "phone": "081234567890", "confirmed": [0, 1, 2, 3, 4]})
    assert r.status_code == 201, r.text
    app = r.json()["application"]
    row = kasi.locator(f"[data-testid=wl-row][data-resi='{app['resi_number']}']")
    expect(row).to_be_visible(timeout=5000)  # registered at the counter: it appears by itself

    kabid = new_page("kabid")
    kabid.goto(staff_server.url + "/worklist")
    expect(kabid.get_by_test_id("worklist-empty")).to_be_visible()
    card = new_page("manager")
    card.goto(f"{staff_server.url}/applications/{app['id']}")
    expect(card.locator("[data-testid=card-row][data-step=kasi_verify]")).to_contain_text("sedang di sini")
    expect(card.get_by_test_id("card-notices")).to_contain_text("Pemberitahuan ke pemohon")
    expect(card.get_by_test_id("card-notices-none")).to_be_visible()
    for page in (kabid, card):
        page.wait_for_function("() => window.LoketWorklist.stream && window.LoketWorklist.stream.position !== null")

    r = staff_server.staff("kasi").http.post(f"{staff_server.url}/api/v1/applications/{app['id']}/approve",
                                             json={"expected_version": app["version"]}, timeout=10)
    assert r.status_code == 200, r.text
    expect(row).to_have_count(0, timeout=5000)
    expect(kabid.locator(f"[data-testid=wl-row][data-resi='{app['resi_number']}']")).to_be_visible(timeout=5000)
    expect(card.locator("[data-testid=card-row][data-step=kabid_verify]")).to_contain_text("sedang di sini", timeout=5000)
    assert kasi.errors == [] and kabid.errors == [] and card.errors == []
