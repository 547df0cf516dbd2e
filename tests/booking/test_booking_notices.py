"""The booking confirmation through the notice outbox (issue 6), queued once per booking
and kind, in Bahasa Indonesia with the code, schedule, what to bring and how to cancel."""
from __future__ import annotations

from sqlalchemy import select

from server.models import Booking, Notice, Office, utcnow
from server.services.booking import bookings
from server.services.booking.notices import queue_booking_notice
from server.services.booking.settings import BookingRules
from server.services.booking.views import booking_view
from tests.booking.test_booking_api import book, client, last_day
from tests.server.test_api import app  # noqa: F401  (app: fixture)

NIK = "1471011205900001"


def test_booking_notice_queued_once_with_code_schedule_and_cancel_link(app):
    db = app.extensions["loket"].db
    with db.session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        day = BookingRules(office).days(utcnow())[-1]
        booking = bookings.book(s, office, service_code="kk", day=day, session_code="2", nik=NIK, name="Budi Santoso",
                                phone="0812-3456-7890", email="budi@example.id", contact_hash="c1")
        view = booking_view(office, booking, bookings.booking_signer("k" * 32), "https://antrian.example.go.id")
        providers = {"whatsapp": object(), "email": object()}
        first = queue_booking_notice(s, office, booking, view, "booked", providers=providers)
        again = queue_booking_notice(s, office, booking, view, "booked", providers=providers)
        assert first.id == again.id and first.channel == "whatsapp" and first.recipient == "6281234567890"
        assert booking.code in first.body and "sesi 10.00-12.00" in first.body and "Batalkan di https://" in first.body
        assert "Formulir permohonan KK F-1.15" in first.body and NIK not in first.body
        sms = queue_booking_notice(s, office, booking, view, "cancelled", providers={"sms": object()})
        assert sms.kind == "booking_cancelled" and "DIBATALKAN" in sms.body and len(sms.body) < 200
        assert s.scalar(select(Notice.id).where(Notice.kind == "booking_booked")) == first.id
        assert s.get(Booking, booking.id).status == "booked"


def test_booking_and_cancelling_over_the_api_queue_their_notices(app):
    """Issue 13: the code, then the booking, then the cancellation, all to the one contact
    the booker confirmed."""
    app.extensions["loket_notice_providers"] = {"whatsapp": object()}
    c = client(app)
    made = book(c, day=last_day(app)).view
    assert c.post(f"/api/v1/offices/DEMO/bookings/{made['code']}/cancel", json={"nik": NIK},
                  headers={"X-CSRFToken": c.csrf}).status_code == 200
    with app.extensions["loket"].db.session() as s:
        notices = s.scalars(select(Notice).order_by(Notice.id)).all()
        assert [(n.kind, n.channel, n.recipient) for n in notices] == [
            ("booking_code", "whatsapp", "6281234567890"), ("booking_booked", "whatsapp", "6281234567890"),
            ("booking_cancelled", "whatsapp", "6281234567890")]
        assert made["code"] in notices[1].body and made["code"] not in notices[0].body
