"""The demo's simulated card reader (``loket demo`` has no PC/SC reader): the activation
agent runs in the server's process on a SimulatedReader (start_demo_activation_agent), and
``POST /demo/card-reader`` taps cards on it; the event travels reader → agent → Socket.IO
``card`` → server as from real hardware. The route is 404 without the demo reader and needs
a staff login and the CSRF token. In Chromium: the kartu kendali's "Tempel kartu baru
(simulasi)" lets "Daftarkan kartu" bind, and the station page's demo panel taps the file's
card, which the server matches."""
from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from activation.agent import start_demo_activation_agent
from server.models import DeviceKind
from tests.live import wait_for
from tests.staff_pages.test_activation_page import device_id
from tests.staff_pages.test_card_bind import ktp_at_print

UID = "04C0FFEE123456"


@pytest.fixture
def demo_reader(staff_server):
    """The demo activation agent on its simulated reader, connected and reported."""
    agent = start_demo_activation_agent(staff_server.app, staff_server.url, staff_server.tokens["activation"])
    wait_for(lambda: agent.connected and agent.acks, what="the demo reader's reader_added acked")
    yield staff_server.app.extensions["loket_demo_card_reader"]
    agent.stop()


def station_state(server, who: str = "aktivasi") -> dict:
    r = server.staff(who).http.get(f"{server.url}/api/v1/activation/{device_id(server, DeviceKind.ACTIVATION)}",
                                   timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["station"]


def demo_post(staff, body: dict) -> requests.Response:
    return staff.http.post(f"{staff.base}/demo/card-reader", json=body, timeout=10)


def test_tap_reaches_the_server_as_from_a_real_reader(staff_server, demo_reader):
    staff = staff_server.staff("aktivasi")
    r = demo_post(staff, {"action": "tap", "uid": UID})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["ok"] and answer["simulated"] and answer["event"]["uid"] == UID
    assert answer["reader"] == {"name": "Loket Simulated Reader 00 00", "plugged": True, "state": "ok", "detail": ""}
    card = wait_for(lambda: (lambda c: c if c.get("present") else None)(station_state(staff_server)["card"]),
                    what="the station's card present")
    assert card["uid"] == UID
    assert station_state(staff_server)["reader"]["state"] == "ok"

    assert demo_post(staff, {"action": "lift"}).json()["event"]["event"] == "removed"
    wait_for(lambda: not station_state(staff_server)["card"].get("present"), what="the card gone")

    assert demo_post(staff, {"action": "unplug"}).json()["reader"]["state"] == "no_reader"
    wait_for(lambda: station_state(staff_server)["reader"]["state"] == "no_reader", what="reader reported gone")
    assert demo_post(staff, {"action": "tap"}).json()["event"] is None  # no reader, no tap
    assert demo_post(staff, {"action": "plug"}).json()["reader"]["state"] == "ok"
    wait_for(lambda: station_state(staff_server)["reader"]["state"] == "ok", what="reader back")
    tapped = demo_post(staff, {"action": "tap"}).json()["event"]  # a random new card
    assert tapped["uid"].startswith("04") and len(tapped["uid"]) == 14

    assert demo_post(staff, {"action": "explode"}).status_code == 400
    assert demo_post(staff, {"action": "tap", "uid": "xyz"}).json()["error"] == "invalid_uid"


def test_not_there_without_the_demo_reader(staff_server):
    r = demo_post(staff_server.staff("aktivasi"), {"action": "tap", "uid": UID})
    assert r.status_code == 404
    assert station_state(staff_server)["card"].get("present") is not True


def test_needs_a_staff_login_and_the_csrf_token(staff_server, demo_reader):
    url = f"{staff_server.url}/demo/card-reader"
    with requests.Session() as anonymous:
        r = anonymous.post(url, json={"action": "tap", "uid": UID}, timeout=10, allow_redirects=False)
        assert r.status_code in (302, 400, 401, 403)  # no CSRF token: the page-form answer
        csrf = anonymous.get(f"{staff_server.url}/api/v1/auth/csrf", timeout=10).json()["csrf_token"]
        r = anonymous.post(url, json={"action": "tap", "uid": UID}, headers={"X-CSRFToken": csrf}, timeout=10,
                           allow_redirects=False)
        assert r.status_code == 401 and r.json()["error"] == "login_required"
    staff = staff_server.staff("aktivasi")
    del staff.http.headers["X-CSRFToken"]
    r = staff.http.post(url, json={"action": "tap", "uid": UID}, timeout=10, allow_redirects=False)
    assert r.status_code != 200
    assert demo_reader.cards() == {}


@pytest.mark.browser
def test_demo_panels_bind_at_print_and_match_at_activation(new_page, staff_server, demo_reader, shots):
    data = ktp_at_print(staff_server)
    app_id, resi = data["application"]["id"], data["resi"]["number"]

    # Kartu kendali: a simulated new card on the reader, then "Daftarkan kartu".
    fo = new_page("fo1")
    fo.goto(f"{staff_server.url}/applications/{app_id}")
    demo = fo.get_by_test_id("card-bind-demo")
    expect(demo).to_contain_text("Simulasi pembaca kartu (mode demo)")
    fo.get_by_test_id("card-demo-tap").click()
    expect(fo.get_by_test_id("card-demo-result")).to_contain_text("Loket Simulated Reader 00 00")
    uid = demo_reader.cards()["Loket Simulated Reader 00 00"].uid
    wait_for(lambda: station_state(staff_server)["card"].get("uid") == uid, what="the tap reached the server")
    fo.get_by_test_id("card-bind-button").click()
    expect(fo.get_by_test_id("card-bind-done")).to_be_visible()
    expect(fo.get_by_test_id("card-uid")).to_have_text(uid)
    fo.screenshot(path=str(shots / "demo-card-bind.png"), full_page=True)
    demo_reader.lift()
    staff = staff_server.staff("fo1")
    version = staff.http.get(f"{staff_server.url}/api/v1/applications/{app_id}", timeout=10).json()[
        "application"]["version"]
    r = staff.http.post(f"{staff_server.url}/api/v1/applications/{app_id}/approve", timeout=10,
                        json={"expected_version": version})
    assert r.status_code == 200 and r.json()["application"]["step"]["code"] == "activate", r.text

    # Activation station: open the file, tap another card (mismatch), then the file's card (match).
    page = new_page("aktivasi")
    page.goto(f"{staff_server.url}/activation/{device_id(staff_server, DeviceKind.ACTIVATION)}")
    page.wait_for_function("document.body.dataset.joined === '1'")
    panel = page.get_by_test_id("demo-reader")
    expect(panel).to_contain_text("Simulasi pembaca kartu (mode demo)")
    expect(page.get_by_test_id("demo-tap-bound")).to_be_disabled()  # no session yet
    page.get_by_test_id("ref-input").fill(resi)
    page.get_by_test_id("ref-input").press("Enter")
    expect(page.get_by_test_id("session")).to_be_visible()
    page.get_by_test_id("demo-tap-other").click()
    expect(page.get_by_test_id("card-box")).to_have_attribute("data-state", "mismatch")
    page.get_by_test_id("demo-tap-bound").click()
    expect(page.get_by_test_id("card-box")).to_have_attribute("data-state", "match")
    expect(page.get_by_test_id("card-text")).to_contain_text(uid)
    expect(page.get_by_test_id("demo-result")).to_contain_text(uid)
    page.screenshot(path=str(shots / "demo-activation-match.png"), full_page=True)

    page.get_by_test_id("demo-plug").click()  # unplug
    expect(page.get_by_test_id("reader-status")).to_have_attribute("data-state", "down")
    expect(page.get_by_test_id("demo-plug")).to_have_text("Pasang pembaca")
    page.get_by_test_id("demo-plug").click()
    expect(page.get_by_test_id("reader-status")).to_have_attribute("data-state", "ok")
    expect(page.get_by_test_id("demo-plug")).to_have_text("Cabut pembaca")
    assert fo.errors == [] and page.errors == []


def test_no_demo_panels_without_the_demo_reader(staff_server):
    staff = staff_server.staff("aktivasi")
    html = staff.http.get(f"{staff_server.url}/activation/{device_id(staff_server, DeviceKind.ACTIVATION)}",
                          timeout=10).text
    assert 'data-testid="demo-reader"' not in html and 'id="demo-tap-bound"' not in html
    html = staff.http.get(f"{staff_server.url}/applications/1", timeout=10).text
    assert 'id="card-demo-tap"' not in html and 'id="card-bind-demo"' not in html
