"""Waiting-time and productivity reports (issue 7) against a direct computation from the raw
rows, on SQLite and PostgreSQL: four office days played through the queue engine
(tests/server/report_day_set.py), then every figure recomputed here in plain Python."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server.models import Counter, Office, StaffUser, Ticket
from server.services.analytics import productivity_report, query, waiting_report
from server.services.errors import ValidationError
from tests.conftest import wib
from tests.server.report_day_set import play_days

FIRST, LAST = date(2026, 11, 23), date(2026, 11, 26)


def nearest_rank(values, p):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def expected_stats(values):
    if not values:
        return {"count": 0, "mean_s": None, "p50_s": None, "p90_s": None, "max_s": None}
    return {"count": len(values), "mean_s": sum(values) / len(values), "p50_s": nearest_rank(values, 50),
            "p90_s": nearest_rank(values, 90), "max_s": max(values)}


def expected_row(tickets):
    waits = [(t.first_called_at - t.issued_at).total_seconds() for t in tickets
             if t.transfer_seq == 0 and t.first_called_at is not None]
    served = [(t.finished_at - t.started_at).total_seconds() for t in tickets
              if t.status == "done" and t.started_at and t.finished_at]
    n = lambda st: sum(1 for t in tickets if t.status == st)  # noqa: E731
    return {"issued": sum(1 for t in tickets if t.transfer_seq == 0), "served": n("done"), "no_show": n("no_show"),
            "transferred": n("transferred"), "cancelled": n("cancelled"),
            "wait_time": expected_stats(waits), "service_time": expected_stats(served)}


def assert_row(got, want):
    for k in ("issued", "served", "no_show", "transferred", "cancelled"):
        assert got[k] == want[k], k
    for part in ("wait_time", "service_time"):
        g, w = got[part], want[part]
        assert g["count"] == w["count"]
        if w["count"]:
            assert g["mean_s"] == pytest.approx(w["mean_s"], abs=0.051)
            for k in ("p50_s", "p90_s", "max_s"):
                assert g[k] == pytest.approx(w[k], abs=0.001), (part, k)
        else:
            assert g["p50_s"] is None and g["max_s"] is None


def raw(database, office_id):
    with database.session() as s:
        tickets = s.scalars(select(Ticket).where(Ticket.office_id == office_id)).all()
        s.expunge_all()
        users = {u.id: u.username for u in s.scalars(select(StaffUser))}
        counters = {c.id: c.number for c in s.scalars(select(Counter))}
        services = {t.service_id: None for t in tickets}
        from server.models import Service
        services = {sv.id: sv.code for sv in s.scalars(select(Service))}
    return tickets, users, counters, services


def run(database, office_id, fn, **kw):
    with database.session() as s:
        office = s.get(Office, office_id)
        return fn(s, query(s, office, kw.pop("first", FIRST), kw.pop("last", LAST), **kw))


def test_waiting_and_productivity_agree_with_the_raw_rows(database, office_id):
    played = play_days(database, office_id)
    tickets, users, counters, services = raw(database, office_id)
    assert {t.status for t in tickets} >= {"done", "no_show", "transferred", "cancelled"}

    report = run(database, office_id, waiting_report)
    assert_row(report["total"], expected_row(tickets))
    assert report["rows"] == []

    keys = {"service": lambda t: services[t.service_id], "counter": lambda t: counters.get(t.counter_id),
            "officer": lambda t: users.get(t.officer_id), "day": lambda t: t.day.isoformat()}
    for group, key in keys.items():
        report = run(database, office_id, waiting_report, group=group)
        buckets = defaultdict(list)
        for t in tickets:
            buckets[key(t)].append(t)
        assert {r["key"] for r in report["rows"]} == set(buckets), group
        for row in report["rows"]:
            assert_row(row, expected_row(buckets[row["key"]]))

    # Filters: one service at one counter; one officer; one day.
    report = run(database, office_id, waiting_report, service="kk", counter=3)
    assert_row(report["total"], expected_row([t for t in tickets if services[t.service_id] == "kk"
                                              and counters.get(t.counter_id) == 3]))
    report = run(database, office_id, waiting_report, officer="rep1", group="service")
    mine = [t for t in tickets if users.get(t.officer_id) == "rep1"]
    assert_row(report["total"], expected_row(mine))
    assert {r["key"] for r in report["rows"]} == {services[t.service_id] for t in mine}
    report = run(database, office_id, waiting_report, first=date(2026, 11, 24), last=date(2026, 11, 24))
    assert_row(report["total"], expected_row([t for t in tickets if t.day == date(2026, 11, 24)]))

    # Heatmap: tickets issued per Jakarta weekday and hour; transfers from → to.
    report = run(database, office_id, waiting_report)
    grid = [[0] * 24 for _ in range(7)]
    for t in tickets:
        if t.transfer_seq == 0:
            local = t.issued_at.astimezone(ZoneInfo("Asia/Jakarta"))
            grid[local.weekday()][local.hour] += 1
    assert report["heatmap"]["counts"] == grid
    assert sum(map(sum, grid)) == report["total"]["issued"] and grid[0][8] > 0 and grid[5] == [0] * 24
    by_id = {t.id: t for t in tickets}
    moves = defaultdict(int)
    for t in tickets:
        if t.transferred_from_id:
            moves[(services[by_id[t.transferred_from_id].service_id], services[t.service_id])] += 1
    assert {(m["from_service"], m["to_service"]): m["count"] for m in report["transfers"]} == moves
    assert sum(moves.values()) == report["total"]["transferred"] > 0

    # Productivity: the counters' stretches as the test drove them, busy = last call → end.
    prod = run(database, office_id, lambda s, q: productivity_report(s, q, now=wib(12, 0, day=30)))
    rows = {r["officer"]: r for r in prod["rows"]}
    assert set(rows) == set(played.officers)
    seconds = lambda spans: sum((b - a).total_seconds() for a, b in spans)  # noqa: E731
    for user in played.officers:
        mine = [t for t in tickets if users.get(t.officer_id) == user]
        done = [(t.finished_at - t.started_at).total_seconds() for t in mine if t.status == "done"]
        busy = seconds((t.called_at, t.finished_at) for t in mine
                       if t.status in ("done", "transferred", "no_show") and t.counter_id)
        opened, paused = seconds(played.open[user]), seconds(played.paused[user])
        row = rows[user]
        assert row["served"] == len(done) and row["no_show"] == sum(t.status == "no_show" for t in mine)
        assert row["mean_service_s"] == pytest.approx(sum(done) / len(done), abs=0.051)
        assert row["open_s"] == pytest.approx(opened, abs=0.051)
        assert row["paused_s"] == pytest.approx(paused, abs=0.051)
        assert row["busy_s"] == pytest.approx(busy, abs=0.051)
        assert row["idle_s"] == pytest.approx(opened - paused - busy, abs=0.11)
        assert row["idle_s"] > 0 and row["paused_s"] > 0
    assert prod["total"]["served"] == sum(t.status == "done" for t in tickets)

    # A service filter narrows the ticket figures, never the officer's time.
    kk = run(database, office_id, lambda s, q: productivity_report(s, q, now=wib(12, 0, day=30)), service="kk")
    for row in kk["rows"]:
        whole = rows[row["officer"]]
        assert row["served"] == sum(1 for t in tickets if users.get(t.officer_id) == row["officer"]
                                    and services[t.service_id] == "kk" and t.status == "done")
        assert (row["open_s"], row["paused_s"], row["busy_s"], row["idle_s"]) == (
            whole["open_s"], whole["paused_s"], whole["busy_s"], whole["idle_s"])

    # One day, one officer: only that day's stretches.
    one = run(database, office_id, lambda s, q: productivity_report(s, q, now=wib(12, 0, day=30)),
              first=date(2026, 11, 25), last=date(2026, 11, 25), officer="rep3")
    day_open = [(a, b) for a, b in played.open["rep3"] if a.astimezone(ZoneInfo("Asia/Jakarta")).day == 25]
    assert [r["officer"] for r in one["rows"]] == ["rep3"]
    assert one["rows"][0]["open_s"] == pytest.approx(seconds(day_open), abs=0.051)


def test_bad_periods_and_filters_are_refused(database, office_id):
    with database.session() as s:
        office = s.get(Office, office_id)
        for kwargs, field in [({"first": LAST, "last": FIRST}, "to"),
                              ({"first": date(2024, 12, 31), "last": date(2026, 1, 1)}, "to"),
                              ({"group": "weekday"}, "group"), ({"service": "nope"}, "service"),
                              ({"counter": "x"}, "counter"), ({"counter": 99}, "counter"),
                              ({"officer": "nobody"}, "officer")]:
            first, last = kwargs.pop("first", FIRST), kwargs.pop("last", LAST)
            with pytest.raises(ValidationError) as err:
                query(s, office, first, last, **kwargs)
            assert err.value.details["field"] == field
        empty = waiting_report(s, query(s, office, FIRST, LAST, group="service"))
        assert empty["total"]["issued"] == 0 and empty["rows"] == [] and empty["total"]["wait_time"]["p50_s"] is None
