"""Every managers' report in one list (issue 7 "Reports", the IKM, AKAPELA, and the KTP-el
activations of issue 5), and the one way a report request is read: its period (``from``,
``to``: office-local days) and its filters, from the query string of the API or the page.

A :class:`ReportKind` says how a report is built from a :class:`ReportRequest`, how it is
cut into tables (CSV / XLSX / page), its default period and the filters it takes. The web
layer (``server.api.report_requests``) adds the office look-up, roles and formats.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ...models import Office
from ..activation.report import activation_report
from ..complaints.report import complaint_report
from ..errors import ValidationError
from ..survey.ikm import ikm_report
from .filters import GROUPS, query
from .pickups import pickups_report
from .productivity import productivity_report
from .sop_steps import control_card_report
from .tables import Table, control_card_tables, pickups_tables, productivity_tables, waiting_tables
from .tables_extra import activation_tables, complaint_tables, ikm_tables
from .waiting import waiting_report

ANALYTICS_FILTERS = ("service", "counter", "officer")


@dataclass(frozen=True)
class ReportRequest:
    """One request for a report: ``office``, ``first``..``last`` (office-local days, both
    included, not yet checked against the report's longest period), ``filters`` {name:
    raw text or None} of the report's filters, and ``lang`` ("id" | "en") for names."""

    office: Office
    first: date
    last: date
    filters: dict[str, str | None]
    lang: str = "id"


