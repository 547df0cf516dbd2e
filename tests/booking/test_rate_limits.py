"""Per-IP and per-contact rate limits on the booking API (issue 6; issue 13 moved the
second one from the NIK to the contact), with the counters in process memory and in Redis
(LOKET_TEST_REDIS_URL, the xdist worker's own database: tests/workers.py): 429 after N, in the API's error shape, with Retry-After;
other addresses and other contacts are not affected; "" disables a limit."""
from __future__ import annotations

import uuid

import pytest

from server import create_app
from server.config import Config, TestingConfig
from server.demo import seed_demo
from tests.booking import flow
from tests.conftest import REDIS_URL

NIKS = ["1471011205900001", "1471015208900002", "1471010101900003", "1471010202900004", "1471014303900005"]
PHONES = ["081234567890", "081298765432", "081311112222", "081344445555", "081366667777"]


@pytest.fixture(params=["memory", "redis"])
def make_app(request, sqlite_url, tmp_path):
    apps = []

    def make(**limits):
        storage = {"REDIS_URL": REDIS_URL} if request.param == "redis" else {}
        app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading",
                         RATELIMIT_KEY_PREFIX=f"loket-test-{uuid.uuid4().hex}", **storage, **limits)
        seed_demo(app.extensions["loket"].db, tmp_path)
        kind = type(app.extensions["loket_limiter"].storage).__name__
        assert kind == ("RedisStorage" if request.param == "redis" else "MemoryStorage"), kind
        apps.append(app)
        return app
    yield make
    for app in apps:
        app.extensions["loket_limiter"].reset()
        app.extensions["loket"].db.dispose()


def client(app, ip="10.0.0.1"):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = ip
    c.csrf = c.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    return c


def book(c, day, nik, **kw):
    """Step 1 only (what the booking limits count): the Flask response."""
    body = {"service": "kk", "session": "2", "day": day, "nik": nik, "name": "Budi Santoso", "phone": "081234567890",
            **kw}
    return c.post("/api/v1/offices/DEMO/bookings", json=body, headers={"X-CSRFToken": c.csrf})


def last_day(c) -> str:
    return c.get("/api/v1/offices/DEMO/booking").get_json()["days"][-1]["date"]


def assert_429(r):
    assert r.status_code == 429, (r.status_code, r.get_json())
    body = r.get_json()
    # in the caller's language (no Accept-Language here: Indonesian; issue 14)
    assert body == {"error": "too_many_requests", "message": "Terlalu banyak permintaan; coba lagi nanti"}
    assert int(r.headers["Retry-After"]) > 0


def test_defaults_are_on_in_production_and_off_in_tests():
    assert Config.BOOKING_RATE_LIMIT == "10/minute;100/hour" and Config.BOOKING_CONTACT_RATE_LIMIT == "5/hour"
    assert TestingConfig.BOOKING_RATE_LIMIT == "" and TestingConfig.BOOKING_CONTACT_RATE_LIMIT == ""
    assert not hasattr(Config, "BOOKING_NIK_RATE_LIMIT")  # issue 13: no limit a stranger can use up for a NIK


def test_per_ip_limit_on_booking_and_cancel(make_app):
    app = make_app(BOOKING_RATE_LIMIT="3/minute;50/hour", BOOKING_CONTACT_RATE_LIMIT="")
    c = client(app)
    day = last_day(c)
    codes = []
    for nik, phone in zip(NIKS[:3], PHONES):
        r = book(c, day, nik, phone=phone)
        assert r.status_code == 202, r.get_json()
        assert r.headers["X-RateLimit-Limit"] == "3"
        token = r.get_json()["request"]
        done = flow.confirm(c, token, flow.sent_code(app, token))  # the code step has its own counter
        assert done.status_code == 200 and done.headers["X-RateLimit-Limit"] == "3", done.get_json()
        codes.append(flow.book_code(app, token))
    assert_429(book(c, day, NIKS[3]))
    assert_429(flow.confirm(c, token, "123456"))
    # Reads are not limited; another address is counted on its own.
    assert c.get("/api/v1/offices/DEMO/booking").status_code == 200
    assert book(client(app, "10.0.0.2"), day, NIKS[3]).status_code == 202
    # Cancelling has its own per-IP counter.
    for code, nik in zip(codes, NIKS):
        r = c.post(f"/api/v1/offices/DEMO/bookings/{code}/cancel", json={"nik": nik}, headers={"X-CSRFToken": c.csrf})
        assert r.status_code == 200, r.get_json()
    assert_429(c.post(f"/api/v1/offices/DEMO/bookings/{codes[0]}/cancel", json={"nik": NIKS[0]},
                      headers={"X-CSRFToken": c.csrf}))


