"""The one way every managers' report is asked for and answered, on the API and on its page
(issue 7: "Export every report to CSV and XLSX; a printable view").

A report (``services.analytics.catalog.KINDS``: waiting, productivity, control-card,
pickups, activations, ikm, complaints) answers at ``GET /api/v1/offices/<code>/reports/<name>``
for managers, section and division heads, the head of office (and admins) of that office:
``from``/``to`` (office-local dates; the default period is the report's), the report's
filters, and ``format`` = json (default) | csv | xlsx. Errors: 401, 403 (role or another
office), 404 (office), 422 ``validation_error`` (date, period, filter, format).

The pages (``server.web.report_pages``) read the request and write the files with the same
functions, so a figure is computed once for all three.
"""
from __future__ import annotations

from collections.abc import Mapping

from flask import Response, jsonify, request
from sqlalchemy.orm import Session

from ..i18n import current_language, translate
from ..models import Office, Role, utcnow
from ..security import require
from ..services.analytics import to_csv, to_xlsx
from ..services.analytics.catalog import KINDS, ReportKind, read_request
from ..services.clock import queue_day
from ..services.errors import ValidationError
from . import bp
from .helpers import get_office, transaction

REPORT_VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)
FORMATS = ("json", "csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: the API endpoint name of each report (kept from before the reports shared this module)
ENDPOINTS = {"waiting": "report_waiting", "productivity": "report_productivity",
             "control-card": "report_control_card", "pickups": "report_pickups",
             "activations": "report_activations", "ikm": "report_ikm", "complaints": "complaint_report_api"}
_FILTER_DOCS = {
    "service": "{in: query, name: service, schema: {type: string}, description: service code}",
    "counter": "{in: query, name: counter, schema: {type: integer}, description: counter number}",
    "officer": "{in: query, name: officer, schema: {type: string}, description: staff username}",
    "group": "{in: query, name: group, schema: {type: string, enum: [none, service, counter, officer, day]}}",
}


def report_format(args: Mapping) -> str:
    """``?format=``: json (default), csv or xlsx. Raises ValidationError (field format)."""
    fmt = args.get("format") or "json"
    if fmt not in FORMATS:
        raise ValidationError("format is json, csv or xlsx", field="format")
    return fmt


def build_report(session: Session, kind: ReportKind, office: Office, args: Mapping) -> tuple[dict, list]:
    """``kind``'s report of ``office`` for query ``args`` in the request's language: (report
    dict, its tables). Raises ValidationError for bad dates, period or filters."""
    req = read_request(kind, office, args, today=queue_day(office, utcnow()), lang=current_language())
    report = kind.build(session, req)
    return report, kind.tables(report)


def file_response(kind: ReportKind, report: dict, tables: list, fmt: str) -> Response:
    """``report``'s tables as a CSV or XLSX download (``fmt``), in the request's language,
    named ``loket-<office>-<report>-<from>-<to>.<fmt>``."""
    lang = current_language()
    tr = lambda key: translate(key, lang)  # noqa: E731
    office = report["office"]["code"] if isinstance(report["office"], dict) else report["office"]
    heading = f"{tr(kind.title_key)} · {office} · {report['from']} – {report['to']}"
    filename = f"loket-{office}-{kind.name}-{report['from']}-{report['to']}.{fmt}"
    body, mimetype = ((to_csv(tables, tr, heading=heading), "text/csv; charset=utf-8") if fmt == "csv"
                      else (to_xlsx(tables, tr, heading=heading), XLSX))
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def serve_report(kind: ReportKind, code: str) -> Response:
    """The API answer of ``kind`` for office ``code`` and this request (see the module
    docstring): JSON, or the CSV / XLSX file."""
    fmt = report_format(request.args)
    with transaction() as s:
        report, tables = build_report(s, kind, get_office(s, code), request.args)
    return jsonify(report) if fmt == "json" else file_response(kind, report, tables, fmt)


def _api_doc(kind: ReportKind) -> str:
    """The view docstring of ``kind``: its summary and the OpenAPI YAML (``api.openapi``)."""
    params = ["{in: path, name: code, required: true, schema: {type: string}}",
              "{in: query, name: from, schema: {type: string, format: date}}",
              "{in: query, name: to, schema: {type: string, format: date}}",
              *[_FILTER_DOCS[f] for f in kind.filters],
              "{in: query, name: format, schema: {type: string, enum: [json, csv, xlsx]}}"]
    responses = {200: f"{kind.returns} or a CSV / XLSX file", 403: "not a manager or head of this office",
                 **kind.errors}
    lines = [kind.summary, "---", "get:", "  tags: [reports]", "  parameters:",
             *[f"    - {p}" for p in params], "  responses:",
             *[f"    {status}: {{description: '{text}'}}" for status, text in responses.items()]]
    return "\n".join(lines)


def _add_report_endpoint(kind: ReportKind) -> None:
    def view(code: str):
        return serve_report(kind, code)

    view.__name__ = ENDPOINTS[kind.name]
    view.__doc__ = _api_doc(kind)
    bp.add_url_rule(f"/offices/<code>/reports/{kind.name}", endpoint=view.__name__,
                    view_func=require(roles=REPORT_VIEWERS)(view), methods=["GET"])


for _kind in KINDS:
    _add_report_endpoint(_kind)
