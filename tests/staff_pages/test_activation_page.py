"""The KTP-el activation station page in headless Chromium (issue 5): a KTP-el renewal
driven through the REST API to the activate step with a card bound at print; the officer
opens it by its typed resi number, the card tap (a python-socketio client acting as the
station's activation agent, no PC/SC hardware) shows the match, one failed and one good
fingerprint, the checklist, completion; the same resi again is refused as already
activated; an unplugged reader is announced in the header. Page access by role and kind."""
from __future__ import annotations

import pytest
import socketio
from playwright.sync_api import expect
from sqlalchemy import select

from server.models import Device, DeviceKind

pytestmark = pytest.mark.browser

NIK, NAME = "1471011205900001", "Budi Santoso"
KTP_RENEWAL = ["KTP lama", 4, "Biometric recording done"]
UID, ATR = "04A1B2C3D4E5F6", "3B8F8001804F0CA0000003060300030000000068"
READER = "Virtual PCD 00 00"


def device_id(server, kind: DeviceKind) -> int:
    with server.db.session() as s:
        return s.scalar(select(Device.id).where(Device.kind == kind.value, Device.active.is_(True)))


class CardAgent:
    """The activation station's agent as the server sees it: a Socket.IO client with the
    station's device token that sends ``card`` events (a card tapped on / lifted off the reader)."""

    def __init__(self, server) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.sio.connect(server.url, auth={"token": server.tokens["activation"]}, namespaces=["/agents"],
                         transports=["websocket"])

    def card(self, event: str, uid: str | None = None) -> dict:
        answer = self.sio.call("card", {"event": event, "reader": READER, "uid": uid,
                                        "atr": ATR if uid else None}, namespace="/agents", timeout=10)
        assert answer and answer.get("ok"), answer
        return answer

    def close(self) -> None:
        self.sio.disconnect()


