"""A daily quota per service shared by walk-ins and bookings (issue 6), on both databases;
the kiosk's state names the service full; a cancelled booking gives its place back."""
from __future__ import annotations

from sqlalchemy import select

from server.models import Office
from tests.booking.test_booking_api import NIK, NIK2, book, client, last_day
from tests.server.test_api import app, kiosk_issue  # noqa: F401  (app: fixture)


def set_daily(app_, quota: dict) -> None:
    with app_.extensions["loket"].db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        office.settings = {**(office.settings or {}), "booking": {"daily_quota": quota}}


def kiosk_state(app_) -> dict:
    from tests.server.test_api import tokens

    return app_.test_client().get("/api/v1/offices/DEMO/state?audience=kiosk",
                                  headers={"Authorization": f"Bearer {tokens(app_)['kiosk']}"}).get_json()


def test_walk_ins_share_the_daily_quota_and_the_kiosk_says_full(app):
    set_daily(app, {"kia": 2})
    assert kiosk_issue(app, "kia").status_code == 201
    assert kiosk_issue(app, "kk").status_code == 201  # no quota for KK
    assert kiosk_state(app)["full_today"] == []
    assert kiosk_issue(app, "kia").status_code == 201
    full = kiosk_issue(app, "kia")
    assert full.status_code == 409 and full.get_json()["error"] == "service_full_today"
    assert "habis" in full.get_json()["message"]
    assert kiosk_state(app)["full_today"] == ["kia"]


def test_bookings_take_and_cancellations_give_back_the_daily_place(app):
    set_daily(app, {"kk": 1})
    c = client(app)
    day = last_day(app)
    first = book(c, day=day)
    assert first.outcome == "booked"
    second = book(c, day=day, nik=NIK2, name="Siti", phone="081298765432")
    assert second.outcome == "service_full" and "kuota layanan hari itu sudah habis" in second.notice["body"]
    code = first.view["code"]
    assert c.post(f"/api/v1/offices/DEMO/bookings/{code}/cancel", json={"nik": NIK},
                  headers={"X-CSRFToken": c.csrf}).status_code == 200
    assert book(c, day=day, nik=NIK2, name="Siti", phone="081298765432").outcome == "booked"
