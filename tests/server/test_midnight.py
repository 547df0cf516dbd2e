"""Midnight and closing time (issue 12 B), at fixed times, on SQLite and PostgreSQL.

- closing time 23:59 (or the demo's 23:59:59) means "until the end of the day"; every other
  closing time is exact to the second (``services.clock``);
- a ticket at a counter across office-local midnight is finished by its officer, not
  closed by the day close; one nobody will finish is closed after a grace, or at once when
  its counter was closed (``services.queue.day_close``).
"""
from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import func, select

from server.models import AuditEntry, Counter, Office, Ticket
from server.services.actors import PUBLIC
from server.services.clock import is_open, past_closing
from server.services.errors import InvalidState, OfficeClosed
from server.services.queue import call_next, close_day, finish, issue_ticket, skip, start, transfer
from server.services.queue.day_close import AT_COUNTER_GRACE, REASON_CLOSED, REASON_NOT_FINISHED
from tests.conftest import wib
from tests.server.conftest import office

SECOND = timedelta(seconds=1)


def set_hours(database, office_id: int, opening: time, closing: time) -> None:
    with database.session() as s:
        o = s.get(Office, office_id)
        o.opening_time, o.closing_time = opening, closing


def issue(database, office_id, at, service="ktp_el") -> Ticket:
    with database.session() as s:
        return issue_ticket(s, office(s, office_id), service, actor=PUBLIC, now=at)


def close(database, office_id, at) -> int:
    with database.session() as s:
        return close_day(s, office(s, office_id), now=at)


def ticket(database, tid) -> Ticket:
    with database.session() as s:
        return s.get(Ticket, tid)


def close_day_audits(database, tid) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_type == "ticket", AuditEntry.entity_id == tid, AuditEntry.action == "ticket.close_day"))


# -- closing time --------------------------------------------------------------------------
@pytest.mark.parametrize("closing", [time(23, 59), time(23, 59, 59)], ids=["23:59", "23:59:59"])
def test_closing_at_2359_means_until_the_end_of_the_day(database, office_id, closing):
    set_hours(database, office_id, time(0, 0), closing)
    last = wib(23, 59) + 59 * SECOND + timedelta(microseconds=999_999)
    with database.session() as s:
        o = office(s, office_id)
        assert is_open(o, wib(0, 0)) and is_open(o, wib(23, 59)) and is_open(o, last)
        assert not past_closing(o, wib(23, 59)) and not past_closing(o, last)
        assert is_open(o, wib(0, 0, day=24)) and not past_closing(o, wib(0, 0, day=24))
    late = issue(database, office_id, wib(23, 59) + 59 * SECOND)  # the last second still gives a number
    assert late.day.isoformat() == "2026-11-23"
    assert close(database, office_id, last) == 0  # never past closing on its own day
    assert ticket(database, late.id).status == "waiting"
    assert close(database, office_id, wib(0, 0, day=24)) == 1  # at midnight it is an earlier day's ticket
    closed = ticket(database, late.id)
    assert (closed.status, closed.end_reason) == ("cancelled", REASON_CLOSED)
    assert close_day_audits(database, late.id) == 1
    assert issue(database, office_id, wib(0, 0, day=24)).display_number == "A001"


def test_other_closing_times_are_exact_to_the_second(database, office_id):
    # the demo catalog: 07:30-16:00
    with database.session() as s:
        o = office(s, office_id)
        assert not is_open(o, wib(7, 29) + 59 * SECOND) and is_open(o, wib(7, 30))
        assert is_open(o, wib(15, 59) + 59 * SECOND) and not is_open(o, wib(16, 0))
        assert not past_closing(o, wib(15, 59) + 59 * SECOND) and past_closing(o, wib(16, 0))
    assert issue(database, office_id, wib(15, 59) + 59 * SECOND).display_number == "A001"
    with database.session() as s, pytest.raises(OfficeClosed):
        issue_ticket(s, office(s, office_id), "ktp_el", actor=PUBLIC, now=wib(16, 0))
    set_hours(database, office_id, time(7, 30), time(23, 58))  # one minute earlier is exact again
    with database.session() as s:
        o = office(s, office_id)
        assert is_open(o, wib(23, 57) + 59 * SECOND) and not is_open(o, wib(23, 58))
        assert past_closing(o, wib(23, 58))
    assert close(database, office_id, wib(23, 57) + 59 * SECOND) == 0
    assert close(database, office_id, wib(23, 58)) == 1


