"""Managers' reports over any period (issue 7): waiting and service time, officer
productivity, kartu kendali against standard times, pickups and activations. JSON by
default; ``?format=csv`` or ``?format=xlsx`` downloads the same figures as a file.

Common query parameters: ``from``, ``to`` (office-local dates, default the last 7 days,
at most 366 days), ``service`` (code), ``counter`` (number), ``officer`` (username) and,
for the waiting report, ``group`` (none, service, counter, officer, day). The staff pages
(``server/web/analytics_pages.py``) use :func:`run_report` and :func:`file_response` too.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import Response, jsonify, request

from ..i18n import current_language, translate
from ..models import Office, Role, utcnow
from ..security import require
from ..services.analytics import REPORTS, query, to_csv, to_xlsx
from ..services.clock import queue_day
from ..services.errors import ValidationError
from . import bp
from .helpers import get_office, transaction

VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE)
FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(args, name: str, default: date) -> date:
    raw = args.get(name)
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise ValidationError(f"{name} must be YYYY-MM-DD", field=name) from None


def run_report(session, office: Office, name: str, args) -> tuple[dict, list]:
    """The report ``name`` (a key of ``services.analytics.REPORTS``) of ``office`` for the
    request ``args`` (see the module docstring): (report dict, its tables). Raises
    ValidationError for bad dates or filters."""
    build, tables = REPORTS[name]
    last = _date(args, "to", queue_day(office, utcnow()))
    first = _date(args, "from", last - timedelta(days=6))
    group = args.get("group") if name == "waiting" else None
    q = query(session, office, first, last, group=group, service=args.get("service") or None,
              counter=args.get("counter") or None, officer=args.get("officer") or None)
    report = build(session, q)
    return report, tables(report)


def file_response(name: str, report: dict, tables: list, fmt: str) -> Response:
    """``report``'s tables as a CSV or XLSX download in the request's language."""
    lang = current_language()
    tr = lambda key: translate(key, lang)  # noqa: E731
    heading = f"{tr('report.' + name + '.title')} · {report['office']} · {report['from']} – {report['to']}"
    filename = f"loket-{report['office']}-{name}-{report['from']}-{report['to']}.{fmt}"
    body, mimetype = ((to_csv(tables, tr, heading=heading), "text/csv; charset=utf-8") if fmt == "csv"
                      else (to_xlsx(tables, tr, heading=heading), XLSX))
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _serve(code: str, name: str):
    fmt = request.args.get("format") or "json"
    if fmt not in FORMATS:
        raise ValidationError("format is json, csv or xlsx", field="format")
    with transaction() as s:
        report, tables = run_report(s, get_office(s, code), name, request.args)
    return jsonify(report) if fmt == "json" else file_response(name, report, tables, fmt)


@bp.get("/offices/<code>/reports/waiting")
@require(roles=VIEWERS)
def report_waiting(code: str):
    """Waiting time (issue → first call) and service time (start → finish) in seconds:
    count, mean, p50, p90, max (nearest rank), issued, served, no-shows, transfers, in total
    and per ``group``; tickets issued per weekday × hour (office-local); transfers from → to
    (services.analytics.waiting).
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
        - {in: query, name: service, schema: {type: string}, description: service code}
        - {in: query, name: counter, schema: {type: integer}, description: counter number}
        - {in: query, name: officer, schema: {type: string}, description: staff username}
        - {in: query, name: format, schema: {type: string, enum: [json, csv, xlsx]}}
        - {in: query, name: group, schema: {type: string, enum: [none, service, counter, officer, day]}}
      responses:
        200: {description: '{"total", "rows", "heatmap", "transfers"} or a CSV / XLSX file'}
        403: {description: not a manager or head of this office}
        422: {description: bad dates, period over 366 days, unknown filter or group}
    """
    return _serve(code, "waiting")


@bp.get("/offices/<code>/reports/productivity")
@require(roles=VIEWERS)
def report_productivity(code: str):
    """Per officer: tickets served, no-shows, transfers, mean service time, and open,
    paused, busy and idle seconds from the counters' audit rows (definitions in
    services.analytics.productivity).
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
        - {in: query, name: service, schema: {type: string}, description: service code}
        - {in: query, name: counter, schema: {type: integer}, description: counter number}
        - {in: query, name: officer, schema: {type: string}, description: staff username}
        - {in: query, name: format, schema: {type: string, enum: [json, csv, xlsx]}}
      responses:
        200: {description: '{"rows", "total"} or a CSV / XLSX file'}
        403: {description: not a manager or head of this office}
        422: {description: bad dates or filters}
    """
    return _serve(code, "productivity")


@bp.get("/offices/<code>/reports/control-card")
@require(roles=VIEWERS)
def report_control_card(code: str):
    """Kartu kendali: per SOP step the minutes files spent in it against its standard
    minutes (mean, p50, p90, max, share late, slowest files), the slowest files, and the
    applications overdue in working days (services.analytics.sop_steps).
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
        - {in: query, name: service, schema: {type: string}, description: service code}
        - {in: query, name: counter, schema: {type: integer}, description: counter number}
        - {in: query, name: officer, schema: {type: string}, description: staff username}
        - {in: query, name: format, schema: {type: string, enum: [json, csv, xlsx]}}
      responses:
        200: {description: '{"steps", "slowest_files", "overdue"} or a CSV / XLSX file'}
        403: {description: not a manager or head of this office}
        422: {description: bad dates or filters}
    """
    return _serve(code, "control-card")


@bp.get("/offices/<code>/reports/pickups")
@require(roles=VIEWERS)
def report_pickups(code: str):
    """Pickups per day by channel (counter, Drive-Thru), KTP-el activations per day, and
    refusals (pickup and activation) by reason (services.analytics.pickups).
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
        - {in: query, name: service, schema: {type: string}, description: service code}
        - {in: query, name: counter, schema: {type: integer}, description: counter number}
        - {in: query, name: officer, schema: {type: string}, description: staff username}
        - {in: query, name: format, schema: {type: string, enum: [json, csv, xlsx]}}
      responses:
        200: {description: '{"days", "totals", "refusals_by_reason"} or a CSV / XLSX file'}
        403: {description: not a manager or head of this office}
        422: {description: bad dates or filters}
    """
    return _serve(code, "pickups")
