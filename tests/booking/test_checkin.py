"""Kiosk check-in of bookings on SQLite and PostgreSQL (issue 6): the check-in window
(early, on time, late), cancelled and expired bookings, a repeated scan, the NIK suffix, a
forged QR, the booked ticket placed by its slot and the booked/walk-in ratio, the API, and
check-in by a QR image read with the project's decoder (drivers/qr)."""
from __future__ import annotations

import io
from datetime import date

import numpy as np
import pytest
import segno
from PIL import Image
from sqlalchemy import select

from server.models import AuditEntry, Booking, Counter, Office, StaffUser, Ticket
from server.services.actors import PUBLIC, Actor
from server.services.booking import bookings, checkin
from server.services.booking.bookings import BookingRefused
from server.services.booking.views import booking_view
from server.services.clock import epoch_ms
from server.services.errors import ValidationError
from server.services.queue import call_next, issue_ticket, open_counter
from tests.conftest import wib
from tests.pages.conftest import page_factory  # noqa: F401  (fixture)
from tests.server.test_api import app, tokens  # noqa: F401  (app: fixture)

NIKS = ["1471011205900001", "1471015208900002", "1471010101900003", "1471010202900004"]
DAY = date(2026, 11, 23)  # a Monday; session "2" is 10:00-12:00, check-in 09:30-10:15 WIB
BOOKED_AT = wib(6, 0)
KIOSK = Actor("device", None, device_kind="kiosk")


def db(app_):
    return app_.extensions["loket"].db


def signer(app_):
    return bookings.booking_signer(app_.config["SECRET_KEY"])


def set_booking(app_, **settings):
    with db(app_).session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        office.settings = {**(office.settings or {}), "booking": settings}


def book(app_, nik, day=DAY, service="kk", sesi="2") -> dict:
    with db(app_).session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        b = bookings.book(s, office, service_code=service, day=day, session_code=sesi, nik=nik, name="Budi Santoso",
                          phone="081234567890", email=None, contact_hash=f"contact-of-{nik}", now=BOOKED_AT)
        return booking_view(office, b, signer(app_), "http://loket.test") | {"id": b.id}


def check(app_, ref, at, nik="900001"):
    with db(app_).session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        result = checkin.check_in(s, office, ref, nik=nik, signer=signer(app_), actor=KIOSK, now=at)
        return result.booking.status, result.ticket.id, result.ticket.display_number, result.repeated


def refusal(app_, ref, at, nik="900001") -> BookingRefused:
    with pytest.raises(BookingRefused) as exc:
        check(app_, ref, at, nik)
    return exc.value


def expire(app_, at) -> int:
    with db(app_).session() as s:
        return checkin.expire_due(s, s.scalars(select(Office).where(Office.code == "DEMO")).one(), at)