def application(server, who: str, app_id: int) -> dict:
    r = server.staff(who).http.get(f"{server.url}/api/v1/applications/{app_id}", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["application"]


def ktp_at_print(server) -> dict:
    """Register a KTP-el renewal at counter 1 and approve it through Kasi and Kabid: the
    file waits at its print step (fo1's). Returns the registration answer {application, resi}."""
    fo1 = server.staff("fo1")
    fo1.act(1, "open")
    server.issue("ktp_el")
    fo1.act(1, "call-next", finish_current=True)
    fo1.act(1, "start")
    cid = fo1.counters()[1]["id"]
    r = fo1.http.post(f"{server.url}/api/v1/counters/{cid}/application", timeout=10, json={
        "nik": NIK, "name": NAME, "phone": "081234567890", "email": "budi@example.id",
        "confirmed": KTP_RENEWAL, "case": "renewal"})
    assert r.status_code == 201, r.text
    data = r.json()
    app_id = data["application"]["id"]
    for version, who in ((1, "kasi"), (2, "kabid")):
        r = server.staff(who).http.post(f"{server.url}/api/v1/applications/{app_id}/approve", timeout=10,
                                        json={"expected_version": version})
        assert r.status_code == 200, r.text
    assert r.json()["application"]["step"]["code"] == "print"
    return data


def activatable_ktp(server, agent: CardAgent) -> dict:
    """:func:`ktp_at_print`, then the card tapped on the activation station's reader is bound
    and the print approved: the file waits at the activate step."""
    data = ktp_at_print(server)
    app_id, fo1 = data["application"]["id"], server.staff("fo1")
    # The printing operator taps the freshly printed card on the station's reader and binds it.
    agent.card("inserted", UID)
    version = application(server, "fo1", app_id)["version"]
    r = fo1.http.post(f"{server.url}/api/v1/applications/{app_id}/card", timeout=10,
                      json={"device_id": device_id(server, DeviceKind.ACTIVATION), "expected_version": version})
    assert r.status_code in (200, 201), r.text
    agent.card("removed")
    version = application(server, "fo1", app_id)["version"]
    r = fo1.http.post(f"{server.url}/api/v1/applications/{app_id}/approve", timeout=10,
                      json={"expected_version": version})
    assert r.status_code == 200, r.text
    assert r.json()["application"]["step"]["code"] == "activate"
    return data


def open_station(new_page, server, username: str = "aktivasi", lang: str | None = None):
    page = new_page(username)
    page.goto(f"{server.url}/activation/{device_id(server, DeviceKind.ACTIVATION)}" + (f"?lang={lang}" if lang else ""))
    page.wait_for_function("document.body.dataset.joined === '1'")
    page.wait_for_function("window.LOKET_ACTIVATION.station !== null")
    return page


def test_open_tap_fingerprint_checklist_and_complete(new_page, staff_server, shots):
    agent = CardAgent(staff_server)
    try:
        data = activatable_ktp(staff_server, agent)
        number = data["resi"]["number"]
        page = open_station(new_page, staff_server)
        expect(page.get_by_test_id("idle")).to_be_visible()
        expect(page.get_by_test_id("ref-input")).to_be_focused()

        # Opened by the typed resi number (a keyboard-wedge scanner types the same and presses Enter).
        page.get_by_test_id("ref-input").fill(number)
        page.get_by_test_id("ref-input").press("Enter")
        expect(page.get_by_test_id("session")).to_be_visible()
        expect(page.get_by_test_id("refusal")).to_be_hidden()
        expect(page.get_by_test_id("d-name")).to_have_text(NAME)
        expect(page.get_by_test_id("d-resi")).to_have_text(number)
        expect(page.get_by_test_id("d-nik")).to_contain_text(NIK[:4])
        expect(page.get_by_test_id("card-box")).to_have_attribute("data-state", "waiting")
        expect(page.get_by_test_id("card-state")).to_have_text("Tempelkan KTP-el baru pada pembaca")
        expect(page.get_by_test_id("uid-note")).to_have_text(
            "UID kartu hanya menunjukkan bahwa ini kartu yang dicetak untuk berkas ini, bukan bukti identitas "
            "pemegangnya. Periksa identitas pemohon.")
        expect(page.get_by_test_id("complete")).to_be_disabled()

        # The new card tapped on the reader: the server matches it and the page follows.
        agent.card("inserted", UID)
        expect(page.get_by_test_id("card-box")).to_have_attribute("data-state", "match")
        expect(page.get_by_test_id("card-state")).to_have_text("Kartu cocok dengan berkas ini")
        expect(page.get_by_test_id("reader-text")).to_have_text("Pembaca kartu siap")
        expect(page.get_by_test_id("card-text")).to_contain_text(UID)
        expect(page.get_by_test_id("desk")).to_have_text("Loket belum dibuka di konsol")  # no counter open

        # Fingerprint: one failure, then a match.
        page.get_by_test_id("fp-no-match").click()
        expect(page.get_by_test_id("fp-attempts")).to_have_text("Percobaan: 1 (gagal 1 dari maks. 4)")
        expect(page.get_by_test_id("fp-verified")).to_be_hidden()
        page.get_by_test_id("fp-match").click()
        expect(page.get_by_test_id("fp-attempts")).to_have_text("Percobaan: 2 (gagal 1 dari maks. 4)")
        expect(page.get_by_test_id("fp-verified")).to_be_visible()
        expect(page.get_by_test_id("fp-match")).to_be_disabled()
        expect(page.get_by_test_id("complete")).to_be_disabled()  # the checklist is not ticked yet

        page.get_by_test_id("check-in-person").check()
        expect(page.get_by_test_id("complete")).to_be_disabled()
        page.get_by_test_id("check-identity").check()
        expect(page.get_by_test_id("complete")).to_be_enabled()
        page.screenshot(path=str(shots / "activation-station-ready.png"), full_page=True)
        page.get_by_test_id("complete").click()
        expect(page.get_by_test_id("done-text")).to_have_text("Aktivasi selesai — berkas diteruskan ke penyerahan")
        expect(page.get_by_test_id("session")).to_be_hidden()
        page.screenshot(path=str(shots / "activation-station-done.png"), full_page=True)
        done = application(staff_server, "aktivasi", data["application"]["id"])
        assert done["step"]["code"] == "hand_over", done

        # A second station page: the same resi again is refused as already activated.
        other = open_station(new_page, staff_server)
        other.get_by_test_id("ref-input").fill(number)
        other.get_by_test_id("ref-submit").click()
        expect(other.get_by_test_id("refusal")).to_be_visible()
        expect(other.get_by_test_id("refusal")).to_have_attribute("data-code", "already_activated")
        expect(other.get_by_test_id("refusal-message")).to_contain_text("SUDAH DIAKTIVASI")
        expect(other.get_by_test_id("session")).to_be_hidden()
        other.screenshot(path=str(shots / "activation-station-already-activated.png"), full_page=True)

        # The reader unplugged: both pages say so.
        agent.card("reader_removed")
        for p in (page, other):
            expect(p.get_by_test_id("reader-status")).to_have_attribute("data-state", "down")
            expect(p.get_by_test_id("reader-text")).to_have_text("Pembaca kartu tidak terhubung — periksa kabel USB")
        other.screenshot(path=str(shots / "activation-station-reader-unplugged.png"), full_page=True)
        agent.card("reader_added")
        expect(page.get_by_test_id("reader-text")).to_have_text("Pembaca kartu siap")
        assert page.errors == [] and other.errors == []
    finally:
        agent.close()


def test_english_and_a_refused_reference(new_page, staff_server):
    page = open_station(new_page, staff_server, lang="en")
    expect(page.get_by_test_id("uid-note")).to_contain_text("not proof of the holder's identity")
    page.get_by_test_id("ref-input").fill("DEMO-A-20261123-0999")
    page.get_by_test_id("ref-input").press("Enter")
    expect(page.get_by_test_id("refusal")).to_be_visible()
    expect(page.get_by_test_id("refusal")).to_have_attribute("data-code", "resi_unknown")
    expect(page.get_by_test_id("refusal-message")).to_have_text("Receipt not found.")
    assert page.errors == []


def test_page_access_by_role_and_station_kind(new_page, staff_server):
    activation = device_id(staff_server, DeviceKind.ACTIVATION)
    pickup = device_id(staff_server, DeviceKind.PICKUP)
    officer = new_page("aktivasi")
    assert officer.goto(f"{staff_server.url}/activation/{activation}").status == 200
    expect(officer.get_by_test_id("station-name")).to_contain_text("Aktivasi KTP-el Loket 7")
    expect(officer.get_by_test_id("release")).to_have_count(0)  # not a section head
    assert officer.goto(f"{staff_server.url}/activation/{pickup}").status == 404
    assert officer.goto(f"{staff_server.url}/activation/999999").status == 404
    front = new_page("fo1")
    assert front.goto(f"{staff_server.url}/activation/{activation}").status == 403
    kasi = new_page("kasi")
    assert kasi.goto(f"{staff_server.url}/activation/{activation}").status == 200
    expect(kasi.get_by_test_id("release")).to_have_count(1)