def test_per_contact_limit_across_addresses_not_per_nik(make_app):
    """Issue 13 changed this test: the limit was per NIK, so a stranger who knew a NIK could
    use it up and keep its owner from booking. It is now per contact (codes sent to one
    number or address), whatever NIK and address the requests come with."""
    app = make_app(BOOKING_RATE_LIMIT="", BOOKING_CONTACT_RATE_LIMIT="2/hour")
    day = last_day(client(app))
    assert book(client(app, "10.0.1.1"), day, NIKS[0]).status_code == 202
    assert book(client(app, "10.0.1.2"), day, NIKS[1]).status_code == 202
    # The third code for this number is refused whatever the address, NIK and spelling.
    assert_429(book(client(app, "10.0.1.3"), day, NIKS[2], phone="+62 812-3456-7890"))
    assert_429(book(client(app, "10.0.1.4"), day, NIKS[3]))
    # The NIK's owner, from their own number, is not affected; nor are other numbers or
    # e-mails; many requests from one address are fine (no IP limit).
    c = client(app, "10.0.1.5")
    for nik, phone in zip(NIKS, PHONES[1:]):
        assert book(c, day, nik, phone=phone).status_code == 202
    assert book(c, day, NIKS[0], phone="", email="budi@example.id").status_code == 202
    # A body without a contact is not counted against anyone (it is refused as invalid).
    for _ in range(4):
        assert book(c, day, NIKS[0], phone="", email="").status_code == 422


def test_empty_limits_disable_them(make_app):
    app = make_app(BOOKING_RATE_LIMIT="", BOOKING_CONTACT_RATE_LIMIT="")
    c = client(app)
    day = last_day(c)
    assert {book(c, day, NIKS[0]).status_code for _ in range(12)} == {202}


def test_behind_a_reverse_proxy_the_citizens_address_counts(make_app):
    """With LOKET_PROXY_COUNT=1 the per-IP limit keys on the address the proxy forwards; a
    client cannot dodge it by adding its own X-Forwarded-For entries in front."""
    app = make_app(BOOKING_RATE_LIMIT="2/minute", BOOKING_CONTACT_RATE_LIMIT="", PROXY_COUNT=1)
    proxy = client(app, "10.9.9.9")  # every request arrives from the proxy
    day = last_day(proxy)

    def via(citizen: str, nik: str, spoof: str = ""):
        forwarded = f"{spoof}, {citizen}" if spoof else citizen
        return proxy.post("/api/v1/offices/DEMO/bookings", headers={"X-CSRFToken": proxy.csrf,
                                                                     "X-Forwarded-For": forwarded},
                          json={"service": "kk", "session": "2", "day": day, "nik": nik, "name": "Budi",
                                "phone": "081234567890"})

    assert via("203.0.113.7", NIKS[0]).status_code == 202
    assert via("203.0.113.7", NIKS[1], spoof="1.2.3.4").status_code == 202
    assert_429(via("203.0.113.7", NIKS[2], spoof="5.6.7.8"))
    assert via("198.51.100.4", NIKS[2]).status_code == 202  # another citizen behind the same proxy
