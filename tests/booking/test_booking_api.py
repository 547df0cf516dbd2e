"""Booking over the REST API on SQLite and PostgreSQL (issue 6): availability, booking,
one per NIK (per confirmed contact, issue 13), full sessions, cancel frees the place,
working days and the horizon. Booking goes through both steps (``tests.booking.flow``)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from server.models import Booking, Notice, Office
from server.models.booking import BookingRequest
from server.services.booking import bookings
from server.services.booking.bookings import BookingRefused
from server.services.booking.checkin import expire_due
from server.services.booking.settings import BookingRules
from server.services.errors import ValidationError
from tests.booking import flow
from tests.server.test_api import app  # noqa: F401  (app: fixture)

NIK = "1471011205900001"
NIK2 = "1471015208900002"
WIB = timezone(timedelta(hours=7))


def client(app_):
    c = app_.test_client()
    c.csrf = c.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    return c


def book(c, **kw) -> flow.Booked:
    """Both steps (ask, confirm with the code sent to the contact): a ``flow.Booked``."""
    body = {"service": "kk", "session": "2", "nik": NIK, "name": "Budi Santoso", "phone": "081234567890", **kw}
    return flow.book(c, **body)


def set_booking(app_, **settings):
    with app_.extensions["loket"].db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        office.settings = {**(office.settings or {}), "booking": settings}


def last_day(app_) -> str:
    return client(app_).get("/api/v1/offices/DEMO/booking").get_json()["days"][-1]["date"]


def test_book_one_per_nik_full_session_and_cancel_frees_the_place(app):
    set_booking(app, quotas={"kk": 2})
    c = client(app)
    avail = c.get("/api/v1/offices/DEMO/booking").get_json()
    assert {s["code"] for s in avail["services"]} >= {"ktp_el", "kk"} and "info" not in {s["code"] for s in avail["services"]}
    day = avail["days"][-1]["date"]
    assert avail["days"][-1]["sessions"]["2"]["left"]["kk"] == 2
    r = book(c, day=day)
    assert r.outcome == "booked", r.answers
    first = r.view
    assert first["name"] == "B*** S******" and NIK not in str(first) and first["qr_payload"].startswith("LKB1.DEMO.")
    # The same NIK from the same contact: "already booked" (told to that contact), no place taken.
    again = book(c, day=day)
    assert again.outcome == "already_booked" and first["code"] in again.notice["body"]
    # Andi asks while a place is left; Siti takes it before Andi enters his code: Andi's
    # contact is told the session is full.
    andi = {"service": "kk", "session": "2", "day": day, "nik": "1471010101900003", "name": "Andi",
            "phone": "081311112222"}
    token = flow.ask(c, **andi).get_json()["request"]
    assert book(c, day=day, nik=NIK2, name="Siti", phone="081298765432").outcome == "booked"
    assert flow.confirm(c, token, flow.sent_code(app, token)).status_code == 200
    with app.extensions["loket"].db.session() as s:
        assert s.scalar(select(BookingRequest.outcome).where(BookingRequest.token == token)) == "session_full"
        told = s.scalars(select(Notice.body).where(Notice.kind == "booking_refused")).all()
        assert any("kuota sesi yang dipilih sudah habis" in body for body in told)
    # Asking for a full session is refused at once (the places left are public: the same
    # answer for every NIK), and no code is sent.
    full = book(c, **andi)
    assert full.status_code == 409 and full.get_json()["error"] == "session_full" and full.outcome is None
    assert c.get("/api/v1/offices/DEMO/booking").get_json()["days"][-1]["sessions"]["2"]["left"]["kk"] == 0
    # Cancel needs the booking's own NIK; then the place is free at once.
    bad = c.post(f"/api/v1/offices/DEMO/bookings/{first['code']}/cancel", json={"nik": NIK2},
                 headers={"X-CSRFToken": c.csrf})
    assert bad.status_code == 404
    ok = c.post(f"/api/v1/offices/DEMO/bookings/{first['code'].lower().replace('-', '')}/cancel", json={"nik": NIK},
                headers={"X-CSRFToken": c.csrf})
    assert ok.status_code == 200 and ok.get_json()["status"] == "cancelled"
    assert book(c, day=day, nik="1471010101900003", name="Andi", phone="081311112222").outcome == "booked"
    assert c.get(f"/api/v1/offices/DEMO/bookings/{first['code']}").get_json()["status"] == "cancelled"
    by_qr = c.get(f"/api/v1/offices/DEMO/bookings/{first['qr_payload']}")
    assert by_qr.status_code == 200 and by_qr.get_json()["code"] == first["code"]
    forged = first["qr_payload"][:-3] + ("AAA" if not first["qr_payload"].endswith("AAA") else "BBB")
    assert c.get(f"/api/v1/offices/DEMO/bookings/{forged}").get_json()["error"] == "booking_forged"


def test_bad_input_is_refused_with_its_field(app):
    c = client(app)
    day = last_day(app)
    cases = {"nik": {"nik": "123"}, "service": {"service": "info"}, "session": {"session": "9"},
             "day": {"day": "2020-01-01"}, "phone": {"phone": "", "email": ""}}
    for field, kw in cases.items():
        r = book(c, **{"day": day, **kw})
        assert r.status_code == 422 and r.get_json()["details"]["field"] == field, (field, r.get_json())
    # CSRF (server.security.public_json): a JSON POST from no or this origin needs no token
    # (nobody is authenticated by a cookie here); a form, text/plain or another origin
    # without the token is refused as before, and books nothing.
    fresh = app.test_client()
    url = "/api/v1/offices/DEMO/bookings"
    body = {"service": "kk", "session": "2", "day": day, "nik": "1471010101900003", "name": "Andi",
            "phone": "081234567890"}
    for refused in (fresh.post(url, json=body, headers={"Origin": "https://calo.example"}),
                    fresh.post(url, data=body),
                    fresh.post(url, data='{"day": "%s"}' % day, content_type="text/plain")):
        assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed", refused.get_json()
    asked = fresh.post(url, json=body, headers={"Origin": "http://localhost"})
    assert asked.status_code == 202
    assert fresh.post(url, json={**body, "nik": NIK2}).status_code == 202
    # So is the code (the second step).
    token = asked.get_json()["request"]
    done = fresh.post(f"{url}/confirm", json={"request": token, "code": flow.sent_code(app, token)},
                      headers={"Origin": "http://localhost"})
    assert done.status_code == 200, done.get_json()
    refused = fresh.post(f"{url}/confirm", data={"request": token, "code": "000000"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "csrf_failed"
    with app.extensions["loket"].db.session() as s:
        assert {b.nik for b in s.scalars(select(Booking))} == {"1471010101900003"}


def test_only_working_days_within_the_horizon_opening_at_its_hour(app):
    with app.extensions["loket"].db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        office.settings = {**(office.settings or {}), "closure_days": ["2026-12-01"],
                           "booking": {"horizon_days": 5, "opens_at": "07:00"}}
        rules = BookingRules(office)
        # Friday 2026-11-27 06:59 WIB: Fri, Mon 30 Nov, (Tue 1 Dec closed), Wed 2, Thu 3; Fri 4 not yet open.
        before = rules.days(datetime(2026, 11, 27, 6, 59, tzinfo=WIB))
        after = rules.days(datetime(2026, 11, 27, 7, 0, tzinfo=WIB))
        assert before == [date(2026, 11, 27), date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 3)]
        assert after == before + [date(2026, 12, 4)]
        # 25 December is a public holiday (holidays package): never bookable.
        assert date(2026, 12, 25) not in rules.days(datetime(2026, 12, 21, 8, 0, tzinfo=WIB))
        with pytest.raises(ValidationError) as err:
            bookings.book(s, office, service_code="kk", day=date(2026, 12, 1), session_code="1", nik=NIK,
                          name="Budi", phone="081234567890", email=None, contact_hash="c1",
                          now=datetime(2026, 11, 27, 8, 0, tzinfo=WIB))
        assert err.value.details["field"] == "day"
        assert s.scalar(select(Booking.id)) is None


def test_repeated_no_shows_block_the_contact_not_the_nik(app):
    """Issue 13 changed this rule: no-shows used to block the NIK, which let someone who
    booked in another person's NIK and stayed away get that NIK blocked. They now block the
    confirmed contact that did not come; the NIK's owner books from their own contact."""
    set_booking(app, no_show_limit=2, no_show_days=30, no_show_block_days=14)
    mon = datetime(2026, 11, 23, 7, 30, tzinfo=WIB)
    db = app.extensions["loket"].db

    def book_at(now, day, nik=NIK, contact="absent"):
        with db.session() as s:
            office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
            return bookings.book(s, office, service_code="kk", day=day, session_code="1", nik=nik, name="Budi",
                                 phone="081234567890", email=None, contact_hash=contact, now=now).code

    def expire(now):
        with db.session() as s:
            return expire_due(s, s.scalars(select(Office).where(Office.code == "DEMO")).one(), now)

    book_at(mon, date(2026, 11, 23))
    book_at(mon, date(2026, 11, 24))
    assert expire(datetime(2026, 11, 24, 12, 0, tzinfo=WIB)) == 2  # both windows over: two no-shows
    thu = datetime(2026, 11, 26, 7, 30, tzinfo=WIB)
    with pytest.raises(BookingRefused) as err:
        book_at(thu, date(2026, 11, 27))
    assert err.value.code == "no_show_blocked" and "08-12-2026" in err.value.message
    with pytest.raises(BookingRefused):  # the contact, whatever NIK it books
        book_at(thu, date(2026, 11, 27), nik=NIK2)
    book_at(thu, date(2026, 11, 27), contact="owner")  # the same NIK from another contact is not affected
    assert book_at(datetime(2026, 12, 9, 7, 30, tzinfo=WIB), date(2026, 12, 9))  # 14 days after the last one
