"""Booking privacy and brokers (issue 13) on SQLite and PostgreSQL, through the real API,
database and notice outbox (and a real SMTP server for e-mail):

- no NIK oracle: every answer of both steps is the same whether or not the NIK holds a
  booking (and whatever the outcome); the outcome goes to the confirmed contact only;
- a booking in someone else's NIK neither blocks its owner (who books from their own
  contact, is told, and is served: at check-in the NIK's digits / the KTP in hand decide)
  nor gets the NIK penalised (the no-show falls on the contact that did not come);
- one contact cannot hold bookings for more than ``max_niks_per_contact_per_day`` NIKs;
- the one-time code: hashed at rest, limited attempts, expiry;
- contacts stored normalised and hashed for matching, masked in answers, absent from audit.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from server.models import AuditEntry, Booking, Notice, Office
from server.models.booking import BookingRequest
from server.services.booking import bookings, checkin, requests
from server.services.booking.notices import CONTESTED_NOTE
from server.services.booking.views import booking_view
from server.services.notices import deliver_due, providers_from_config
from server.services.notices.outbox import msisdn
from tests.booking import flow
from tests.booking.test_booking_api import NIK, NIK2, client, last_day, set_booking
from tests.booking.test_checkin import DAY, check
from tests.conftest import wib
from tests.server.test_api import app  # noqa: F401  (app: fixture)
from tests.server.test_notices import config as notice_config
from tests.server.test_notices import mailbox  # noqa: F401  (mailbox: fixture)

NIK3 = "1471010101900003"
SQUATTER, OWNER, BROKER = "081111111111", "082222222222", "083333333333"
FORM = {"service": "kk", "session": "2", "name": "Budi Santoso"}


def db(app_):
    return app_.extensions["loket"].db


def same_but_token(a: dict, b: dict) -> bool:
    keys = set(a) - {"request", "expires_at"}
    return set(a) == set(b) and all(a[k] == b[k] for k in keys)


def test_no_answer_tells_whether_a_nik_has_a_booking(app):
    c = client(app)
    day = last_day(app)
    assert flow.book(c, **FORM, day=day, nik=NIK, phone=SQUATTER).outcome == "booked"
    # Step 1 for the booked NIK and for a fresh one, from the same and from another contact.
    for phone in (SQUATTER, OWNER):
        booked = flow.ask(c, **FORM, day=day, nik=NIK, phone=phone)
        fresh = flow.ask(c, **FORM, day=day, nik=NIK2, phone=phone)
        assert booked.status_code == fresh.status_code == 202
        assert same_but_token(booked.get_json(), fresh.get_json()), (booked.get_json(), fresh.get_json())
        assert booked.get_json()["contact"] == f"0{phone[1:4]}****{phone[-4:]}"
        assert NIK not in booked.get_data(as_text=True)
    # Step 2: "already booked", "booked" and "broker limit" answer alike; the contact learns which.
    again = flow.book(c, **FORM, day=day, nik=NIK, phone=SQUATTER)
    other = flow.book(c, **FORM, day=day, nik=NIK2, phone=SQUATTER)
    broker = flow.book(c, **FORM, day=day, nik=NIK3, phone=SQUATTER)
    assert (again.outcome, other.outcome, broker.outcome) == ("already_booked", "booked", "broker_limit")
    assert again.status_code == other.status_code == broker.status_code == 200
    assert again.answer == other.answer == broker.answer
    assert set(again.answer) == {"status", "contact", "message"} and "1111" in again.answer["contact"]
    with db(app).session() as s:
        codes = s.scalars(select(Booking.code)).all()
    for result in (again, other, broker):
        assert result.notice["recipient"] == msisdn(SQUATTER)
        assert not any(code in str(result.answers) for code in codes)  # no booking code in any answer
    assert other.view["code"] in other.notice["body"] and "TIDAK DAPAT DIBUAT" in broker.notice["body"]


def test_a_squatter_neither_blocks_nor_gets_the_nik_penalised(app):
    set_booking(app, no_show_limit=1, no_show_days=30, no_show_block_days=14)
    secret = app.config["SECRET_KEY"]

    def book(nik, phone, day, at):
        with db(app).session() as s:
            office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
            asked = requests.request_booking(s, office, service_code="kk", day=day, session_code="2", nik=nik,
                                             name="Budi Santoso", phone=phone, email=None, secret_key=secret,
                                             providers={}, now=at)
        token = asked.token
        code = flow.sent_code(app, token)
        with db(app).session() as s:
            office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
            done = requests.confirm(s, office, token, code, secret_key=secret, now=at, view=lambda b, sv: booking_view(
                office, b, bookings.booking_signer(secret), "http://loket.test", service=sv))
            notice = s.scalars(select(Notice).where(Notice.kind.in_(("booking_booked", "booking_refused")))
                               .order_by(Notice.id.desc())).first()
            code = done.booking.code if done.booking is not None else None
            return done.outcome, code, notice.body

    squatted = book(NIK, SQUATTER, DAY, wib(6, 0))
    assert squatted[0] == "booked" and CONTESTED_NOTE not in squatted[2]
    # The owner books the same NIK, service and day from their own number: not blocked, and warned.
    owned = book(NIK, OWNER, DAY, wib(6, 5))
    assert owned[0] == "booked" and CONTESTED_NOTE in owned[2]
    # At check-in the NIK's digits (the KTP in hand) decide: the owner is served.
    status, _ticket, number, repeated = check(app, owned[1], wib(9, 45), nik=NIK[-6:])
    assert status == "checked_in" and number and not repeated
    # The squatter does not come: the no-show is the squatter's contact's, not the NIK's.
    with db(app).session() as s:
        assert checkin.expire_due(s, s.scalars(select(Office).where(Office.code == "DEMO")).one(), wib(12, 0)) == 1
        assert s.scalars(select(Booking).where(Booking.code == squatted[1])).one().status == "expired"
    tomorrow, later = DAY + timedelta(days=1), wib(13, 0)
    assert book(NIK, OWNER, tomorrow, later)[0] == "booked"  # the NIK is not penalised
    blocked = book(NIK2, SQUATTER, tomorrow, later)
    assert blocked[0] == "no_show_blocked" and "beberapa kali memesan tanpa hadir" in blocked[2]
    with db(app).session() as s:
        actions = [a for a, in s.execute(select(AuditEntry.action).where(AuditEntry.entity_type.in_(
            ("booking", "booking_request"))).order_by(AuditEntry.id))]
        assert actions.count("booking.requested") == 4 and actions.count("booking.request_confirmed") == 4
        assert {"booking.created", "booking.checked_in", "booking.expired"} <= set(actions)
        data = " ".join(str(d) for d, in s.execute(select(AuditEntry.data)))
        assert NIK not in data and msisdn(SQUATTER) not in data and SQUATTER not in data


def test_one_contact_holds_bookings_for_few_niks_a_day(app):
    c = client(app)
    days = [d["date"] for d in c.get("/api/v1/offices/DEMO/booking").get_json()["days"]]
    day, other_day = days[-1], days[-2]
    assert flow.book(c, **FORM, day=day, nik=NIK, phone=BROKER).outcome == "booked"
    assert flow.book(c, **FORM, day=day, nik=NIK2, phone=BROKER).outcome == "booked"
    third = flow.book(c, **FORM, day=day, nik=NIK3, phone=BROKER)
    assert third.outcome == "broker_limit" and "terlalu banyak NIK" in third.notice["body"]
    # Written another way, the same number is the same contact.
    assert flow.book(c, **FORM, day=day, nik=NIK3, phone="+62 833-3333-3333").outcome == "broker_limit"
    # Another service for a NIK it already holds, or another day: fine.
    assert flow.book(c, **{**FORM, "service": "ktp_el"}, day=day, nik=NIK2, phone=BROKER).outcome == "booked"
    assert flow.book(c, **FORM, day=other_day, nik=NIK3, phone=BROKER).outcome == "booked"
    set_booking(app, max_niks_per_contact_per_day=3)
    assert flow.book(c, **FORM, day=day, nik=NIK3, phone=BROKER).outcome == "booked"
    with db(app).session() as s:
        assert s.query(Booking).filter(Booking.day == date.fromisoformat(day), Booking.status == "booked").count() == 4


def test_the_code_is_hashed_tried_a_few_times_and_expires(app):
    c = client(app)
    day = last_day(app)
    asked = flow.ask(c, **FORM, day=day, nik=NIK, phone=OWNER).get_json()
    assert asked["attempts"] == 5
    token, code = asked["request"], flow.sent_code(app, asked["request"])
    with db(app).session() as s:
        row = s.scalars(select(BookingRequest).where(BookingRequest.token == token)).one()
        assert code not in (row.code_hash, row.token) and len(row.code_hash) == 64 and row.recipient == msisdn(OWNER)
        assert row.expires_at - row.created_at == timedelta(minutes=10)
    wrong = str((int(code) + 1) % 1_000_000).zfill(6)
    for left in (4, 3, 2, 1):
        r = flow.confirm(c, token, wrong)
        assert r.status_code == 422 and r.get_json()["details"] == {"field": "code", "reason": "wrong",
                                                                    "attempts_left": left}, r.get_json()
    locked = flow.confirm(c, token, wrong)
    assert locked.get_json()["details"]["reason"] == "locked"
    assert flow.confirm(c, token, code).get_json()["details"]["reason"] == "locked"  # too late for the right one
    assert flow.confirm(c, "no-such-request", code).status_code == 404
    # Expiry: the right code 10 minutes later is refused; a request nobody confirms expires.
    secret = app.config["SECRET_KEY"]
    with db(app).session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        late = requests.request_booking(s, office, service_code="kk", day=DAY, session_code="2", nik=NIK, name="Budi",
                                        phone=OWNER, email=None, secret_key=secret, providers={}, now=wib(6, 0))
        requests.request_booking(s, office, service_code="kk", day=DAY, session_code="2", nik=NIK2, name="Siti",
                                 phone=SQUATTER, email=None, secret_key=secret, providers={}, now=wib(6, 0))
    late_code = flow.sent_code(app, late.token)
    with db(app).session() as s:
        office = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        done = requests.confirm(s, office, late.token, late_code, secret_key=secret,
                                now=wib(6, 10), view=lambda b, sv: {})
        assert (done.ok, done.reason) == (False, "expired")
        assert requests.expire_requests(s, office, wib(6, 11)) == 1  # the idle one (locked, expired: not pending)
    with db(app).session() as s:
        rows = s.scalars(select(BookingRequest).order_by(BookingRequest.id)).all()
        assert [r.status for r in rows] == ["locked", "expired", "expired"]
        assert all(r.nik == "" and r.name == "" for r in rows)
        # The codes are gone from the outbox too (the one place they were in clear); an
        # unsent one is not sent any more.
        codes = s.scalars(select(Notice).where(Notice.kind == "booking_code")).all()
        assert len(codes) == 3 and all(n.body == requests.CODE_SCRUBBED and n.status == "gave_up" for n in codes)
        assert s.scalar(select(Booking.id)) is None
        actions = {a for a, in s.execute(select(AuditEntry.action))}
        assert {"booking.request_code_wrong", "booking.request_locked", "booking.request_expired"} <= actions


def test_code_and_outcome_reach_the_contact_by_real_e_mail(app, mailbox):
    providers = providers_from_config(notice_config(mailbox=mailbox, channels=("email",)))
    app.extensions["loket_notice_providers"] = providers
    c = client(app)
    # A phone and an e-mail given; only e-mail can be sent here: the code goes there, and
    # only that contact is kept.
    asked = flow.ask(c, **FORM, day=last_day(app), nik=NIK, phone=OWNER, email="Budi.Santoso@Example.ID")
    assert asked.status_code == 202 and asked.get_json()["contact"] == "b***@example.id"
    assert deliver_due(db(app).Session, providers)["sent"] == 1
    (code_mail,) = mailbox.messages
    assert code_mail["To"] == "budi.santoso@example.id"
    code = re.search(r"\b(\d{6})\b", code_mail.get_body(("plain",)).get_content()).group(1)
    done = flow.confirm(c, asked.get_json()["request"], code)
    assert done.status_code == 200 and done.get_json()["contact"] == "b***@example.id"
    assert deliver_due(db(app).Session, providers)["sent"] == 1
    booked_mail = mailbox.messages[1]
    text = booked_mail.get_body(("plain",)).get_content()
    with db(app).session() as s:
        booking = s.scalars(select(Booking)).one()
        assert booking.code in text and booking.code not in done.get_data(as_text=True)
        assert (booking.phone, booking.email) == ("", "budi.santoso@example.id")
        assert re.fullmatch(r"[0-9a-f]{64}", booking.contact_hash)
        request = s.scalars(select(BookingRequest)).one()
        assert (request.status, request.outcome, request.booking_id, request.nik) == ("confirmed", "booked",
                                                                                     booking.id, "")


def test_odd_input_to_both_steps_is_refused_not_a_server_error(app):
    c = client(app)
    day = last_day(app)
    odd = [{"name": "Budi\x00"}, {"phone": "0812\x003456"}, {"email": "a@b.c" + "x" * 300}, {"phone": 81234567890},
           {"phone": ["0812"]}, {"nik": 1471011205900001}, {"name": "x" * 5000}]
    for kw in odd:
        r = flow.ask(c, **{**FORM, "day": day, "nik": NIK, "phone": OWNER, **kw})
        assert r.status_code in (202, 400, 413, 422), (kw, r.status_code, r.get_data(as_text=True)[:200])
    token = flow.ask(c, **FORM, day=day, nik=NIK, phone=OWNER).get_json()["request"]
    for body in ({"request": token, "code": 123456}, {"request": {"x": 1}, "code": "1"}, {"request": token},
                 {"request": "\x00", "code": "\x00"}, {"request": token, "code": "12345\x00"}, {}):
        r = c.post(f"{flow.URL}/confirm", json=body, headers={"X-CSRFToken": c.csrf})
        assert r.status_code in (404, 422), (body, r.status_code, r.get_data(as_text=True)[:200])
