"""What one officer's "finish and call next" costs the database (issue 12, "Speed"): the SQL
statements of one ``POST /api/v1/counters/<id>/call-next {"finish_current": true}`` counted
with a ``before_cursor_execute`` listener on SQLite and PostgreSQL (a count, not a timing),
and what the merged statements of PostgreSQL must still write: the same tickets, call,
call count, audit rows (in order) and event-log entries (gapless, in order) as SQLite's
one-by-one statements."""
from __future__ import annotations

from sqlalchemy import select

from server.models import AuditEntry, Call, StreamEntry, Ticket, TicketSequence
from server.services import events as ev
from server.services import stream_log
from tests.server.test_api import app, counter_id, kiosk_issue, post, staff_client  # noqa: F401  (app: fixture)
from tests.server.test_issue_cost import dialect, statements

#: Statements of one call-next with ``finish_current`` on a warm worker (the officer
#: cached): lock the counter (with its services and office), the ticket at it, the four
#: line heads, lock the chosen ticket; then the writes: on PostgreSQL one statement of
#: data-modifying CTEs (the finish, the call, the counter's streak, the call count, the
#: call row, both audit rows) and one for the event log (head and entries); on SQLite
#: those are 6 + 2 statements, with BEGIN IMMEDIATE on top. Before this change: 12 on
#: PostgreSQL (13 on SQLite).
BUDGET = {"sqlite": 13, "postgresql": 6}
PG_STATEMENTS = ["SELECT counters.id,", "SELECT tickets.id,", "SELECT anon_1.line,", "SELECT tickets.id,",
                 "WITH w0", "WITH stream_head"]


def _officer(app):
    fo1 = staff_client(app, "fo1")
    cid = counter_id(app, 1)
    assert post(fo1, f"/api/v1/counters/{cid}/open").status_code == 200
    return fo1, cid


def test_finish_and_call_next_runs_a_fixed_handful_of_statements(app):
    for _ in range(4):
        assert kiosk_issue(app).status_code == 201
    fo1, cid = _officer(app)
    for _ in range(2):  # warm: the officer's cache, statements compiled
        assert post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True}).status_code == 200
        assert post(fo1, f"/api/v1/counters/{cid}/start").status_code == 200
    with statements(app) as seen:
        r = post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["ticket"]["number"] == "A003" and r.get_json()["ticket"]["status"] == "called"
    assert len(seen) == BUDGET[dialect(app)], seen
    if dialect(app) == "postgresql":
        assert [" ".join(s.split()[:2]) for s in _full(app, fo1, cid)] == [" ".join(p.split()[:2]) for p in PG_STATEMENTS]


def _full(app, fo1, cid) -> list[str]:
    """The full statements of one more finish-and-call (first words kept by the caller)."""
    from sqlalchemy import event

    seen: list[str] = []
    engine = app.extensions["loket"].db.engine

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert post(fo1, f"/api/v1/counters/{cid}/start").status_code == 200
        seen.clear()
        assert post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True}).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def test_a_finish_and_call_writes_what_it_did_before(app):
    """The merged writes (PostgreSQL) and the one-by-one ones (SQLite) leave the same rows."""
    first = kiosk_issue(app).get_json()["ticket"]
    second = kiosk_issue(app, priority_kind="lansia").get_json()["ticket"]
    fo1, cid = _officer(app)
    assert post(fo1, f"/api/v1/counters/{cid}/call-next").get_json()["ticket"]["number"] == first["number"]
    assert post(fo1, f"/api/v1/counters/{cid}/start").status_code == 200
    r = post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True}).get_json()
    assert r["ticket"]["number"] == second["number"]
    with app.extensions["loket"].db.session() as s:
        done, called = s.get(Ticket, first["id"]), s.get(Ticket, second["id"])
        assert done.status == "done" and done.finished_at is not None and done.started_at <= done.finished_at
        assert called.status == "called" and called.counter_id == cid and called.first_called_at == called.called_at
        assert called.officer_id is not None and called.called_at == done.finished_at
        calls = s.execute(select(Call.ticket_id, Call.counter_id, Call.kind).order_by(Call.id)).all()
        assert [tuple(c) for c in calls] == [(first["id"], cid, "call"), (second["id"], cid, "call")]
        assert s.scalar(select(TicketSequence.call_count).where(TicketSequence.service_id == called.service_id)) == 2
        from server.models import Counter

        assert s.get(Counter, cid).regular_since_priority == 0  # a priority ticket was called
        rows = s.execute(select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.from_state, AuditEntry.to_state,
                                AuditEntry.data)
                         .where(AuditEntry.entity_type == "ticket", AuditEntry.action != "ticket.issue",
                                AuditEntry.action != "ticket.print").order_by(AuditEntry.id)).all()
        assert [tuple(x) for x in rows] == [
            ("ticket.call", first["id"], "waiting", "called", {"number": first["number"], "counter": 1}),
            ("ticket.start", first["id"], "called", "serving", {"number": first["number"], "counter": 1}),
            ("ticket.finish", first["id"], "serving", "done", {"number": first["number"], "counter": 1}),
            ("ticket.call", second["id"], "waiting", "called", {"number": second["number"], "counter": 1})]
        entries = s.execute(select(StreamEntry.stream, StreamEntry.position, StreamEntry.name)
                            .order_by(StreamEntry.stream, StreamEntry.position)).all()
    for stream in ("public", "staff"):
        positions = [p for st, p, _n in entries if st == stream]
        assert positions == list(range(1, len(positions) + 1))  # gapless from 1
    # the finish-and-call's four entries, in the order published: ticket, counter, call, counter
    assert [n for st, _p, n in entries if st == "public"][-4:] == ["ticket", "counter", "call", "counter"]


