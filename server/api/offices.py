"""Offices: public details and services, full state for screens, the day report (the
period reports are in ``report_requests``)."""
from __future__ import annotations

from sqlalchemy import select

from ..models import COUNTER_ROLES, DeviceKind, Office, Role, utcnow
from ..security import scoped
from ..services.clock import queue_day
from ..services.queue.presenters import service_public
from ..services.reports import day_report
from ..services.snapshots import office_public, office_snapshot
from . import bp
from .contract import access, errors, public
from .helpers import get_office, transaction
from .schemas.offices import (
    DayQuery,
    DayReportAnswer,
    OfficeDetailAnswer,
    OfficeListAnswer,
    SnapshotAnswer,
    StateQuery,
)


@bp.get("/offices")
@access(roles=())
@bp.response(200, OfficeListAnswer)
@errors()
def list_offices():
    """Offices the signed-in user may see (admins without an office: all): ``{"offices"}``."""
    with transaction() as s:
        stmt = scoped(select(Office).order_by(Office.code), Office.id)
        return {"offices": [office_public(o) for o in s.scalars(stmt)]}


@bp.get("/offices/<code>")
@public
@bp.response(200, OfficeDetailAnswer)
@errors(404)
def office(code: str):
    """Public office details and its active services with requirements (no sign-in):
    ``{"office", "services"}``; 404 unknown office."""
    with transaction() as s:
        o = get_office(s, code, check_access=False)
        return {"office": office_public(o), "services": [service_public(x) for x in o.services if x.active]}


@bp.get("/offices/<code>/state")
@access(roles=tuple(COUNTER_ROLES) + (Role.MANAGER,), devices=(DeviceKind.DISPLAY.value, DeviceKind.KIOSK.value))
@bp.arguments(StateQuery, location="query")
@bp.response(200, SnapshotAnswer)
@errors(404)
def state(args: dict, code: str):
    """The full state a screen loads (same as the socket ``sync``) for ``audience``
    display (default), kiosk or counter; 404 unknown office."""
    with transaction() as s:
        return office_snapshot(s, get_office(s, code), args["audience"])


@bp.get("/offices/<code>/reports/day")
@access(roles=(Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE))
@bp.arguments(DayQuery, location="query")
@bp.response(200, DayReportAnswer)
@errors(404)
def report_day(args: dict, code: str):
    """The day report of ``date`` (YYYY-MM-DD, default today, office-local): issued,
    served, no-show, waiting and service time in seconds (count, mean, p50, p90, max) per
    service and in total; 404 unknown office."""
    with transaction() as s:
        o = get_office(s, code)
        return day_report(s, o, args.get("date") or queue_day(o, utcnow()))
