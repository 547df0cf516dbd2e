"""AKAPELA registration (bad input says what is wrong and saves nothing), the public status
look-up (number + last 4 phone digits), and the period report against a direct
computation; on SQLite and PostgreSQL."""
from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from server.models import AuditEntry, Complaint, ComplaintSequence, ComplaintStep, Office
from server.services.actors import PUBLIC
from server.services.applications.resi_lookup import CheckThrottle, TooManyAttempts
from server.services.complaints import ContactInvalid, answer, close, escalate, reply
from server.services.complaints.registration import normalize_number
from server.services.complaints.report import complaint_report
from server.services.complaints.views import lookup_status, public_view
from server.services.errors import NotFound, ValidationError
from tests.conftest import wib

from .conftest import KK, act, register

T0 = wib(9, 0)


def counts(database) -> tuple[int, int, int, int]:
    with database.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (Complaint, ComplaintStep, ComplaintSequence)) + (
            s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_type == "complaint")),)


BAD_INPUT = [
    ({"id_number": "1471011205900000"}, {"id_number"}),  # serial 0000
    ({"id_number": "147101320590001"}, {"id_number"}),  # 15 digits
    ({"id_kind": "kk", "id_number": "1471013201150003"}, {"id_number"}),  # KK issue day 32
    ({"id_kind": "passport"}, {"id_kind"}),
    ({"resi_number": "DEMO-B-20261123-9999"}, {"resi_number"}),  # well formed, unknown
    ({"resi_number": "not a resi"}, {"resi_number"}),
    ({"text": "   "}, {"text"}),
    ({"text": "x" * 2001}, {"text"}),
    ({"phone": "12ab"}, {"phone"}),
    ({"channel": "fax", "kind": "praise", "name": ""}, {"channel", "kind", "name"}),
]


def test_bad_input_is_named_and_nothing_is_saved(database, office_id, people):
    for fields, bad in BAD_INPUT:
        with pytest.raises(ContactInvalid) as err:
            register(database, office_id, people["front_office"], T0, **fields)
        assert set(err.value.errors) == bad, fields
        assert err.value.code == "validation_error" and all(" / " in m for m in err.value.errors.values())
        assert counts(database) == (0, 0, 0, 0)


def test_family_card_number_and_public_web_form(database, office_id, people):
    c = register(database, office_id, people["front_office"], T0, id_kind="kk", id_number="1471-0101-0115-0003")
    assert (c.id_kind, c.id_number) == ("kk", KK)
    with pytest.raises(ContactInvalid) as err:  # the public registers on the web form only
        register(database, office_id, PUBLIC, T0, channel="phone")
    assert set(err.value.errors) == {"channel"}
    web = register(database, office_id, PUBLIC, T0, channel="web_form")
    assert (web.created_by, web.stage, web.holder_role) == (None, "officer", "front_office")
    with database.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.entity_id == web.id, AuditEntry.entity_type == "complaint")).one()
        assert (entry.actor_type, entry.action) == ("public", "complaint.register")


def test_status_look_up_needs_the_phone_digits_and_shows_nothing_personal(database, office_id, people):
    fo = people["front_office"]
    c = register(database, office_id, fo, T0, phone="+62 812 3456 7890")
    act(database, close, c.id, fo, T0 + timedelta(minutes=5), "Dokumen Anda sudah selesai.")
    throttle = CheckThrottle()
    with database.session() as s:
        office = s.get(Office, office_id)
        found = lookup_status(s, office, "akp 20261123 1", "7890", throttle=throttle)
        view = public_view(office, found)
    assert view["answer"] == "Dokumen Anda sudah selesai." and view["status"] == "closed"
    flat = repr(view)
    for secret in ("Siti", "1471011205900001", "3456", "KTP-el saya"):
        assert secret not in flat
    with database.session() as s:
        office = s.get(Office, office_id)
        with pytest.raises(NotFound) as wrong:
            lookup_status(s, office, c.number, "7891", throttle=throttle)
        with pytest.raises(NotFound) as unknown:
            lookup_status(s, office, "AKP-20261123-0002", "7890", throttle=throttle)
        assert wrong.value.message == unknown.value.message  # a guessed number learns nothing
        for number, check, field in ((c.number, "78", "check"), ("12345", "7890", "number")):
            with pytest.raises(ValidationError) as err:
                lookup_status(s, office, number, check, throttle=throttle)
            assert err.value.details["field"] == field
        for _ in range(9):
            with pytest.raises(NotFound):
                lookup_status(s, office, c.number, "0000", throttle=throttle)
        with pytest.raises(TooManyAttempts):  # 10 failures for this number: even the right digits wait
            lookup_status(s, office, c.number, "7890", throttle=throttle)
    assert normalize_number("AKP-20261123-0001") == "AKP-20261123-0001" and normalize_number("AKP-1-1") is None