def test_window_nik_repeat_cancelled_expired_wrong_day_and_forged(app):
    first = book(app, NIKS[0])
    early = refusal(app, first["code"], wib(9, 0))
    assert early.code == "too_early" and "09.30" in early.message and early.details["checkin_from_hhmm"] == "09.30"
    assert refusal(app, first["code"], wib(9, 40), nik="999999").code == "nik_mismatch"
    with pytest.raises(ValidationError):
        check(app, first["code"], wib(9, 40), nik="12")
    status, ticket_id, number, repeated = check(app, first["code"].lower().replace("-", " "), wib(9, 40))
    assert status == "checked_in" and number == "B001" and not repeated
    with db(app).session() as s:
        ticket, booking = s.get(Ticket, ticket_id), s.get(Booking, first["id"])
        assert ticket.channel == "booking" and ticket.sort_key == epoch_ms(wib(10, 0))
        assert booking.ticket_id == ticket_id and booking.checked_in_at is not None
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "booking.checked_in",
                                                 AuditEntry.entity_id == first["id"])) is not None
    # A second scan of the same QR answers the same ticket (idempotent, not an error).
    assert check(app, first["qr_payload"], wib(9, 45)) == ("checked_in", ticket_id, "B001", True)

    late = book(app, NIKS[1])
    too_late = refusal(app, late["code"], wib(10, 16), nik="900002")
    assert too_late.code == "too_late" and "walk-in" in too_late.message
    assert expire(app, wib(10, 14)) == 0
    assert expire(app, wib(10, 15)) == 1
    assert refusal(app, late["code"], wib(10, 16), nik="900002").code == "expired"
    with db(app).session() as s:
        expired = s.get(Booking, late["id"])
        assert expired.status == "expired" and expired.expired_at is not None
        assert s.get(Booking, first["id"]).status == "checked_in"  # a checked-in booking never expires

    cancelled = book(app, NIKS[2])
    with db(app).session() as s:
        bookings.cancel(s, s.scalars(select(Office).where(Office.code == "DEMO")).one(), cancelled["code"], NIKS[2],
                        now=BOOKED_AT)
    assert refusal(app, cancelled["code"], wib(9, 40), nik="900003").code == "cancelled"

    tomorrow = book(app, NIKS[3], day=date(2026, 11, 24))
    wrong = refusal(app, tomorrow["code"], wib(9, 40), nik="900004")
    assert wrong.code == "wrong_day" and "24-11-2026" in wrong.message

    forged = first["qr_payload"][:-3] + ("AAA" if not first["qr_payload"].endswith("AAA") else "BBB")
    assert refusal(app, forged, wib(9, 40)).code == "booking_forged"


@pytest.mark.parametrize("ratio, expected", [
    (2, ["w0", "b0", "b1", "w1", "b2", "w2", "w3"]),
    (0, ["w0", "b0", "b1", "b2", "w1", "w2", "w3"]),
])
def test_booked_tickets_placed_by_slot_and_called_in_ratio(app, ratio, expected):
    set_booking(app, booked_ratio=ratio)
    names = {}

    def walk_in(name, at):
        with db(app).session() as s:
            office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
            names[issue_ticket(s, office, "kk", actor=PUBLIC, now=at).id] = name

    refs = [book(app, nik)["code"] for nik in NIKS[:3]]
    walk_in("w0", wib(9, 50))  # before the slot start: ahead of the booked tickets
    names[check(app, refs[0], wib(9, 45))[1]] = "b0"
    names[check(app, refs[1], wib(9, 55), nik="900002")[1]] = "b1"
    walk_in("w1", wib(10, 1))
    walk_in("w2", wib(10, 2))
    names[check(app, refs[2], wib(10, 5), nik="900003")[1]] = "b2"  # late in the window, still by its slot
    walk_in("w3", wib(10, 6))
    with db(app).session() as s:
        user = s.scalars(select(StaffUser).where(StaffUser.username == "fo1")).one()
        actor = Actor("staff", user.id, office_id=user.office_id, role=user.role)
        counter_id = s.scalar(select(Counter.id).where(Counter.number == 1))
        open_counter(s, counter_id, actor=actor, now=wib(10, 7))
    order = []
    for i in range(7):
        with db(app).session() as s:
            call = call_next(s, counter_id, actor=actor, finish_current=True, now=wib(10, 10 + i))
            order.append(names[call.ticket.id])
    assert order == expected


def test_api_checkin_prints_like_a_walk_in_and_refuses_plainly(app, monkeypatch):
    monkeypatch.setattr(checkin, "utcnow", lambda: wib(9, 40))
    kiosk = {"Authorization": f"Bearer {tokens(app)['kiosk']}"}
    c = app.test_client()
    first = book(app, NIKS[0])
    url = "/api/v1/offices/DEMO/checkin"
    missing = c.post(url, json={"ref": first["code"]}, headers=kiosk)
    assert missing.status_code == 422 and missing.get_json()["details"]["field"] == "nik_suffix"
    assert c.post(url, json={"ref": first["code"], "nik_suffix": "900001"}).status_code in (400, 401)  # no token: CSRF refusal
    r = c.post(url, json={"ref": first["code"], "nik_suffix": "900001"}, headers=kiosk)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["ticket"]["number"] == "B001" and body["ticket"]["public_id"] and body["print"]["job_id"]
    assert body["booking"]["status"] == "checked_in" and body["repeated"] is False and NIKS[0] not in str(body)
    again = c.post(url, json={"ref": first["qr_payload"], "nik_suffix": "900001"}, headers=kiosk)
    assert again.status_code == 200 and again.get_json()["repeated"] is True
    # a repeat (the first answer lost) answers the first print job, never a second one
    assert again.get_json()["ticket"]["number"] == "B001" and again.get_json()["print"] == body["print"]
    with app.extensions["loket"].db.session() as s:
        jobs = s.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.print")).all()
        assert len(jobs) == 1
    monkeypatch.setattr(checkin, "utcnow", lambda: wib(9, 0))
    second = book(app, NIKS[1])
    early = c.post(url, json={"ref": second["code"], "nik_suffix": "900002"}, headers=kiosk)
    assert early.status_code == 409 and early.get_json()["error"] == "too_early"
    assert early.get_json()["details"]["checkin_from_hhmm"] == "09.30"