# -- a ticket at a counter across midnight ---------------------------------------------------
def test_a_ticket_served_across_midnight_is_finished_by_its_officer(database, office_id, open_desk):
    set_hours(database, office_id, time(0, 0), time(23, 59))
    desk = open_desk(1, wib(22, 0))
    served = issue(database, office_id, wib(23, 40))
    left_waiting = issue(database, office_id, wib(23, 45))
    with database.session() as s:
        assert call_next(s, desk.counter_id, actor=desk.actor, now=wib(23, 50)).ticket.id == served.id
        start(s, desk.counter_id, actor=desk.actor, now=wib(23, 52))
    # after midnight: yesterday's waiting ticket closes, the one being served does not
    assert close(database, office_id, wib(0, 0, day=24) + SECOND) == 1
    assert close(database, office_id, wib(0, 30, day=24)) == 0
    assert ticket(database, left_waiting.id).status == "cancelled"
    assert ticket(database, served.id).status == "serving"
    today = issue(database, office_id, wib(0, 5, day=24))
    assert today.display_number == "A001"
    with database.session() as s:  # "finish and call next": yesterday's finished, today's called
        call = call_next(s, desk.counter_id, actor=desk.actor, finish_current=True, now=wib(0, 40, day=24))
        assert call.ticket.id == today.id
    done = ticket(database, served.id)
    assert (done.status, done.end_reason) == ("done", None)
    assert done.started_at == wib(23, 52) and done.finished_at == wib(0, 40, day=24)
    assert close_day_audits(database, served.id) == 0
    with database.session() as s:  # and a plain finish of today's ticket still works
        assert finish(s, desk.counter_id, actor=desk.actor, now=wib(0, 50, day=24)).status == "done"


def test_a_called_ticket_across_midnight_can_be_finished_skipped_not_transferred(database, office_id, open_desk):
    set_hours(database, office_id, time(0, 0), time(23, 59))
    d1, d2 = open_desk(1, wib(22, 0)), open_desk(2, wib(22, 0))
    a, b = issue(database, office_id, wib(23, 40)), issue(database, office_id, wib(23, 41))
    with database.session() as s:
        call_next(s, d1.counter_id, actor=d1.actor, now=wib(23, 58))
        call_next(s, d2.counter_id, actor=d2.actor, now=wib(23, 58))
    assert close(database, office_id, wib(0, 1, day=24)) == 0
    with database.session() as s, pytest.raises(InvalidState, match="finish it"):
        transfer(s, d1.counter_id, "kk", actor=d1.actor, now=wib(0, 2, day=24))
    with database.session() as s:
        assert finish(s, d1.counter_id, actor=d1.actor, now=wib(0, 3, day=24)).id == a.id
        skipped = skip(s, d2.counter_id, actor=d2.actor, now=wib(0, 3, day=24))
        assert skipped.id == b.id and skipped.status == "waiting"  # back in its own day's queue, which is over
    assert ticket(database, a.id).status == "done"
    assert close(database, office_id, wib(0, 4, day=24)) == 1
    assert (ticket(database, b.id).status, ticket(database, b.id).end_reason) == ("cancelled", REASON_CLOSED)


def test_a_ticket_left_at_a_counter_is_closed_after_the_grace(database, office_id, open_desk):
    set_hours(database, office_id, time(0, 0), time(23, 59))
    desk = open_desk(1, wib(22, 0))
    left = issue(database, office_id, wib(23, 40))
    with database.session() as s:
        call_next(s, desk.counter_id, actor=desk.actor, now=wib(23, 50))
    grace_ends = wib(23, 50) + AT_COUNTER_GRACE
    assert close(database, office_id, grace_ends - SECOND) == 0
    assert close(database, office_id, grace_ends) == 1
    closed = ticket(database, left.id)
    assert (closed.status, closed.end_reason, closed.finished_at) == ("cancelled", REASON_NOT_FINISHED, grace_ends)
    assert closed.called_at == wib(23, 50)  # timestamps kept
    assert close_day_audits(database, left.id) == 1
    assert close(database, office_id, grace_ends + timedelta(minutes=1)) == 0  # idempotent
    today = issue(database, office_id, grace_ends + timedelta(minutes=5))
    with database.session() as s:  # the counter is free again
        assert call_next(s, desk.counter_id, actor=desk.actor, now=grace_ends + timedelta(minutes=6)).ticket.id == today.id


def test_a_ticket_of_a_16_00_office_forgotten_at_the_counter_closes_after_midnight(database, office_id, open_desk):
    desk = open_desk(1, wib(7, 30))  # the demo catalog: 07:30-16:00
    forgotten = issue(database, office_id, wib(15, 50))
    with database.session() as s:
        call_next(s, desk.counter_id, actor=desk.actor, now=wib(15, 55))
    assert close(database, office_id, wib(23, 59)) == 0  # its own day: left to the officer
    assert close(database, office_id, wib(0, 0, day=24)) == 1  # idle 8 h at the first check after midnight
    assert ticket(database, forgotten.id).end_reason == REASON_NOT_FINISHED


def test_a_ticket_at_a_closed_counter_is_closed_at_the_next_check(database, office_id, open_desk):
    set_hours(database, office_id, time(0, 0), time(23, 59))
    desk = open_desk(1, wib(22, 0))
    stuck = issue(database, office_id, wib(23, 40))
    with database.session() as s:
        call_next(s, desk.counter_id, actor=desk.actor, now=wib(23, 50))
        start(s, desk.counter_id, actor=desk.actor, now=wib(23, 55))
    with database.session() as s:  # closed behind the queue engine's back (close_counter refuses while busy)
        counter = s.get(Counter, desk.counter_id)
        counter.state, counter.officer_id = "closed", None
    assert close(database, office_id, wib(23, 59)) == 0  # today's: never closed at a counter
    assert close(database, office_id, wib(0, 0, day=24)) == 1  # an earlier day's, nobody can finish it
    assert ticket(database, stuck.id).end_reason == REASON_NOT_FINISHED
