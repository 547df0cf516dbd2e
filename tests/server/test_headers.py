"""Security headers on every response (server/headers.py), and real pages in Chromium
under that Content-Security-Policy without a single violation."""
from __future__ import annotations

import pytest

from server import create_app
from server.config import TestingConfig
from tests.live import wait_for

CSP_PARTS = ["default-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "connect-src 'self'"]


@pytest.fixture
def client(sqlite_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path)
    return app.test_client()


def _check_common(r):
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    csp = r.headers["Content-Security-Policy"]
    for part in CSP_PARTS:
        assert part in csp, (part, csp)
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "Strict-Transport-Security" not in r.headers  # plain http


@pytest.mark.parametrize("path", ["/login", "/api/v1/offices/NOPE", "/no/such/page", "/static/js/loket.js",
                                  "/api/openapi.json"])
def test_every_answer_has_the_headers(client, path):
    r = client.get(path)
    _check_common(r)
    assert r.headers["Referrer-Policy"] == "strict-origin"


def test_inline_scripts_carry_the_nonce_of_their_answer(client):
    r = client.get("/login")
    html = r.get_data(as_text=True)
    nonce = r.headers["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    assert len(nonce) >= 16
    assert f'<script type="module" nonce="{nonce}"' in html
    assert "<script>" not in html and "onclick=" not in html
    assert nonce not in client.get("/login").headers["Content-Security-Policy"]  # new per answer


def test_a_page_with_a_token_in_its_url_sends_no_referrer(client):
    r = client.get("/kiosk/DEMO?token=whatever")
    _check_common(r)
    assert r.headers["Referrer-Policy"] == "no-referrer"


def test_hsts_only_over_https_and_no_redirect_to_https(client):
    plain = client.get("/login")
    assert plain.status_code == 200  # never redirected to https
    secure = client.get("/login", base_url="https://loket.example")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_session_cookie_flags_stay_as_configured(client):
    r = client.get("/api/v1/auth/csrf")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # TestingConfig: plain http (ProductionConfig sets it)


# -- real pages in Chromium: no CSP violation ---------------------------------------------

_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
"""


def _open(browser, url, *, cookies=None):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    if cookies:
        context.add_cookies(cookies)
    page = context.new_page()
    page.set_default_timeout(10000)
    page.add_init_script(_WATCH)
    messages = []
    page.on("console", lambda m: messages.append(m.text) if "Content Security Policy" in m.text else None)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return context, page, messages, errors


@pytest.mark.browser
@pytest.mark.slow
def test_pages_run_under_the_policy(live_server, browser):
    staff = live_server.staff("manager")
    cookies = [{"name": c.name, "value": c.value, "url": live_server.url} for c in staff.http.cookies]
    live_server.staff("fo1").act(1, "open")
    live_server.issue("ktp_el")
    pages = [
        (live_server.kiosk_url(), "#screen-services", None),
        (live_server.display_url(), "body", None),
        (f"{live_server.url}/login", "#username", None),
        (f"{live_server.url}/console", "body", cookies),
        (f"{live_server.url}/dashboard", "body", cookies),
        (f"{live_server.url}/reports", "body", cookies),
        (f"{live_server.url}/booking/{live_server.office}", "body", None),
        (f"{live_server.url}/pengaduan/{live_server.office}", "body", None),
    ]
    for url, ready, jar in pages:
        context, page, messages, errors = _open(browser, url, cookies=jar)
        try:
            page.wait_for_selector(ready, state="attached")
            page.wait_for_load_state("networkidle")
            violations = page.evaluate("window.__csp")
            assert violations == [] and messages == [], (url, violations, messages)
            assert errors == [], (url, errors)
        finally:
            context.close()
    # the live TV still works: its socket connects (same origin) and shows the ticket's office
    context, page, messages, _ = _open(browser, live_server.display_url())
    try:
        wait_for(lambda: page.evaluate("document.body.innerText.length") > 0, what="display rendered")
        assert page.evaluate("window.__csp") == [] and messages == []
    finally:
        context.close()
