"""The two-step booking as a citizen does it (issue 13), for tests: ask (POST …/bookings:
a code goes to the contact through the notice outbox), read the code from the queued
notice (the outbox row, as a provider would send it), confirm (POST …/bookings/confirm),
and read what the contact was told: the request's outcome, the booking and the outcome
notice. Nothing here is faked: every step is the real API on the real database."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from server.models import Booking, Notice
from server.models.booking import BookingRequest

URL = "/api/v1/offices/DEMO/bookings"


def db(app_):
    return app_.extensions["loket"].db


def ask(c, **body):
    """Step 1: POST the booking form ``body``; the Flask response."""
    headers = {"X-CSRFToken": c.csrf} if getattr(c, "csrf", None) else {}
    return c.post(URL, json=body, headers=headers)


def sent_code(app_, token: str) -> str:
    """The 6-digit code in the notice queued for request ``token``."""
    with db(app_).session() as s:
        request_id = s.scalar(select(BookingRequest.id).where(BookingRequest.token == token))
        body = s.scalar(select(Notice.body).where(Notice.dedupe_key == f"bkr{request_id}:code"))
    return re.search(r"\b(\d{6})\b", body).group(1)


def confirm(c, token: str, code: str):
    """Step 2: POST the code; the Flask response."""
    headers = {"X-CSRFToken": c.csrf} if getattr(c, "csrf", None) else {}
    return c.post(f"{URL}/confirm", json={"request": token, "code": code}, headers=headers)


@dataclass
class Booked:
    """What happened: ``status_code`` / ``answer`` of the last HTTP step (step 1 when it
    was refused, else step 2), ``answers`` (both), ``outcome`` ("booked", "already_booked",
    "broker_limit", "no_show_blocked", "session_full", "service_full"; None when step 2
    was not reached or refused), ``view`` (the booking's public view when one was made),
    ``notice`` (the outcome notice queued to the contact: kind, channel, recipient, body)."""

    status_code: int
    answer: dict
    answers: list = field(default_factory=list)
    outcome: str | None = None
    view: dict | None = None
    notice: dict | None = None

    def get_json(self) -> dict:
        return self.answer


def book(c, **body) -> Booked:
    """Both steps with the code the contact received."""
    app_ = c.application
    first = ask(c, **body)
    if first.status_code != 202:
        return Booked(first.status_code, first.get_json(), [first.get_json()])
    token = first.get_json()["request"]
    second = confirm(c, token, sent_code(app_, token))
    result = Booked(second.status_code, second.get_json(), [first.get_json(), second.get_json()])
    if second.status_code != 200:
        return result
    with db(app_).session() as s:
        request = s.scalars(select(BookingRequest).where(BookingRequest.token == token)).one()
        result.outcome = request.outcome
        code = s.scalar(select(Booking.code).where(Booking.id == request.booking_id)) if request.booking_id else None
        keys = [f"bk{request.booking_id}:booked", f"bkr{request.id}:outcome"]
        notice = s.scalars(select(Notice).where(Notice.dedupe_key.in_(keys))).first()
        if notice is not None:
            result.notice = {"kind": notice.kind, "channel": notice.channel, "recipient": notice.recipient,
                             "body": notice.body}
    if code:
        result.view = c.get(f"{URL}/{code}").get_json()
    return result


def book_code(app_, token: str) -> str | None:
    """The booking code made by confirmed request ``token`` (None: no booking)."""
    with db(app_).session() as s:
        booking_id = s.scalar(select(BookingRequest.booking_id).where(BookingRequest.token == token))
        return s.scalar(select(Booking.code).where(Booking.id == booking_id)) if booking_id else None
