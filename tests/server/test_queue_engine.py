"""Queue engine rules, each on SQLite and on PostgreSQL (db_url is parametrized)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from server.models import AuditEntry, Call, Service, Ticket
from server.services import events
from server.services.actors import PUBLIC
from server.services.errors import (
    CounterBusy, CounterNotOpen, Forbidden, InvalidState, NotFound, OfficeClosed, QueueEmpty, ServiceUnavailable,
    ValidationError,
)
from server.services.queue import (
    call_next, call_specific, cancel_ticket, close_counter, close_day, estimate_wait, finish, issue_ticket,
    pause_counter, recall, resume_counter, skip, start, transfer,
)
from tests.conftest import wib
from tests.server.conftest import office

T0 = wib(8, 0)


def issue(database, office_id, service="ktp_el", at=T0, **kw) -> Ticket:
    with database.session() as s:
        return issue_ticket(s, office(s, office_id), service, actor=PUBLIC, now=at, **kw)


def next_for(database, desk, at, **kw) -> Ticket:
    with database.session() as s:
        return call_next(s, desk.counter_id, actor=desk.actor, now=at, **kw).ticket


def ticket(database, tid) -> Ticket:
    with database.session() as s:
        return s.get(Ticket, tid)


def test_numbers_per_service_per_day_with_letter_and_three_digits(database, office_id):
    a1, a2 = issue(database, office_id), issue(database, office_id, at=T0 + timedelta(seconds=1))
    b1 = issue(database, office_id, "kk")
    assert (a1.display_number, a2.display_number, b1.display_number) == ("A001", "A002", "B001")
    tomorrow = issue(database, office_id, at=wib(8, 0, day=24))
    assert tomorrow.display_number == "A001"


def test_day_follows_office_local_time(database, office_id):
    # 23:30 UTC on the 23rd is 06:30 on the 24th in Jakarta: the office is not open yet.
    with pytest.raises(OfficeClosed):
        issue(database, office_id, at=wib(6, 30, day=24))
    assert issue(database, office_id, at=wib(7, 30, day=24)).day.isoformat() == "2026-11-24"


def test_unknown_service_priority_and_inactive(database, office_id):
    with pytest.raises(NotFound):
        issue(database, office_id, "nope")
    with pytest.raises(ValidationError):
        issue(database, office_id, priority_kind="vip")
    with database.session() as s:
        s.scalars(select(Service).where(Service.office_id == office_id, Service.code == "kk")).one().active = False
    with pytest.raises(ServiceUnavailable):
        issue(database, office_id, "kk")
    assert issue(database, office_id, "ktp_el").display_number == "A001"  # the other services still issue
    with database.session() as s:
        assert s.scalars(select(Ticket.display_number).order_by(Ticket.id)).all() == ["A001"]  # none for kk


def test_lifecycle_keeps_every_timestamp_and_audits(database, office_id, open_desk):
    desk = open_desk(1, T0)
    t = issue(database, office_id)
    called = next_for(database, desk, T0 + timedelta(minutes=5))
    assert called.id == t.id and called.status == "called"
    with database.session() as s:
        start(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=6))
        finish(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=16))
    done = ticket(database, t.id)
    assert done.status == "done"
    assert done.issued_at == T0
    assert done.first_called_at == done.called_at == T0 + timedelta(minutes=5)
    assert done.started_at == T0 + timedelta(minutes=6)
    assert done.finished_at == T0 + timedelta(minutes=16)
    assert done.counter_id == desk.counter_id and done.officer_id == desk.actor.id
    with database.session() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_type == "ticket", AuditEntry.entity_id == t.id).order_by(AuditEntry.id)).all()
    assert actions == ["ticket.issue", "ticket.call", "ticket.start", "ticket.finish"]


def test_call_next_is_fifo_over_all_services_of_the_counter(database, office_id, open_desk):
    desk = open_desk(1, T0)  # counter 1 serves ktp_el and kk
    b = issue(database, office_id, "kk", at=T0)
    a = issue(database, office_id, "ktp_el", at=T0 + timedelta(seconds=10))
    issue(database, office_id, "kia", at=T0 - timedelta(minutes=1))  # not served at counter 1
    first = next_for(database, desk, T0 + timedelta(minutes=1))
    assert first.id == b.id
    with database.session() as s:
        finish(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=2))
    assert next_for(database, desk, T0 + timedelta(minutes=3)).id == a.id
    with database.session() as s:
        finish(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=4))
    with pytest.raises(QueueEmpty):
        next_for(database, desk, T0 + timedelta(minutes=5))


def test_priority_interleaves_one_to_two(database, office_id, open_desk):
    desk = open_desk(1, T0)
    regular = [issue(database, office_id, at=T0 + timedelta(seconds=i)) for i in range(5)]
    prio = [issue(database, office_id, at=T0 + timedelta(seconds=10 + i), priority_kind="lansia") for i in range(2)]
    order = []
    for i in range(7):
        at = T0 + timedelta(minutes=1 + i)
        order.append(next_for(database, desk, at).id)
        with database.session() as s:
            finish(s, desk.counter_id, actor=desk.actor, now=at + timedelta(seconds=30))
    r, p = [t.id for t in regular], [t.id for t in prio]
    assert order == [r[0], r[1], p[0], r[2], r[3], p[1], r[4]]


def test_aging_calls_a_long_waiting_ticket_first(database, office_id, open_desk):
    desk = open_desk(3, T0)  # serves kk, kia, pelita1
    old = issue(database, office_id, "pelita1", at=T0)
    prio = issue(database, office_id, "kk", at=T0 + timedelta(minutes=61), priority_kind="ibu_hamil")
    with database.session() as s:
        from server.models import Counter
        s.get(Counter, desk.counter_id).regular_since_priority = 5  # priority would be due
    got = next_for(database, desk, T0 + timedelta(minutes=62))  # old has waited 62 > 60 min
    assert got.id == old.id
    assert ticket(database, prio.id).status == "waiting"  # re-read: ``prio`` is the detached copy from its issue


def test_two_counters_never_get_the_same_ticket(database, office_id, open_desk):
    d1, d2 = open_desk(1, T0), open_desk(2, T0)
    a, b = issue(database, office_id), issue(database, office_id, at=T0 + timedelta(seconds=1))
    got1 = next_for(database, d1, T0 + timedelta(minutes=1))
    got2 = next_for(database, d2, T0 + timedelta(minutes=1))
    assert {got1.id, got2.id} == {a.id, b.id}
    with pytest.raises(QueueEmpty):
        with database.session() as s:
            finish(s, d1.counter_id, actor=d1.actor)
            call_next(s, d1.counter_id, actor=d1.actor, now=T0 + timedelta(minutes=2))


def test_counter_busy_until_finished_or_finish_current(database, office_id, open_desk):
    desk = open_desk(1, T0)
    issue(database, office_id)
    second = issue(database, office_id, at=T0 + timedelta(seconds=1))
    next_for(database, desk, T0 + timedelta(minutes=1))
    with pytest.raises(CounterBusy):
        next_for(database, desk, T0 + timedelta(minutes=2))
    with database.session() as s:
        start(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=2))
    got = next_for(database, desk, T0 + timedelta(minutes=3), finish_current=True)
    assert got.id == second.id


def test_recall_adds_a_call_and_keeps_the_ticket(database, office_id, open_desk):
    desk = open_desk(1, T0)
    t = issue(database, office_id)
    next_for(database, desk, T0 + timedelta(minutes=1))
    with database.session() as s:
        call = recall(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=2))
        assert call.kind == "recall"
    with database.session() as s:
        kinds = s.scalars(select(Call.kind).where(Call.ticket_id == t.id).order_by(Call.id)).all()
        assert kinds == ["call", "recall"]
        again = s.get(Ticket, t.id)
        assert again.status == "called" and again.recall_count == 1
        assert again.first_called_at == T0 + timedelta(minutes=1)


def test_call_specific_number_out_of_order(database, office_id, open_desk):
    desk = open_desk(1, T0)
    issue(database, office_id)
    b = issue(database, office_id, at=T0 + timedelta(seconds=1))
    issue(database, office_id, "kia")
    with database.session() as s:
        assert call_specific(s, desk.counter_id, "a002", actor=desk.actor, now=T0 + timedelta(minutes=1)).ticket_id == b.id
    with database.session() as s:
        finish(s, desk.counter_id, actor=desk.actor)
        with pytest.raises(InvalidState):  # C001 is not served at counter 1
            call_specific(s, desk.counter_id, "C001", actor=desk.actor, now=T0 + timedelta(minutes=2))
    with database.session() as s, pytest.raises(NotFound):
        call_specific(s, desk.counter_id, "A999", actor=desk.actor, now=T0 + timedelta(minutes=2))


def test_skip_requeues_after_n_calls_then_no_show(database, office_id, open_desk):
    desk = open_desk(1, T0)  # skip_requeue_after_calls = 3, skip_limit = 2
    tickets = [issue(database, office_id, at=T0 + timedelta(seconds=i)) for i in range(6)]
    minute = iter(range(1, 100))

    def at():
        return T0 + timedelta(minutes=next(minute))

    assert next_for(database, desk, at()).id == tickets[0].id
    with database.session() as s:
        skipped = skip(s, desk.counter_id, actor=desk.actor, now=at())
        assert skipped.status == "waiting" and skipped.skip_count == 1
    order = []
    for _ in range(4):
        order.append(next_for(database, desk, at()).id)
        with database.session() as s:
            finish(s, desk.counter_id, actor=desk.actor, now=at())
    # three other calls, then the skipped ticket comes back ahead of later tickets
    assert order == [tickets[1].id, tickets[2].id, tickets[3].id, tickets[0].id]
    # skipped once, called back by number, skipped again: the 2nd skip makes it no-show
    t5 = next_for(database, desk, at())
    assert t5.id == tickets[4].id
    with database.session() as s:
        skip(s, desk.counter_id, actor=desk.actor, now=at())
    with database.session() as s:
        call_specific(s, desk.counter_id, t5.display_number, actor=desk.actor, now=at())
        gone = skip(s, desk.counter_id, actor=desk.actor, now=at())
        assert gone.status == "no_show" and gone.finished_at is not None
    # a no-show who comes back late can be called by number
    with database.session() as s:
        back = call_specific(s, desk.counter_id, t5.display_number, actor=desk.actor, now=at())
        assert back.ticket.status == "called"


def test_transfer_to_front_or_back_keeps_the_number(database, office_id, open_desk):
    desk = open_desk(1, T0)
    kk_waiting = issue(database, office_id, "kk", at=T0 - timedelta(minutes=5))
    a = issue(database, office_id, "ktp_el", at=T0)
    with database.session() as s:
        call_specific(s, desk.counter_id, a.display_number, actor=desk.actor, now=T0 + timedelta(minutes=1))
        moved = transfer(s, desk.counter_id, "kk", actor=desk.actor, to_front=True, now=T0 + timedelta(minutes=2))
    assert moved.display_number == "A001" and moved.service_id != a.service_id
    assert ticket(database, a.id).status == "transferred"
    assert next_for(database, desk, T0 + timedelta(minutes=3)).id == moved.id  # ahead of kk_waiting
    with database.session() as s:
        again = transfer(s, desk.counter_id, "ktp_el", actor=desk.actor, to_front=False, now=T0 + timedelta(minutes=4))
        assert again.transfer_seq == 2
    assert next_for(database, desk, T0 + timedelta(minutes=5)).id == kk_waiting.id
    with database.session() as s, pytest.raises(ValidationError):
        transfer(s, desk.counter_id, "kk", actor=desk.actor)


def test_pause_resume_close_rules(database, office_id, open_desk):
    desk = open_desk(1, T0)
    issue(database, office_id)
    with database.session() as s, pytest.raises(ValidationError):
        pause_counter(s, desk.counter_id, "", actor=desk.actor)
    with database.session() as s:
        pause_counter(s, desk.counter_id, "Istirahat sholat", actor=desk.actor, now=T0)
    with pytest.raises(CounterNotOpen):
        next_for(database, desk, T0 + timedelta(minutes=1))
    with database.session() as s:
        resume_counter(s, desk.counter_id, actor=desk.actor, now=T0 + timedelta(minutes=2))
    next_for(database, desk, T0 + timedelta(minutes=3))
    with database.session() as s, pytest.raises(CounterBusy):
        close_counter(s, desk.counter_id, actor=desk.actor)
    with database.session() as s:
        finish(s, desk.counter_id, actor=desk.actor)
        close_counter(s, desk.counter_id, actor=desk.actor)


def test_only_the_counter_officer_acts(database, office_id, open_desk):
    d1, d2 = open_desk(1, T0), open_desk(2, T0)
    issue(database, office_id)
    with database.session() as s, pytest.raises(Forbidden):
        call_next(s, d1.counter_id, actor=d2.actor, now=T0 + timedelta(minutes=1))


def test_closing_time_closes_waiting_tickets_and_keeps_them(database, office_id, open_desk):
    desk = open_desk(1, T0)
    waiting = issue(database, office_id, at=wib(15, 50))
    served = issue(database, office_id, at=wib(15, 51))
    with database.session() as s:
        call_specific(s, desk.counter_id, served.display_number, actor=desk.actor, now=wib(15, 55))
        assert close_day(s, office(s, office_id), now=wib(15, 59)) == 0
    with database.session() as s:
        assert close_day(s, office(s, office_id), now=wib(16, 0)) == 1
        assert close_day(s, office(s, office_id), now=wib(16, 1)) == 0  # idempotent
    closed = ticket(database, waiting.id)
    assert closed.status == "cancelled" and closed.end_reason.startswith("office closed")
    assert closed.issued_at == wib(15, 50)
    assert ticket(database, served.id).status == "called"  # at the counter: left to the officer
    with database.session() as s:  # the next morning, yesterday's leftovers close too
        assert close_day(s, office(s, office_id), now=wib(7, 0, day=24)) == 1
    assert issue(database, office_id, at=wib(7, 31, day=24)).display_number == "A001"


def test_cancel_only_waiting(database, office_id, open_desk):
    t = issue(database, office_id)
    with database.session() as s:
        assert cancel_ticket(s, t.id, actor=PUBLIC, reason="left").status == "cancelled"
    with database.session() as s, pytest.raises(InvalidState):
        cancel_ticket(s, t.id, actor=PUBLIC)


def test_estimate_uses_measured_service_time_and_counters(database, office_id, open_desk):
    d1 = open_desk(6, T0)  # counter 6 serves pickup only (counter_minutes 10)
    tickets = [issue(database, office_id, "pickup", at=T0 + timedelta(seconds=i)) for i in range(5)]
    with database.session() as s:
        est = estimate_wait(s, s.get(Ticket, tickets[4].id), now=T0)
        # counter 8 serves info+pickup but is closed; counter 6 open → 1 effective counter
        assert est.people_ahead == 4 and est.counters == 1.0
        assert est.wait_s == pytest.approx(4 * 600)
    for i in range(2):  # two services measured at 4 minutes each
        at = T0 + timedelta(minutes=10 * i + 1)
        next_for(database, d1, at)
        with database.session() as s:
            start(s, d1.counter_id, actor=d1.actor, now=at)
            finish(s, d1.counter_id, actor=d1.actor, now=at + timedelta(minutes=4))
    with database.session() as s:
        est = estimate_wait(s, s.get(Ticket, tickets[4].id), now=T0 + timedelta(minutes=30))
        assert est.people_ahead == 2 and est.wait_s == pytest.approx(2 * 240)


def test_events_are_published_only_after_commit(database, office_id):
    published, logged = [], []
    events.install(database.Session, lambda evs, entries: (published.extend(evs), logged.extend(entries)))
    issue(database, office_id)
    assert [e.name for e in published] == ["ticket.issued"]
    # logged in the transaction: one "ticket" entry in each office stream, after the catalog
    # load's "resync" at position 1
    assert sorted((e.stream, e.position, e.name) for e in logged) == [("public", 2, "ticket"), ("staff", 2, "ticket")]
    with pytest.raises(RuntimeError):
        with database.session() as s:
            issue_ticket(s, office(s, office_id), "ktp_el", actor=PUBLIC, now=T0)
            raise RuntimeError("rolled back")
    assert len(published) == 1 and len(logged) == 2


def test_a_ticket_transferred_into_an_untouched_service_can_be_called(database, office_id, open_desk):
    d1, d4 = open_desk(1, T0), open_desk(4, T0)  # counter 4 serves pelita1 and kia
    a = issue(database, office_id)
    next_for(database, d1, T0 + timedelta(minutes=1))
    with database.session() as s:
        moved = transfer(s, d1.counter_id, "kia", actor=d1.actor, now=T0 + timedelta(minutes=2))
    assert next_for(database, d4, T0 + timedelta(minutes=3)).id == moved.id
    assert moved.display_number == a.display_number
