"""Waiting time and service time for any period (issue 7, "Reports"), per office, service,
counter, officer or day, with a tickets-per-hour heatmap by weekday, no-shows and transfers.

Definitions (the same as the day report, ``services.reports.period_report``):

- the period is office-local queue days (``Ticket.day``), both ends included;
- **waiting time** = issue → first call (``first_called_at - issued_at``) of tickets as
  issued (``transfer_seq = 0``; a transferred ticket's second queue is not counted again);
- **service time** = start → finish of tickets ``done``;
- **issued** counts tickets as issued (transfers excluded); **no_show**, **transferred**
  (tickets sent on to another service), **cancelled** (incl. closed unserved) count tickets
  in that end state;
- grouping and filters by **counter** and **officer** use the counter and officer that
  last held the ticket (``Ticket.counter_id`` / ``officer_id``: who called it last and
  served, skipped or transferred it); tickets never called have none;
- the **heatmap** counts tickets issued (transfers excluded) per office-local weekday
  (1 = Monday … 7 = Sunday) and hour (0-23), in the office's ``timezone``.

All durations are in seconds; percentiles are nearest-rank (see ``filters``). On
PostgreSQL everything is aggregated in SQL; on SQLite the rows' durations are read and
summarised in Python with the same rules.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, text, tuple_
from sqlalchemy.orm import Session, aliased

from ...models import Counter, Service, StaffUser, Ticket, TicketStatus
from .filters import (ReportQuery, is_postgres, report_work_mem, seconds_between, sql_stats_columns, stats,
                      stats_from_row)

DONE, NO_SHOW = TicketStatus.DONE.value, TicketStatus.NO_SHOW.value
TRANSFERRED, CANCELLED = TicketStatus.TRANSFERRED.value, TicketStatus.CANCELLED.value
COUNTS = ("issued", "served", "no_show", "transferred", "cancelled")


def _where(q: ReportQuery, t=Ticket) -> list:
    cond = [t.office_id == q.office.id, t.day >= q.first, t.day <= q.last]
    if q.service_id is not None:
        cond.append(t.service_id == q.service_id)
    if q.counter_id is not None:
        cond.append(t.counter_id == q.counter_id)
    if q.officer_id is not None:
        cond.append(t.officer_id == q.officer_id)
    return cond


def _key(q: ReportQuery):
    return {"service": Ticket.service_id, "counter": Ticket.counter_id, "officer": Ticket.officer_id,
            "day": Ticket.day}.get(q.group)


def _exprs(session: Session):
    wait = case((and_(Ticket.transfer_seq == 0, Ticket.first_called_at.is_not(None)),
                 seconds_between(session, Ticket.issued_at, Ticket.first_called_at)), else_=None)
    served = case((and_(Ticket.status == DONE, Ticket.started_at.is_not(None), Ticket.finished_at.is_not(None)),
                   seconds_between(session, Ticket.started_at, Ticket.finished_at)), else_=None)
    return wait, served


def _rows_sql(session: Session, q: ReportQuery) -> tuple[dict | None, dict]:
    """(total row, {key: row}) in one scan: ``GROUPING SETS ((key), ())`` when grouped.
    The durations are computed once per row in a subquery, then aggregated."""
    wait, served = _exprs(session)
    key = _key(q)
    inner = select((key if key is not None else Ticket.office_id).label("key"), Ticket.status, Ticket.transfer_seq,
                   wait.label("wait"), served.label("svc")).where(*_where(q)).subquery()
    k, st = inner.c.key, inner.c.status
    cols = [func.count().filter(inner.c.transfer_seq == 0).label("issued"),
            func.count().filter(st == DONE).label("served"), func.count().filter(st == NO_SHOW).label("no_show"),
            func.count().filter(st == TRANSFERRED).label("transferred"),
            func.count().filter(st == CANCELLED).label("cancelled"), func.count().label("tickets"),
            *sql_stats_columns(inner.c.wait, "wait"), *sql_stats_columns(inner.c.svc, "svc")]
    if key is None:
        stmt = select(*cols)
    else:
        stmt = select(k, func.grouping(k).label("is_total"), *cols).group_by(func.grouping_sets(k, tuple_()))
    total, groups = None, {}
    for row in session.execute(stmt):
        m = row._mapping
        if not m["tickets"]:
            continue
        data = {**{c: int(m[c] or 0) for c in COUNTS},
                "wait_time": stats_from_row(row, "wait"), "service_time": stats_from_row(row, "svc")}
        if key is None or m["is_total"]:
            total = data
        else:
            groups[m["key"]] = data
    return total, groups


def _rows_python(session: Session, q: ReportQuery) -> tuple[dict | None, dict]:
    """The same as :func:`_rows_sql`, summarised in Python (SQLite)."""
    wait, served = _exprs(session)
    key = _key(q)
    stmt = select(key.label("key") if key is not None else Ticket.office_id.label("key"),
                  Ticket.transfer_seq, Ticket.status, wait.label("wait"), served.label("svc")).where(*_where(q))
    acc: dict = defaultdict(lambda: {"n": defaultdict(int), "wait": [], "svc": []})
    for k, seq, status, w, sv in session.execute(stmt):
        a = acc[k if key is not None else None]
        a["n"]["issued"] += seq == 0
        a["n"]["served"] += status == DONE
        a["n"]["no_show"] += status == NO_SHOW
        a["n"]["transferred"] += status == TRANSFERRED
        a["n"]["cancelled"] += status == CANCELLED
        if w is not None:
            a["wait"].append(float(w))
        if sv is not None:
            a["svc"].append(float(sv))
    rows: dict[Any, dict[str, Any]] = {k: {**{c: int(a["n"][c]) for c in COUNTS}, "wait_time": stats(a["wait"]), "service_time": stats(a["svc"])}
            for k, a in acc.items()}
    if key is None:
        return rows.get(None), {}
    everything = {c: sum(r[c] for r in rows.values()) for c in COUNTS}
    waits = [w for a in acc.values() for w in a["wait"]]
    services = [v for a in acc.values() for v in a["svc"]]
    return ({**everything, "wait_time": stats(waits), "service_time": stats(services)} if rows else None), rows


def heatmap(session: Session, q: ReportQuery) -> list[list[int]]:
    """Tickets issued (transfers excluded) as 7 rows (Monday … Sunday) of 24 hourly counts,
    office-local time."""
    grid = [[0] * 24 for _ in range(7)]
    cond = [*_where(q), Ticket.transfer_seq == 0]
    zone = ZoneInfo(q.office.timezone)
    if is_postgres(session):
        # Count per UTC quarter-hour in SQL (cheap), place each quarter in local time here:
        # right for every zone offset (whole, half and 45-minute ones).
        quarter = func.date_bin(text("interval '15 minutes'"), Ticket.issued_at, datetime(2000, 1, 1))
        for start, n in session.execute(select(quarter, func.count()).where(*cond).group_by(quarter)):
            local = start.replace(tzinfo=timezone.utc).astimezone(zone)
            grid[local.weekday()][local.hour] += int(n)
        return grid
    for (at,) in session.execute(select(Ticket.issued_at).where(*cond)):
        local = at.astimezone(zone)
        grid[local.weekday()][local.hour] += 1
    return grid


def transfers(session: Session, q: ReportQuery) -> list[dict]:
    """Transfers made in the period as [{"from_service", "to_service", "count"}], most
    frequent first; filters apply to the ticket transferred (its service, counter, officer)."""
    moved = aliased(Ticket)
    src, dst = aliased(Service), aliased(Service)
    stmt = (select(src.code, dst.code, func.count()).select_from(Ticket)
            .join(moved, moved.transferred_from_id == Ticket.id).join(src, src.id == Ticket.service_id)
            .join(dst, dst.id == moved.service_id).where(*_where(q)).group_by(src.code, dst.code))
    rows = [{"from_service": a, "to_service": b, "count": int(n)} for a, b, n in session.execute(stmt)]
    return sorted(rows, key=lambda r: (-r["count"], r["from_service"], r["to_service"]))


def _labels(session: Session, q: ReportQuery, keys) -> dict:
    keys = [k for k in keys if k is not None]
    if q.group == "service":
        return {s.id: {"key": s.code, "label": f"{s.letter} · {s.name_id}"}
                for s in session.scalars(select(Service).where(Service.id.in_(keys)))}
    if q.group == "counter":
        return {c.id: {"key": c.number, "label": f"Loket {c.number}" + (f" · {c.name}" if c.name else "")}
                for c in session.scalars(select(Counter).where(Counter.id.in_(keys)))}
    if q.group == "officer":
        return {u.id: {"key": u.username, "label": f"{u.full_name} ({u.username})"}
                for u in session.scalars(select(StaffUser).where(StaffUser.id.in_(keys)))}
    if q.group == "day":
        return {d: {"key": d.isoformat(), "label": d.isoformat()} for d in keys}
    return {}


def waiting_report(session: Session, q: ReportQuery) -> dict:
    """The waiting- and service-time report of ``q`` (see the module docstring).

    Returns {"office", "from", "to", "group", "filters", "total": row, "rows": [row …]
    (one per group value, ordered by key; tickets with no counter/officer under key None),
    "heatmap": {"weekdays": [1..7], "hours": [0..23], "counts": 7×24 ints}, "transfers":
    [...]}, where row = {"key", "label", "issued", "served", "no_show", "transferred",
    "cancelled", "wait_time": stats, "service_time": stats} and stats = {count, mean_s,
    p50_s, p90_s, max_s} in seconds (None when count is 0).
    """
    report_work_mem(session)
    total, grouped = (_rows_sql if is_postgres(session) else _rows_python)(session, q)
    total = total or {**{c: 0 for c in COUNTS}, "wait_time": stats([]), "service_time": stats([])}
    rows = []
    if q.group != "none":
        labels = _labels(session, q, grouped.keys())
        for k, row in grouped.items():
            rows.append({**labels.get(k, {"key": None, "label": "–"}), **row})
        rows.sort(key=lambda r: (r["key"] is None, str(r["key"]).zfill(12) if isinstance(r["key"], int) else str(r["key"])))
    return {
        "office": q.office.code, "from": q.first.isoformat(), "to": q.last.isoformat(), "group": q.group,
        "filters": q.filters(), "total": {"key": None, "label": "", **total}, "rows": rows,
        "heatmap": {"weekdays": list(range(1, 8)), "hours": list(range(24)), "counts": heatmap(session, q)},
        "transfers": transfers(session, q),
    }
