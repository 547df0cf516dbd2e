"""IKM satisfaction survey (issue 7, PermenPANRB 14/2017): the computation against a worked
example done by hand, the grade bands' edges, one response per ticket (also under two
simultaneous submissions), the refusals, the signed link, the counter tablet and the report
API. Real SQLite and PostgreSQL (``db_url``)."""
from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from server.models import AuditEntry, SurveyResponse, Ticket
from server.services.actors import PUBLIC
from server.services.errors import ValidationError
from server.services.queue import call_next, finish, issue_ticket
from server.services.survey import (
    SurveyAlreadyAnswered,
    SurveyLinkInvalid,
    SurveyNotServed,
    grade_of,
    ikm_of,
    ikm_report,
    submit_response,
    survey_signer,
    ticket_of_link,
)
from server.services.resi import ResiSigner, derive_key
from tests.conftest import wib
from tests.server.conftest import office

# The worked example: four respondents, U1..U9 each.
WORKED = [
    [4, 4, 3, 4, 3, 4, 4, 3, 4],
    [3, 3, 3, 4, 3, 3, 4, 3, 3],
    [4, 3, 2, 4, 3, 4, 4, 2, 3],
    [3, 4, 3, 4, 4, 3, 4, 3, 4],
]


def as_answers(values: list[int]) -> dict:
    return {f"u{i}": v for i, v in enumerate(values, start=1)}


def test_ikm_worked_example_by_hand():
    # Sums per element (column sums of WORKED):
    #   U1 4+3+4+3 = 14   U2 4+3+3+4 = 14   U3 3+3+2+3 = 11
    #   U4 4+4+4+4 = 16   U5 3+3+3+4 = 13   U6 4+3+4+3 = 14
    #   U7 4+4+4+4 = 16   U8 3+3+2+3 = 11   U9 4+3+3+4 = 14
    # NRR = sum / 4 responses:
    #   3.50 3.50 2.75 4.00 3.25 3.50 4.00 2.75 3.50
    # weighted NRR = NRR x 1/9:
    #   3.5/9 = 0.38888.. -> 0.389; 2.75/9 = 0.30555.. -> 0.306; 4/9 = 0.44444.. -> 0.444;
    #   3.25/9 = 0.36111.. -> 0.361
    # unit value = sum of weighted NRR = (3.5+3.5+2.75+4+3.25+3.5+4+2.75+3.5) / 9 = 30.75 / 9
    #            = 3.41666.. -> 3.417
    # IKM = 30.75 / 9 x 25 = 768.75 / 9 = 85.41666.. -> 85.42
    # 76.61 <= 85.42 <= 88.30: grade B, "Baik".
    sums = [sum(r[i] for r in WORKED) for i in range(9)]
    assert sums == [14, 14, 11, 16, 13, 14, 16, 11, 14]
    result = ikm_of(len(WORKED), sums)
    assert [e["nrr"] for e in result.elements] == [Decimal(x) for x in
                                                     ("3.500", "3.500", "2.750", "4.000", "3.250", "3.500", "4.000", "2.750", "3.500")]
    assert [e["weighted"] for e in result.elements] == [Decimal(x) for x in
                                                          ("0.389", "0.389", "0.306", "0.444", "0.361", "0.389", "0.444", "0.306", "0.389")]
    assert result.unit_value == Decimal("3.417")
    assert result.ikm == Decimal("85.42")
    assert (result.grade, result.performance_id) == ("B", "Baik")
    # The exact 1/9 weight, not 0.111: with 0.111 the IKM would be 30.75 x 0.111 x 25 = 85.33.
    assert result.ikm != Decimal("85.33")


def test_ikm_extremes_and_empty():
    assert ikm_of(3, [12] * 9).ikm == Decimal("100.00") and ikm_of(3, [12] * 9).grade == "A"
    lowest = ikm_of(2, [2] * 9)
    assert lowest.ikm == Decimal("25.00") and (lowest.grade, lowest.performance_id) == ("D", "Tidak Baik")
    empty = ikm_of(0, [0] * 9)
    assert empty.responses == 0 and empty.ikm is None and empty.grade is None


@pytest.mark.parametrize("ikm, grade, performance", [
    ("100.00", "A", "Sangat Baik"), ("88.31", "A", "Sangat Baik"), ("88.30", "B", "Baik"),
    ("76.61", "B", "Baik"), ("76.60", "C", "Kurang Baik"), ("65.00", "C", "Kurang Baik"),
    ("64.99", "D", "Tidak Baik"), ("25.00", "D", "Tidak Baik"),
    # Rounded half up to 2 decimals before the band is read:
    ("88.305", "A", "Sangat Baik"), ("88.3049", "B", "Baik"), ("64.995", "C", "Kurang Baik"),
])
def test_grade_band_edges(ikm, grade, performance):
    assert grade_of(Decimal(ikm))[:2] == (grade, performance)