def test_report_agrees_with_a_direct_computation(database, office_id, people):
    fo, kasi = people["front_office"], people["section_head"]
    # (offset min from 09:00, kind, channel, [(action, minutes after registration)])
    plan = [
        (0, "information", "phone", [("close", 2)]),
        (10, "complaint", "whatsapp", [("answer", 4), ("escalate", 5), ("reply", 25), ("close", 31)]),
        (20, "complaint", "walk_in", [("escalate", 1)]),  # still open at the Kasi
        (30, "information", "web_form", [("answer", 7)]),  # answered, not closed
        (45, "complaint", "phone", [("close", 13.5)]),
        (24 * 60, "information", "phone", [("close", 1)]),  # the next day: outside a one-day report
    ]
    for offset, kind, channel, actions in plan:
        at = T0 + timedelta(minutes=offset)
        c = register(database, office_id, PUBLIC if channel == "web_form" else fo, at, kind=kind, channel=channel)
        for action, after in actions:
            fn, args = {"close": (close, ("Selesai",)), "answer": (answer, ("Sedang diproses",)),
                        "escalate": (escalate, ("Kebijakan?",)), "reply": (reply, ("Boleh.",))}[action]
            c = act(database, fn, c.id, kasi if action == "reply" else fo, at + timedelta(minutes=after), *args)

    with database.session() as s:
        office = s.get(Office, office_id)
        report = complaint_report(s, office, date(2026, 11, 23), date(2026, 11, 23))
        rows = s.scalars(select(Complaint).where(Complaint.created_at >= T0 - timedelta(hours=2),
                                                 Complaint.created_at < T0 + timedelta(hours=15))).all()
    first = [(c.first_answer_at - c.created_at).total_seconds() for c in rows if c.first_answer_at]
    done = [(c.closed_at - c.created_at).total_seconds() for c in rows if c.closed_at]
    assert len(rows) == 5 and sorted(first) == [120, 240, 420, 810] and sorted(done) == [120, 810, 1860]
    t = report["totals"]
    assert (t["contacts"], t["closed"], t["open"]) == (5, 3, 2)
    assert t["first_answer"] == {"count": 4, "mean_s": round(statistics.fmean(first), 1),
                                 "median_s": round(statistics.median(first), 1), "max_s": 810}
    assert t["first_answer"]["mean_s"] == 397.5 and t["first_answer"]["median_s"] == 330.0
    assert t["resolution"] == {"count": 3, "mean_s": 930.0, "median_s": 810.0, "max_s": 1860}
    assert report["by_kind"] == {"information": 2, "complaint": 3}
    assert report["by_channel"] == {"phone": 2, "whatsapp": 1, "walk_in": 1, "web_form": 1}
    assert report["by_outcome"] == {"officer": 2, "section_head": 1, "division_head": 0, "editor": 0,
                                    "approval_chain": 0, "pickup": 0, "open": 2}
    assert report["kinds"]["complaint"]["resolution"]["median_s"] == 1335.0  # (810 + 1860) / 2
    with database.session() as s:
        office = s.get(Office, office_id)
        assert complaint_report(s, office, date(2026, 11, 23), date(2026, 11, 24))["totals"]["contacts"] == 6
        with pytest.raises(ValidationError):
            complaint_report(s, office, date(2026, 11, 24), date(2026, 11, 23))