def semester_start(day: date) -> date:
    """1 January or 1 July before ``day``: the IKM is measured each semester (seed 002)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def days_before(n: int) -> Callable[[date], date]:
    """A default ``from``: ``n`` - 1 days before ``to`` (a period of ``n`` days)."""
    return lambda last: last - timedelta(days=n - 1)


@dataclass(frozen=True)
class ReportKind:
    """A report. ``name``: its URL name (``/api/v1/offices/<code>/reports/<name>``, and the
    page); ``title_key``: i18n key of its title; ``build(session, request)`` → the JSON dict
    (raises ValidationError); ``tables(report)`` → [Table]; ``default_from(to)`` → the
    default first day; ``filters``: the query parameters it reads besides from/to;
    ``summary`` / ``returns``: what the API document says it answers."""

    name: str
    title_key: str
    build: Callable[[Session, ReportRequest], dict]
    tables: Callable[[dict], list[Table]]
    default_from: Callable[[date], date]
    filters: tuple[str, ...] = ()
    summary: str = ""
    returns: str = ""
    errors: dict[int, str] = field(default_factory=dict)


def date_arg(args: Mapping, name: str, default: date) -> date:
    """``args[name]`` as a date (YYYY-MM-DD), ``default`` when empty. Raises ValidationError
    (field ``name``)."""
    raw = args.get(name)
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise ValidationError(f"{name} must be YYYY-MM-DD", field=name) from None


def read_request(kind: ReportKind, office: Office, args: Mapping, *, today: date, lang: str = "id") -> ReportRequest:
    """The :class:`ReportRequest` of query ``args`` for ``kind``: ``to`` (default ``today``),
    ``from`` (default ``kind.default_from(to)``) and the kind's filters (empty → None).
    Raises ValidationError for a date that is not YYYY-MM-DD."""
    last = date_arg(args, "to", today)
    first = date_arg(args, "from", kind.default_from(last))
    return ReportRequest(office, first, last, {f: args.get(f) or None for f in kind.filters}, lang)


def counter_number(raw: str | None) -> int | None:
    """A counter filter as its number (1..9999), None when empty. Raises ValidationError."""
    if raw is None:
        return None
    try:
        number = int(raw)
    except ValueError:
        raise ValidationError("counter must be an integer", field="counter") from None
    if not 1 <= number <= 9999:
        raise ValidationError("counter must be between 1 and 9999", field="counter")
    return number


def _analytics(builder) -> Callable[[Session, ReportRequest], dict]:
    def build(session: Session, r: ReportRequest) -> dict:
        return builder(session, query(session, r.office, r.first, r.last, **r.filters))
    return build


_STATS = "count, mean, p50, p90, max (nearest rank)"
_COMMON_ERRORS = {422: "bad dates, period over 366 days, unknown filter"}
KINDS = (
    ReportKind("waiting", "report.waiting.title", _analytics(waiting_report), waiting_tables, days_before(7),
               (*ANALYTICS_FILTERS, "group"),
               f"Waiting time (issue → first call) and service time (start → finish) in seconds: {_STATS}, issued, "
               "served, no-shows, transfers, in total and per ``group``; tickets issued per weekday × hour "
               "(office-local); transfers from → to (services.analytics.waiting).",
               '{"total", "rows", "heatmap", "transfers"}', {422: "bad dates, period over 366 days, unknown filter "
                                                                 "or group"}),
    ReportKind("productivity", "report.productivity.title", _analytics(productivity_report), productivity_tables,
               days_before(7), ANALYTICS_FILTERS,
               "Per officer: tickets served, no-shows, transfers, mean service time, and open, paused, busy and "
               "idle seconds from the counters' audit rows (services.analytics.productivity).",
               '{"rows", "total"}', _COMMON_ERRORS),
    ReportKind("control-card", "report.control-card.title", _analytics(control_card_report), control_card_tables,
               days_before(7), ANALYTICS_FILTERS,
               "Kartu kendali: per SOP step the minutes files spent in it against its standard minutes (mean, p50, "
               "p90, max, share late, slowest files), the slowest files, and the applications overdue in working "
               "days (services.analytics.sop_steps).",
               '{"steps", "slowest_files", "overdue"}', _COMMON_ERRORS),
    ReportKind("pickups", "report.pickups.title", _analytics(pickups_report), pickups_tables, days_before(7),
               ANALYTICS_FILTERS,
               "Pickups per day by channel (counter, Drive-Thru), KTP-el activations per day, and refusals (pickup "
               "and activation) by reason (services.analytics.pickups).",
               '{"days", "totals", "refusals_by_reason"}', _COMMON_ERRORS),
    ReportKind("activations", "report.act.title",
               lambda s, r: activation_report(s, r.office, r.first, r.last), activation_tables, days_before(7), (),
               "KTP-el activations per day: activations, fingerprint failures, blocks, refusals by reason, and the "
               "waiting and service time (s) of the activation queue next to the other services (issue 5).",
               '{"days", "totals", "refusals_by_reason", "queue"} (services.activation.report)',
               {422: "bad dates or more than 366 days"}),
    ReportKind("ikm", "survey.report.title",
               lambda s, r: ikm_report(s, r.office, r.first, r.last, service=r.filters["service"],
                                       counter=counter_number(r.filters["counter"]), lang=r.lang),
               ikm_tables, semester_start, ("service", "counter"),
               "The IKM (PermenPANRB 14/2017) of an office over the served tickets' days (default the current "
               "semester), optionally of one service (code) or counter (number). Overall, per service and per "
               "counter: NRR per element, weighted NRR, unit value, IKM, grade; comments without names "
               "(services.survey.ikm).",
               '{"office", "from", "to", "overall", "by_service", "by_counter", "by_channel", "comments", "rounding"}',
               {422: "bad dates, period over 731 days, unknown service or counter"}),
    ReportKind("complaints", "complaints.report_title",
               lambda s, r: complaint_report(s, r.office, r.first, r.last), complaint_tables, days_before(30), (),
               "AKAPELA figures of the office (default the last 30 days): counts by kind, channel and outcome; time "
               "to first answer and to resolution (count, mean, median, max; seconds), overall and per kind.",
               '{"office", "from", "to", "totals": {"contacts", "closed", "open", "first_answer": {"count", '
               '"mean_s", "median_s", "max_s"}, "resolution": {...}}, "by_kind", "by_channel", "by_outcome", "kinds"}',
               {422: "bad dates or over 366 days"}),
)
REPORT_KINDS = {k.name: k for k in KINDS}

__all__ = ["GROUPS", "KINDS", "REPORT_KINDS", "ReportKind", "ReportRequest", "counter_number", "date_arg",
           "read_request", "semester_start"]
