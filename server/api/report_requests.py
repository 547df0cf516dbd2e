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

from flask import Response
from sqlalchemy.orm import Session

from ..i18n import current_language, translate
from ..models import Office, Role, utcnow
from ..services.analytics import to_csv, to_xlsx
from ..services.analytics.catalog import KINDS, ReportKind, read_request
from ..services.clock import queue_day
from . import bp
from .contract import access, errors
from .helpers import get_office, transaction
from .schemas.reports import ANSWERS, query_schema

REPORT_VIEWERS = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: the API endpoint name of each report (kept from before the reports shared this module)
ENDPOINTS = {"waiting": "report_waiting", "productivity": "report_productivity",
             "control-card": "report_control_card", "pickups": "report_pickups",
             "activations": "report_activations", "ikm": "report_ikm", "complaints": "complaint_report_api"}


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


def _report_operation(kind: ReportKind) -> None:
    """``GET /offices/<code>/reports/<kind>``: its query schema, its answer schema (JSON)
    and the CSV / XLSX files, for the report viewers of the office."""
    def view(query: dict, code: str):
        with transaction() as s:
            report, tables = build_report(s, kind, get_office(s, code), query)
        return report if query["format"] == "json" else file_response(kind, report, tables, query["format"])

    view.__name__ = ENDPOINTS[kind.name]
    view.__doc__ = (f"{kind.summary}\n\n``format=csv`` or ``xlsx``: the report's tables as a file "
                    "(``loket-<office>-<report>-<from>-<to>.<format>``). 403 not a manager or head of this "
                    f"office, 404 unknown office, 422 {kind.errors.get(422, 'bad dates or filters')}.")
    operation = errors(404)(view)
    for content_type, what in (("text/csv", "CSV"), (XLSX, "XLSX")):
        operation = bp.alt_response(200, content_type=content_type, description=f"format={what.lower()}: the {what} file",
                                    schema={"type": "string", "format": "binary"})(operation)
    operation = bp.response(200, ANSWERS[kind.name], description="format=json (default): the report")(operation)
    operation = bp.arguments(query_schema(kind), location="query")(operation)
    operation = access(roles=REPORT_VIEWERS)(operation)
    bp.route(f"/offices/<code>/reports/{kind.name}", endpoint=view.__name__, methods=["GET"],
             tags=["reports"])(operation)


for _kind in KINDS:
    _report_operation(_kind)
