"""What one kiosk ticket issue costs the database (issue 12, "Speed"): the SQL statements
of one ``POST /api/v1/offices/<code>/tickets`` counted with a ``before_cursor_execute``
listener on SQLite and PostgreSQL (a count, not a timing, so it holds on any machine), and
the rules the cheaper path keeps: one transaction for the ticket and its print job, the
job's order = its audit row id, exact people ahead, a repeated or raced request_id."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from server.models import AuditEntry, Ticket
from server.services.queue import estimate, issuing
from server.services.queue.estimate import FIGURES_TTL_S, FiguresCache
from tests.server.test_api import app, kiosk_issue  # noqa: F401  (app: fixture)

#: Statements of one kiosk issue on a warm worker (office, services, kiosk and the
#: service's estimate figures cached). The issue's own: the look-up (people ahead +
#: request_id), the number upsert, the ticket row (one statement with the number on
#: PostgreSQL), its two audit rows (one INSERT); then the office event log's head upsert
#: and entries (``services.stream_log``: one statement on PostgreSQL since 2026-12-07);
#: SQLite's BEGIN IMMEDIATE on top. Before issue 12: 16 on SQLite, 15 on PostgreSQL.
BUDGET = {"sqlite": 7, "postgresql": 4}
#: the issue's own statements, in order (the event log's come after them, at the commit)
ISSUE_STATEMENTS = {
    "sqlite": ["SELECT", "INSERT INTO ticket_sequences", "INSERT INTO tickets", "INSERT INTO audit_log"],
    "postgresql": ["SELECT", "WITH seq", "INSERT INTO audit_log"],
}


@contextmanager
def statements(app):
    """The SQL statements run on the app's engine inside the block (first words of each)."""
    seen: list[str] = []
    engine = app.extensions["loket"].db.engine

    def note(_conn, _cursor, statement, _params, _context, _many):
        words = statement.split()
        seen.append(" ".join(words[:3]) if words[0].upper() == "INSERT" else " ".join(words[:2]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def dialect(app) -> str:
    return app.extensions["loket"].db.engine.dialect.name


def mine(seen: list[str]) -> list[str]:
    """The issue's own statements: without BEGIN and the event log's two."""
    return [s.replace(" (SELECT", "") for s in seen if s != "BEGIN IMMEDIATE" and "stream_" not in s]


@pytest.mark.parametrize("request_id", [None, "tap-cost-1"])
def test_one_kiosk_issue_runs_a_fixed_handful_of_statements(app, request_id):
    for service in ("ktp_el", "kk"):  # warm the worker: catalog, kiosk token, estimate figures
        assert kiosk_issue(app, service).status_code == 201
    extra = {"request_id": request_id} if request_id else {}
    with statements(app) as seen:
        r = kiosk_issue(app, "kk", **extra)
    assert r.status_code == 201, r.get_json()
    assert len(seen) <= BUDGET[dialect(app)], seen
    assert [s.split(" (")[0] for s in mine(seen)] == ISSUE_STATEMENTS[dialect(app)], seen
    assert r.get_json()["ticket"]["number"] == "B002" and r.get_json()["ticket"]["people_ahead"] == 1


def test_numbers_past_999_keep_every_digit(app):
    """A001 … A999, A1000: the number formatted the same on both databases (PostgreSQL
    formats it inside the insert)."""
    from sqlalchemy import update

    from server.models import TicketSequence

    assert kiosk_issue(app).get_json()["ticket"]["number"] == "A001"
    with app.extensions["loket"].db.session() as s:
        s.execute(update(TicketSequence).values(last_number=997))
    numbers = [kiosk_issue(app).get_json()["ticket"]["number"] for _ in range(3)]
    assert numbers == ["A998", "A999", "A1000"]
    assert issuing.format_number("A", 7) == "A007" and issuing.format_number("A", 12345) == "A12345"
    with app.extensions["loket"].db.session() as s:
        rows = s.execute(select(Ticket.number, Ticket.display_number).order_by(Ticket.id)).all()
    assert [tuple(r) for r in rows] == [(1, "A001"), (998, "A998"), (999, "A999"), (1000, "A1000")]


def test_the_ticket_and_its_print_job_are_written_together(app):
    first = kiosk_issue(app).get_json()
    second = kiosk_issue(app, priority_kind="lansia").get_json()
    with app.extensions["loket"].db.session() as s:
        tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity_type == "ticket").order_by(AuditEntry.id)).all()
        assert [t.print_status for t in tickets] == ["queued", "queued"]  # written with the row, no UPDATE
        assert [(r.action, r.entity_id) for r in rows] == [
            ("ticket.issue", tickets[0].id), ("ticket.print", tickets[0].id),
            ("ticket.issue", tickets[1].id), ("ticket.print", tickets[1].id)]
        device_id = tickets[0].device_id
        assert rows[1].data == {"job_id": first["print"]["job_id"], "device_id": device_id}
        assert rows[2].data == {"number": "A002", "service": "ktp_el", "priority": "lansia", "channel": "kiosk"}
        assert rows[0].actor_type == "device" and rows[0].to_state == "waiting" and rows[1].to_state is None
        from server.services.printing import backlog

        jobs = backlog(s, device_id, "http://localhost")
    assert [(j["job_id"], j["order"]) for j in jobs] == [
        (first["print"]["job_id"], rows[1].id), (second["print"]["job_id"], rows[3].id)]
    assert (first["ticket"]["people_ahead"], second["ticket"]["people_ahead"]) == (0, 1)
    assert second["ticket"]["office"]["code"] == "DEMO" and second["ticket"]["service"]["code"] == "ktp_el"


