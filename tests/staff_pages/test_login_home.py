"""Sign-in, start page and sign-out in a real browser (and the CSRF rule on the login form)."""
from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from .conftest import sign_in

pytestmark = pytest.mark.browser


def test_start_page_without_login_welcomes_and_links_to_sign_in(new_page, staff_server, shots):
    page = new_page()
    page.goto(staff_server.url + "/")
    expect(page.get_by_test_id("welcome")).to_contain_text("Selamat datang")
    page.screenshot(path=str(shots / "home-welcome.png"))
    page.get_by_test_id("sign-in").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("#username")).to_be_focused()


def test_wrong_password_is_refused_then_right_one_opens_home(new_page, staff_server, shots):
    page = new_page()
    page.goto(staff_server.url + "/login")
    page.screenshot(path=str(shots / "login.png"))
    page.fill("#username", "fo1")
    page.fill("#password", "wrong-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Nama pengguna atau kata sandi salah.")
    expect(page.locator("#username")).to_have_value("fo1")
    expect(page.locator("#password")).to_be_focused()
    page.screenshot(path=str(shots / "login-error.png"))

    page.fill("#password", "demo1234")
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(staff_server.url + "/")
    expect(page.get_by_test_id("home-user")).to_contain_text("Andi Pratama")
    expect(page.get_by_test_id("home-role")).to_have_text("Front Office")
    expect(page.get_by_test_id("home-office")).to_contain_text("DEMO")
    expect(page.get_by_test_id("console-link")).to_be_visible()
    expect(page.get_by_test_id("device-pages")).to_have_count(0)  # front office: no device note
    page.screenshot(path=str(shots / "home-officer.png"))
    page.get_by_test_id("console-link").click()
    expect(page.get_by_test_id("choose-view")).to_be_visible()
    assert page.errors == []


def test_empty_form_asks_for_both_fields(new_page, staff_server):
    page = new_page()
    page.goto(staff_server.url + "/login")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Isi nama pengguna dan kata sandi.")


def test_login_without_csrf_token_is_refused(staff_server):
    s = requests.Session()
    res = s.post(staff_server.url + "/login", data={"username": "fo1", "password": "demo1234"}, allow_redirects=False)
    # refused: back to the sign-in page with a message, and not signed in
    assert res.status_code == 302 and res.headers["Location"].endswith("/login")
    assert "Sesi Anda telah berakhir" in s.get(staff_server.url + "/login").text
    console = s.get(staff_server.url + "/console", allow_redirects=False)
    assert console.status_code == 302 and "/login" in console.headers["Location"]


def test_login_with_csrf_token_from_the_form_works(staff_server):
    s = requests.Session()
    html = s.get(staff_server.url + "/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    res = s.post(staff_server.url + "/login", data={"username": "fo1", "password": "demo1234", "csrf_token": token},
                 allow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/")


def test_manager_home_explains_device_pages_and_logout_works(new_page, staff_server, shots):
    page = new_page("manager")
    expect(page.get_by_test_id("home-role")).to_have_text("Manajer")
    expect(page.get_by_test_id("device-pages")).to_contain_text("demo.json")
    expect(page.get_by_test_id("device-pages")).to_contain_text("/kiosk/DEMO?token=")
    page.screenshot(path=str(shots / "home-manager.png"))
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(staff_server.url + "/console")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_english_switch_on_login_and_home(new_page, staff_server):
    page = new_page()
    page.goto(staff_server.url + "/login")
    expect(page.get_by_test_id("login-submit")).to_have_text("Masuk")
    page.get_by_test_id("lang-switch").get_by_text("EN").click()
    expect(page.get_by_test_id("login-submit")).to_have_text("Sign in")
    page.fill("#username", "fo1")
    page.fill("#password", "nope")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong username or password.")
    sign_in(page, staff_server.url, "fo1")  # the language is remembered in a cookie
    expect(page.get_by_test_id("home-role")).to_have_text("Front office")
    page.get_by_test_id("lang-switch").get_by_text("ID").click()
    expect(page.get_by_test_id("home-role")).to_have_text("Front Office")


def test_station_officers_find_their_station_on_the_home_page(new_page, staff_server):
    page = new_page("aktivasi")
    link = page.get_by_test_id("station-link-activation")
    expect(link).to_have_count(1)
    expect(page.get_by_test_id("station-card")).to_contain_text("Aktivasi KTP-el Loket 7")
    expect(page.get_by_test_id("station-link-pickup")).to_have_count(0)
    link.click()
    expect(page).to_have_url(re.compile(r"/activation/\d+$"))
    pickup = new_page("ambil")
    expect(pickup.get_by_test_id("station-card")).to_contain_text("Drive-Thru Lajur 1")
    pickup.get_by_test_id("station-link-pickup").click()
    expect(pickup).to_have_url(re.compile(r"/pickup/\d+$"))
    expect(new_page("fo1").get_by_test_id("station-card")).to_have_count(0)