def test_grade_edges_from_exact_fractions_and_out_of_range():
    assert grade_of(Fraction(17661, 200))[0] == "A"   # 88.305 exactly -> 88.31
    assert grade_of(Fraction(883049, 10000))[0] == "B"  # 88.3049 -> 88.30
    for bad in ("24.99", "100.01"):
        with pytest.raises(ValueError):
            grade_of(Decimal(bad))


# ---------------------------------------------------------------------------------------
def served_tickets(database, office_id, desk, n: int, service="ktp_el", start_hour=9) -> list[int]:
    """``n`` tickets issued, called and finished at ``desk`` on Monday 23 Nov 2026; ids."""
    ids = []
    for i in range(n):
        at = wib(start_hour, 2 * i)
        with database.session() as s:
            ticket = issue_ticket(s, office(s, office_id), service, actor=PUBLIC, now=at)
            ids.append(ticket.id)
        with database.session() as s:
            call_next(s, desk.counter_id, actor=desk.actor, now=at + timedelta(seconds=20))
        with database.session() as s:
            finish(s, desk.counter_id, actor=desk.actor, now=at + timedelta(seconds=90))
    return ids


def test_report_agrees_with_the_worked_example(database, office_id, open_desk):
    desk = open_desk(1, wib(8))
    ids = served_tickets(database, office_id, desk, 4)
    with database.session() as s:
        for ticket_id, values, comment in zip(ids, WORKED, ["Antrean cepat", None, "  ", "Ruang tunggu panas"]):
            submit_response(s, s.get(Ticket, ticket_id), as_answers(values), comment, channel="link", actor=PUBLIC,
                            now=wib(12))
    with database.session() as s:
        day = wib(9).date()
        report = ikm_report(s, office(s, office_id), day, day)
        overall = report["overall"]
        assert overall["responses"] == 4 and overall["ikm"] == 85.42 and overall["grade"] == "B"
        assert overall["unit_value"] == 3.417
        assert [e["sum"] for e in overall["elements"]] == [14, 14, 11, 16, 13, 14, 16, 11, 14]
        assert [(r["code"], r["responses"], r["ikm"]) for r in report["by_service"]] == [("ktp_el", 4, 85.42)]
        assert [(r["number"], r["ikm"]) for r in report["by_counter"]] == [(1, 85.42)]
        assert report["by_channel"] == {"counter": 0, "link": 4}
        # blank comments are not kept; the list names no officer or citizen
        assert sorted(c["comment"] for c in report["comments"]) == ["Antrean cepat", "Ruang tunggu panas"]
        assert not {"officer", "officer_id", "name", "nik"} & set(report["comments"][0])
        # filters: another counter, another period, another service
        assert ikm_report(s, office(s, office_id), day, day, counter=2)["overall"]["responses"] == 0
        assert ikm_report(s, office(s, office_id), day + timedelta(days=1), day + timedelta(days=2))["overall"]["ikm"] is None
        assert ikm_report(s, office(s, office_id), day, day, service="kk")["overall"]["responses"] == 0
        with pytest.raises(ValidationError):
            ikm_report(s, office(s, office_id), day, day, service="nope")
        with pytest.raises(ValidationError):
            ikm_report(s, office(s, office_id), day, day - timedelta(days=1))
        audits = s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "survey.submit"))
        assert audits == 4


def test_refusals_keep_nothing_and_the_first_answer(database, office_id, open_desk):
    desk = open_desk(1, wib(8))
    done_id, = served_tickets(database, office_id, desk, 1)
    with database.session() as s:
        waiting = issue_ticket(s, office(s, office_id), "ktp_el", actor=PUBLIC, now=wib(10))
        waiting_id = waiting.id
    good = as_answers(WORKED[0])
    with database.session() as s:
        with pytest.raises(SurveyNotServed):
            submit_response(s, s.get(Ticket, waiting_id), good, channel="link", actor=PUBLIC)
        for bad, field in ((dict(good, u3=5), "u3"), (dict(good, u7=0), "u7"), (dict(good, u1="x"), "u1"),
                           (dict(good, u2=True), "u2"), ({k: v for k, v in good.items() if k != "u9"}, "u9")):
            with pytest.raises(ValidationError) as err:
                submit_response(s, s.get(Ticket, done_id), bad, channel="link", actor=PUBLIC)
            assert err.value.details["field"] == field
        with pytest.raises(ValidationError) as err:
            submit_response(s, s.get(Ticket, done_id), good, "x" * 501, channel="link", actor=PUBLIC)
        assert err.value.details["field"] == "comment"
    with database.session() as s:
        assert s.scalar(select(func.count(SurveyResponse.id))) == 0
        submit_response(s, s.get(Ticket, done_id), good, "pertama", channel="link", actor=PUBLIC)
    with database.session() as s:
        with pytest.raises(SurveyAlreadyAnswered):
            submit_response(s, s.get(Ticket, done_id), as_answers([1] * 9), "kedua", channel="link", actor=PUBLIC)
    with database.session() as s:
        kept = s.scalars(select(SurveyResponse)).one()
        assert kept.comment == "pertama" and kept.values() == WORKED[0]
        assert (kept.counter_id, kept.officer_id) == (desk.counter_id, desk.actor.id)