def test_a_first_tap_committed_after_the_look_up_is_answered_as_repeated(app, monkeypatch):
    """The first tap commits between the second's look-up and its insert (on PostgreSQL:
    another worker; here the look-up is made to miss once): the insert fails on the unique
    request id, the transaction rolls back (its number too) and the retry answers the first
    ticket and job."""
    first = kiosk_issue(app, request_id="tap-race").get_json()
    real, missed = issuing.look_ahead, []

    def miss_once(*args):
        people, earlier = real(*args)
        if not missed:
            missed.append(earlier)
            return people, None
        return people, earlier

    monkeypatch.setattr("server.api.issuing.look_ahead", miss_once)
    again = kiosk_issue(app, request_id="tap-race")
    assert missed == [first["ticket"]["id"]]
    assert again.status_code == 200 and again.get_json()["repeated"] is True
    assert again.get_json()["ticket"]["id"] == first["ticket"]["id"] and again.get_json()["print"] == first["print"]
    assert kiosk_issue(app, request_id="tap-next").get_json()["ticket"]["number"] == "A002"  # none skipped
    with app.extensions["loket"].db.session() as s:
        assert len(s.scalars(select(AuditEntry).where(AuditEntry.action == "ticket.print")).all()) == 2


def test_estimate_figures_are_reused_for_their_lifetime_only(monkeypatch):
    calls, now = [], [100.0]

    class Service:
        id, counter_minutes = 7, 10

    def figures(_session, service, day, window):
        calls.append((service.id, day, window))
        return estimate.Figures(600.0, float(len(calls)))

    cache = FiguresCache(clock=lambda: now[0])
    monkeypatch.setattr(estimate, "service_figures", figures)
    assert cache.get(None, Service, "d", 20).counters == 1.0
    now[0] += FIGURES_TTL_S - 0.1
    assert cache.get(None, Service, "d", 20).counters == 1.0  # within its lifetime
    assert cache.get(None, Service, "e", 20).counters == 2.0  # another day: its own entry
    now[0] += 0.2
    assert cache.get(None, Service, "d", 20).counters == 3.0  # expired: read again
    assert calls == [(7, "d", 20), (7, "e", 20), (7, "d", 20)]
    assert estimate.from_figures(3, estimate.Figures(600.0, 1.5)).wait_s == pytest.approx(1200.0)
    assert estimate.from_figures(3, estimate.Figures(600.0, 0.0)).wait_s is None
