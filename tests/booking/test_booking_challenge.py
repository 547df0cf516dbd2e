"""The optional anti-bot proof of work on booking (issue 6), on both databases: off by
default; when the office sets bits, a booking needs a fresh, genuine, solved challenge
bound to its NIK."""
from __future__ import annotations

import hashlib

import pytest

from server.services.booking import challenge
from server.services.errors import ValidationError
from tests.booking.test_booking_api import NIK, NIK2, book, client, last_day, set_booking
from tests.server.test_api import app  # noqa: F401  (app: fixture)

SECRET = "s" * 32


def test_solve_and_verify_rules():
    c = challenge.issue(SECRET, now=1_000_000)
    solution = challenge.solve(c, NIK, 10)
    digest = hashlib.sha256(f"{c}:{NIK}:{solution}".encode()).digest()
    assert challenge.leading_zero_bits(digest) >= 10
    challenge.verify(SECRET, c, NIK, solution, 10, now=1_000_100)
    challenge.verify(SECRET, "", NIK, "", 0)  # off: nothing asked
    cases = {"missing": ("", solution, 1_000_100), "forged": (c[:-1] + ("0" if c[-1] != "0" else "1"), solution, 1_000_100),
             "expired": (c, solution, 1_000_000 + challenge.TTL_S + 1), "other NIK": (c, solution, 1_000_100)}
    for what, (ch, sol, now) in cases.items():
        with pytest.raises(ValidationError) as err:
            challenge.verify(SECRET, ch, NIK2 if what == "other NIK" else NIK, sol, 10, now=now)
        assert err.value.details["field"] == "challenge", what
    assert challenge.leading_zero_bits(b"\x00\x0f") == 12 and challenge.office_bits({"booking": {"challenge_bits": 99}}) == 24


def test_booking_needs_the_check_only_when_the_office_sets_it(app):
    c = client(app)
    day = last_day(app)
    assert c.get("/api/v1/offices/DEMO/booking/challenge").get_json()["bits"] == 0
    assert book(c, day=day).outcome == "booked"  # off by default
    set_booking(app, challenge_bits=8)
    got = c.get("/api/v1/offices/DEMO/booking/challenge").get_json()
    assert got["bits"] == 8
    refused = book(c, day=day, nik=NIK2, name="Siti")
    assert refused.status_code == 422 and refused.get_json()["details"]["field"] == "challenge"
    solution = challenge.solve(got["challenge"], NIK2, 8)
    assert book(c, day=day, nik=NIK2, name="Siti", phone="081298765432", challenge=got["challenge"],
                solution=solution).outcome == "booked"