def test_two_simultaneous_submissions_store_one(database, office_id, open_desk):
    desk = open_desk(1, wib(8))
    ticket_id, = served_tickets(database, office_id, desk, 1)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(values):
        try:
            barrier.wait(timeout=10)  # (SQLite takes its write lock at the first statement)
            with database.session() as s:
                submit_response(s, s.get(Ticket, ticket_id), as_answers(values), channel="link", actor=PUBLIC)
            outcomes.append("stored")
        except SurveyAlreadyAnswered:
            outcomes.append("refused")

    threads = [threading.Thread(target=answer, args=(v,)) for v in ([4] * 9, [1] * 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["refused", "stored"]
    with database.session() as s:
        assert s.scalar(select(func.count(SurveyResponse.id))) == 1
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "survey.submit")) == 1


def test_link_is_signed_without_personal_data(database, office_id, open_desk):
    desk = open_desk(1, wib(8))
    ticket_id, = served_tickets(database, office_id, desk, 1)
    signer = survey_signer("test-secret")
    with database.session() as s:
        ticket = s.get(Ticket, ticket_id)
        token = signer.token(ticket, office(s, office_id))
        assert token.startswith(f"LKS1.DEMO.{ticket.display_number}-20261123.{ticket.id}.")
        assert ticket_of_link(s, signer, token).id == ticket_id
        assert ticket_of_link(s, signer, f"https://loket.example/s/{token}").id == ticket_id
        body, sig = token.rsplit(".", 1)
        other = body.replace(f".{ticket.id}", f".{ticket.id + 1}")
        forged = [f"{other}.{sig}", f"{body}.{'A' * 26}", token.replace("DEMO", "DEMX")]
        for bad in forged:
            with pytest.raises(SurveyLinkInvalid) as err:
                ticket_of_link(s, signer, bad)
            assert err.value.details["reason"] == "forged"
        for bad in (token[:-3], "hello", ""):
            with pytest.raises(SurveyLinkInvalid):
                ticket_of_link(s, signer, bad)
        with pytest.raises(SurveyLinkInvalid):  # another secret
            ticket_of_link(s, survey_signer("other-secret"), token)
        # a resi QR signed with the same secret is not a survey link
        resi = ResiSigner(derive_key("test-secret")).make_payload(ticket.id, "DEMO", f"{ticket.display_number}-20261123")
        with pytest.raises(SurveyLinkInvalid):
            ticket_of_link(s, signer, resi)


def test_tablet_window_and_counters(database, office_id, open_desk):
    from server.services.accounts import create_device
    from server.services.actors import SYSTEM
    from server.services.errors import Forbidden
    from server.services.survey import SurveyExpired, SurveyWrongCounter, tablet_submit, tablet_ticket

    desk1, desk2 = open_desk(1, wib(8)), open_desk(2, wib(8))
    first, = served_tickets(database, office_id, desk1, 1, start_hour=9)    # finished 09:01:30
    other, = served_tickets(database, office_id, desk2, 1, start_hour=10)   # at counter 2
    with database.session() as s:
        device, _token = create_device(s, office_id, "survey", "Tablet Loket 1", actor=SYSTEM)
        device.settings = {"counters": [1]}
        kiosk, _token = create_device(s, office_id, "kiosk", "Kiosk", actor=SYSTEM)
        device_id, kiosk_id = device.id, kiosk.id
    answers = as_answers(WORKED[1])
    with database.session() as s:
        shown = tablet_ticket(s, device_id, now=wib(9, 20))
        assert shown["ticket"]["id"] == first and shown["counters"] == [{"number": 1, "label": "Loket 1"}]
        assert tablet_ticket(s, device_id, now=wib(9, 40))["ticket"] is None  # 30 min window passed
        with pytest.raises(SurveyExpired):
            tablet_submit(s, device_id, first, answers, now=wib(9, 40))
        with pytest.raises(SurveyWrongCounter):
            tablet_submit(s, device_id, other, answers, now=wib(10, 5))
        with pytest.raises(Forbidden):
            tablet_ticket(s, kiosk_id)
    with database.session() as s:
        response = tablet_submit(s, device_id, first, answers, "  Cepat\x00 ", now=wib(9, 20))
        assert (response.channel, response.device_id, response.comment) == ("counter", device_id, "Cepat")
    with database.session() as s:
        assert tablet_ticket(s, device_id, now=wib(9, 21))["ticket"] is None  # answered: idle
