"""What every managers' report takes: an office, a period of office-local days, and optional
filters (service, counter, officer) and a grouping; plus the SQL pieces the reports share
(durations in seconds, nearest-rank percentiles on PostgreSQL).

Percentiles are **nearest-rank** everywhere (``services.reports.percentile``, the day
report's rule): on PostgreSQL ``percentile_disc`` (the first value whose cumulative share
reaches p, i.e. the ceil(p·n)-th smallest), on SQLite the durations are read and ranked
in Python with ``percentile``. Both give the same figures for the same rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.orm import Session

from ...models import Counter, Office, Service, StaffUser
from ..activation.report import MAX_DAYS, _utc_bounds
from ..errors import ValidationError
from ..reports import percentile

GROUPS = ("none", "service", "counter", "officer", "day")
REPORT_WORK_MEM = "64MB"


@dataclass
class ReportQuery:
    """One report request. ``first``/``last``: office-local days, both included (at most
    366 days). ``service``: a service code; ``counter``: a counter number; ``officer``: a
    staff username (each None: all). ``group``: one of GROUPS. Built with :func:`query`;
    ``service_id``/``counter_id``/``officer_id`` are the resolved ids."""

    office: Office
    first: date
    last: date
    group: str = "none"
    service: str | None = None
    counter: int | None = None
    officer: str | None = None
    service_id: int | None = None
    counter_id: int | None = None
    officer_id: int | None = None

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """The period as [start, end) aware datetimes (office-local midnights)."""
        return _utc_bounds(self.office, self.first, self.last)

    def filters(self) -> dict:
        """The filters as given, for the report's JSON: {"service", "counter", "officer"}."""
        return {"service": self.service, "counter": self.counter, "officer": self.officer}


def query(session: Session, office: Office, first: date, last: date, *, group: str | None = None,
          service: str | None = None, counter: int | str | None = None, officer: str | None = None) -> ReportQuery:
    """A checked :class:`ReportQuery`. Raises ValidationError (field "to": period reversed or
    over 366 days; "group": unknown grouping; "counter": not a number) and NotFound-like
    ValidationError (field "service" / "counter" / "officer") for a filter naming nothing in
    ``office``."""
    if last < first:
        raise ValidationError("to must not be before from", field="to")
    if (last - first).days >= MAX_DAYS:
        raise ValidationError(f"at most {MAX_DAYS} days", field="to")
    group = group or "none"
    if group not in GROUPS:
        raise ValidationError(f"group is one of {', '.join(GROUPS)}", field="group")
    q = ReportQuery(office, first, last, group)
    if service:
        q.service = service
        q.service_id = session.scalar(select(Service.id).where(Service.office_id == office.id, Service.code == service))
        if q.service_id is None:
            raise ValidationError(f"unknown service {service!r}", field="service")
    if counter not in (None, ""):
        try:
            q.counter = int(counter)
        except (TypeError, ValueError):
            raise ValidationError("counter must be a counter number", field="counter") from None
        if not 1 <= q.counter <= 9999:  # beyond a database integer: refused, not a database error
            raise ValidationError("counter must be between 1 and 9999", field="counter")
        q.counter_id = session.scalar(select(Counter.id).where(Counter.office_id == office.id, Counter.number == q.counter))
        if q.counter_id is None:
            raise ValidationError(f"unknown counter {counter!r}", field="counter")
    if officer:
        q.officer = officer
        q.officer_id = session.scalar(select(StaffUser.id).where(StaffUser.username == officer,
                                                                 StaffUser.office_id == office.id))
        if q.officer_id is None:
            raise ValidationError(f"unknown officer {officer!r}", field="officer")
    return q


def is_postgres(session: Session) -> bool:
    """True when ``session`` talks to PostgreSQL (else the SQLite fallbacks are used)."""
    return session.get_bind().dialect.name == "postgresql"


def seconds_between(session: Session, start, end):
    """SQL for ``end - start`` in seconds (float) of two UTC timestamp columns."""
    if is_postgres(session):
        # date_part gives float8 directly (extract would give numeric: slower to sort)
        return func.date_part("epoch", end - start)
    # SQLite keeps UTC as text; julianday has millisecond resolution.
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def stats(values: list[float]) -> dict:
    """{count, mean_s, p50_s, p90_s, max_s} of durations in seconds (nearest-rank
    percentiles; None when empty). Mean rounded to 0.1 s, the others to 1 ms."""
    if not values:
        return empty_stats()
    return {"count": len(values), "mean_s": round(sum(values) / len(values), 1),
            "p50_s": _ms(percentile(values, 50)), "p90_s": _ms(percentile(values, 90)), "max_s": _ms(max(values))}


def empty_stats() -> dict:
    """The stats of no values."""
    return {"count": 0, "mean_s": None, "p50_s": None, "p90_s": None, "max_s": None}


def sql_stats_columns(expr, prefix: str) -> list:
    """PostgreSQL aggregate columns of ``expr`` (NULLs ignored): count, avg, [p50, p90]
    (one sort: ``percentile_disc`` of an array), max, labelled ``<prefix>_count`` …;
    read back with :func:`stats_from_row`."""
    return [
        func.count(expr).label(f"{prefix}_count"), func.avg(expr).label(f"{prefix}_mean"),
        func.percentile_disc(array([0.5, 0.9])).within_group(expr).label(f"{prefix}_pct"),
        func.max(expr).label(f"{prefix}_max"),
    ]


def stats_from_row(row, prefix: str) -> dict:
    """The {count, mean_s, …} dict of one row of :func:`sql_stats_columns`."""
    m = row._mapping
    n = m[f"{prefix}_count"] or 0
    if not n:
        return empty_stats()
    p50, p90 = m[f"{prefix}_pct"]
    return {"count": n, "mean_s": round(float(m[f"{prefix}_mean"]), 1), "p50_s": _ms(p50),
            "p90_s": _ms(p90), "max_s": _ms(m[f"{prefix}_max"])}


def report_work_mem(session: Session) -> None:
    """On PostgreSQL, let this transaction sort a year of durations in memory
    (``SET LOCAL work_mem``, ``REPORT_WORK_MEM``; the default 4MB spills to disk)."""
    if is_postgres(session):
        session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def _ms(value) -> float | None:
    return None if value is None else round(float(value), 3)