def test_a_finish_with_nobody_waiting_stands_and_then_the_queue_is_empty(app):
    ticket = kiosk_issue(app).get_json()["ticket"]
    fo1, cid = _officer(app)
    assert post(fo1, f"/api/v1/counters/{cid}/call-next").status_code == 200
    r = post(fo1, f"/api/v1/counters/{cid}/call-next", {"finish_current": True})
    assert r.status_code == 200 and r.get_json()["ticket"] is None
    assert post(fo1, f"/api/v1/counters/{cid}/call-next").get_json()["error"] == "queue_empty"
    with app.extensions["loket"].db.session() as s:
        done = s.get(Ticket, ticket["id"])
        assert done.status == "done" and done.started_at == done.called_at  # never started: served since the call
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == ticket["id"],
                                                            AuditEntry.entity_type == "ticket")
                            .order_by(AuditEntry.id)).all()
    assert actions == ["ticket.issue", "ticket.print", "ticket.call", "ticket.finish"]


def test_the_event_log_numbers_each_office_and_stream_in_order(app):
    """Several offices and staff-only events in one transaction: positions continue each
    stream's head, in the order published, on both databases."""
    from server.models import Office

    db = app.extensions["loket"].db
    with db.session() as s:
        office = s.scalar(select(Office.id))
        other = Office(code="OTHER", name="Other", timezone="Asia/Jakarta")
        s.add(other)
        s.flush()
        other_id = other.id
    for _ in range(2):
        kiosk_issue(app)  # the demo office's log has entries already
    with db.session() as s:
        before = stream_log.head(s, office)
    published = [ev.DomainEvent(ev.APPLICATION_CHANGED, office, {"k": 1}), ev.DomainEvent(ev.TICKET_CHANGED, office, {"k": 2}),
                 ev.DomainEvent(ev.TICKET_CHANGED, other_id, {"k": 3}), ev.DomainEvent(ev.PRINT_JOB, office, {"k": 0}),
                 ev.DomainEvent(ev.APPLICATION_CHANGED, office, {"k": 4})]
    with db.session() as s:
        entries = stream_log.append(s, published)
    got = [(e.office_id, e.stream, e.position, e.data["k"]) for e in entries]
    assert got == [
        (office, "staff", before.staff + 1, 1), (office, "public", before.public + 1, 2),
        (office, "staff", before.staff + 2, 2), (office, "staff", before.staff + 3, 4),
        (other_id, "public", 1, 3), (other_id, "staff", 1, 3)]
    with db.session() as s:
        after, fresh = stream_log.head(s, office), stream_log.head(s, other_id)
        stored = s.execute(select(StreamEntry.office_id, StreamEntry.stream, StreamEntry.position, StreamEntry.data)
                           .order_by(StreamEntry.office_id, StreamEntry.stream, StreamEntry.position)).all()
    assert (after.public, after.staff, after.log) == (before.public + 1, before.staff + 3, before.log)
    assert (fresh.public, fresh.staff) == (1, 1) and fresh.log and fresh.log != before.log
    mine = sorted((o, st, p, d["k"]) for o, st, p, d in stored if isinstance(d, dict) and "k" in d)
    assert mine == sorted(got)
    assert {e.log for e in entries if e.office_id == office} == {before.log}