def test_checkin_by_qr_image_through_the_scanner_decoder(app, monkeypatch):
    from drivers.qr.decoders import decoder_by_name

    monkeypatch.setattr(checkin, "utcnow", lambda: wib(10, 0))
    booked = book(app, NIKS[0])
    png = io.BytesIO()
    segno.make(booked["qr_payload"], error="m").save(png, kind="png", scale=6, border=4)
    frame = np.array(Image.open(io.BytesIO(png.getvalue())).convert("L"))
    decoded = decoder_by_name().decode(frame)
    assert [d.text for d in decoded] == [booked["qr_payload"]]
    r = app.test_client().post("/api/v1/offices/DEMO/checkin", json={"ref": decoded[0].text, "nik_suffix": "900001"},
                               headers={"Authorization": f"Bearer {tokens(app)['kiosk']}"})
    assert r.status_code == 201 and r.get_json()["booking"]["code"] == booked["code"]


@pytest.mark.browser
@pytest.mark.slow
def test_kiosk_page_checkin_by_typed_code_shows_the_ticket(live_server, page_factory):
    from datetime import datetime, timedelta, timezone

    from playwright.sync_api import expect

    from server.models import Service

    now = datetime.now(timezone.utc)
    with live_server.db.session() as s:
        office = s.scalars(select(Office).where(Office.code == live_server.office)).one()
        local = now.astimezone(checkin.BookingRules(office).zone)
        start = local.replace(second=0, microsecond=0)
        office.settings = {**(office.settings or {}), "booking": {"sessions": [
            {"code": "1", "start": f"{start:%H:%M}", "end": f"{min(start + timedelta(hours=1), start.replace(hour=23, minute=59)):%H:%M}"}]}}
        kk = s.scalars(select(Service).where(Service.office_id == office.id, Service.code == "kk")).one()
        for code, nik in (("K7QM-2XDA", NIKS[0]), ("K7QM-2XDB", NIKS[1])):
            s.add(Booking(office_id=office.id, service_id=kk.id, day=local.date(), session_code="1", code=code,
                          nik=nik, name="Budi", created_at=now))
    page = page_factory(1080, 1920)
    page.goto(live_server.kiosk_url())
    expect(page.locator("#screen-services")).to_be_visible()
    page.get_by_test_id("checkin-open").click()
    expect(page.locator("#screen-checkin")).to_be_visible()
    expect(page.get_by_test_id("checkin-ref")).to_be_focused()
    page.get_by_test_id("checkin-ref").type("k7qm2xda\n")  # Enter (as a scanner sends it) moves to the NIK
    expect(page.get_by_test_id("checkin-nik")).to_be_focused()
    page.get_by_test_id("checkin-nik").type("999999\n")
    expect(page.get_by_test_id("checkin-error")).to_contain_text("NIK tidak cocok")
    page.get_by_test_id("checkin-nik").fill("900001")
    page.get_by_test_id("checkin-submit").click()
    expect(page.locator("#screen-ticket")).to_be_visible()
    expect(page.get_by_test_id("ticket-number")).to_have_text("B001")
    expect(page.get_by_test_id("ticket-service")).to_contain_text("Kartu Keluarga")
