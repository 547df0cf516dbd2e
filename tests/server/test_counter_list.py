"""The office's counter list (``GET /offices/<code>/counters``: consoles, the dashboard)
reads a fixed handful of statements whatever the number of counters, and locks nothing: it
used to load each counter's services and current ticket one counter at a time (18
statements for the demo's 8 counters), each current ticket ``FOR UPDATE``."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.server.test_api import app, counter_id, kiosk_issue, post, staff_client  # noqa: F401  (app: fixture)
from tests.server.test_issue_cost import statements

#: the office, the counters, their services (one IN query), their current tickets (one)
BUDGET = 4


def test_the_counter_list_reads_a_fixed_handful_of_statements_and_locks_nothing(app):
    for _ in range(3):
        assert kiosk_issue(app).status_code == 201
    officers = {n: staff_client(app, f"fo{n}") for n in (1, 2)}
    for n, client in officers.items():
        cid = counter_id(app, n)
        assert post(client, f"/api/v1/counters/{cid}/open").status_code == 200
        assert post(client, f"/api/v1/counters/{cid}/call-next").status_code == 200
    assert post(officers[2], f"/api/v1/counters/{counter_id(app, 2)}/start").status_code == 200
    manager = staff_client(app, "manager")
    manager.get("/api/v1/offices/DEMO/counters")  # warm: the user cache
    with statements(app) as seen:
        r = manager.get("/api/v1/offices/DEMO/counters")
    assert r.status_code == 200
    reads = [s for s in seen if s not in ("BEGIN IMMEDIATE", "BEGIN")]
    assert len(reads) <= BUDGET, seen
    counters = r.get_json()["counters"]
    assert len(counters) >= 8
    by_number = {c["number"]: c for c in counters}
    assert by_number[1]["current"]["number"] == "A001" and by_number[1]["current"]["status"] == "called"
    assert by_number[2]["current"]["number"] == "A002" and by_number[2]["current"]["status"] == "serving"
    assert all(by_number[n]["current"] is None for n in by_number if n > 2)
    for c in counters:  # the same view as one counter's own answer
        one = manager.get(f"/api/v1/counters/{c['id']}").get_json()["counter"]
        assert one == c


def test_the_counter_list_takes_no_row_lock(app):
    engine = app.extensions["loket"].db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks (FOR UPDATE is not rendered)")
    assert kiosk_issue(app).status_code == 201
    fo1 = staff_client(app, "fo1")
    cid = counter_id(app, 1)
    assert post(fo1, f"/api/v1/counters/{cid}/open").status_code == 200
    assert post(fo1, f"/api/v1/counters/{cid}/call-next").status_code == 200
    manager = staff_client(app, "manager")
    full: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        full.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        r = manager.get("/api/v1/offices/DEMO/counters")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert r.status_code == 200 and r.get_json()["counters"][0]["current"]["number"] == "A001"
    assert full and not any("FOR UPDATE" in s.upper() for s in full), full
