"""Per-IP and per-NIK rate limits on the booking API (issue 6), with the counters in process
memory and in Redis (LOKET_TEST_REDIS_URL, db 15): 429 after N, in the API's error shape,
with Retry-After; other addresses and other NIKs are not affected; "" disables a limit."""
from __future__ import annotations

import uuid

import pytest

from server import create_app
from server.config import Config, TestingConfig
from server.demo import seed_demo
from tests.conftest import REDIS_URL

NIKS = ["1471011205900001", "1471015208900002", "1471010101900003", "1471010202900004", "1471014303900005"]


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
    body = {"service": "kk", "session": "2", "day": day, "nik": nik, "name": "Budi Santoso", "phone": "081234567890",
            **kw}
    return c.post("/api/v1/offices/DEMO/bookings", json=body, headers={"X-CSRFToken": c.csrf})


def last_day(c) -> str:
    return c.get("/api/v1/offices/DEMO/booking").get_json()["days"][-1]["date"]


def assert_429(r):
    assert r.status_code == 429, (r.status_code, r.get_json())
    body = r.get_json()
    assert body["error"] == "too_many_requests" and "Too many requests" in body["message"]
    assert "Terlalu banyak permintaan" in body["message"]
    assert int(r.headers["Retry-After"]) > 0


def test_defaults_are_on_in_production_and_off_in_tests():
    assert Config.BOOKING_RATE_LIMIT == "10/minute;100/hour" and Config.BOOKING_NIK_RATE_LIMIT == "5/hour"
    assert TestingConfig.BOOKING_RATE_LIMIT == "" and TestingConfig.BOOKING_NIK_RATE_LIMIT == ""


def test_per_ip_limit_on_booking_and_cancel(make_app):
    app = make_app(BOOKING_RATE_LIMIT="3/minute;50/hour", BOOKING_NIK_RATE_LIMIT="")
    c = client(app)
    day = last_day(c)
    codes = []
    for nik in NIKS[:3]:
        r = book(c, day, nik)
        assert r.status_code == 201, r.get_json()
        assert r.headers["X-RateLimit-Limit"] == "3"
        codes.append(r.get_json()["code"])
    assert_429(book(c, day, NIKS[3]))
    # Reads are not limited; another address is counted on its own.
    assert c.get("/api/v1/offices/DEMO/booking").status_code == 200
    assert book(client(app, "10.0.0.2"), day, NIKS[3]).status_code == 201
    # Cancelling has its own per-IP counter.
    for code, nik in zip(codes, NIKS):
        r = c.post(f"/api/v1/offices/DEMO/bookings/{code}/cancel", json={"nik": nik}, headers={"X-CSRFToken": c.csrf})
        assert r.status_code == 200, r.get_json()
    assert_429(c.post(f"/api/v1/offices/DEMO/bookings/{codes[0]}/cancel", json={"nik": NIKS[0]},
                      headers={"X-CSRFToken": c.csrf}))


def test_per_nik_limit_across_addresses(make_app):
    app = make_app(BOOKING_RATE_LIMIT="", BOOKING_NIK_RATE_LIMIT="2/hour")
    day = last_day(client(app))
    assert book(client(app, "10.0.1.1"), day, NIKS[0]).status_code == 201
    assert book(client(app, "10.0.1.2"), day, NIKS[0]).get_json()["error"] == "already_booked"
    # The third try of this NIK is refused whatever the address and however it is written.
    assert_429(book(client(app, "10.0.1.3"), day, "1471 0112 0590 0001"))
    assert_429(book(client(app, "10.0.1.4"), day, NIKS[0]))
    # Other NIKs are not affected; many requests from one address are fine (no IP limit).
    c = client(app, "10.0.1.5")
    for nik in NIKS[1:]:
        assert book(c, day, nik).status_code == 201
    # A body without a NIK is not counted against anyone (it is refused as invalid).
    for _ in range(4):
        assert book(c, day, "").status_code == 422


def test_empty_limits_disable_them(make_app):
    app = make_app(BOOKING_RATE_LIMIT="", BOOKING_NIK_RATE_LIMIT="")
    c = client(app)
    day = last_day(c)
    statuses = [book(c, day, NIKS[0]).status_code for _ in range(12)]
    assert statuses[0] == 201 and set(statuses[1:]) == {409}


def test_behind_a_reverse_proxy_the_citizens_address_counts(make_app):
    """With LOKET_PROXY_COUNT=1 the per-IP limit keys on the address the proxy forwards; a
    client cannot dodge it by adding its own X-Forwarded-For entries in front."""
    app = make_app(BOOKING_RATE_LIMIT="2/minute", BOOKING_NIK_RATE_LIMIT="", PROXY_COUNT=1)
    proxy = client(app, "10.9.9.9")  # every request arrives from the proxy
    day = last_day(proxy)

    def via(citizen: str, nik: str, spoof: str = ""):
        forwarded = f"{spoof}, {citizen}" if spoof else citizen
        return proxy.post("/api/v1/offices/DEMO/bookings", headers={"X-CSRFToken": proxy.csrf,
                                                                     "X-Forwarded-For": forwarded},
                          json={"service": "kk", "session": "2", "day": day, "nik": nik, "name": "Budi",
                                "phone": "081234567890"})

    assert via("203.0.113.7", NIKS[0]).status_code == 201
    assert via("203.0.113.7", NIKS[1], spoof="1.2.3.4").status_code == 201
    assert_429(via("203.0.113.7", NIKS[2], spoof="5.6.7.8"))
    assert via("198.51.100.4", NIKS[2]).status_code == 201  # another citizen behind the same proxy
