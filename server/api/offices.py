"""Offices: public details and services, full state for screens, the day report (the
period reports are in ``report_requests``)."""
from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from ..models import COUNTER_ROLES, DeviceKind, Office, Role
from ..security import require, scoped
from ..services.analytics.catalog import date_arg
from ..services.clock import queue_day
from ..services.errors import ValidationError
from ..services.reports import day_report
from ..services.snapshots import office_public, office_snapshot
from ..services.queue.presenters import service_public
from ..models import utcnow
from . import bp
from .helpers import get_office, transaction

AUDIENCES = ("display", "kiosk", "counter")


@bp.get("/offices")
@require(roles=())
def list_offices():
    """Offices the signed-in user may see (admins without an office: all).
    ---
    get:
      tags: [offices]
      responses:
        200: {description: '{"offices": [...]}'}
    """
    with transaction() as s:
        stmt = scoped(select(Office).order_by(Office.code), Office.id)
        return jsonify(offices=[office_public(o) for o in s.scalars(stmt)])


@bp.get("/offices/<code>")
def office(code: str):
    """Public office details and its active services with requirements (no auth).
    ---
    get:
      tags: [offices]
      parameters: [{in: path, name: code, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"office", "services"}'}
        404: {description: unknown office}
    """
    with transaction() as s:
        o = get_office(s, code, check_access=False)
        return jsonify(office=office_public(o), services=[service_public(x) for x in o.services if x.active])


@bp.get("/offices/<code>/state")
@require(roles=tuple(COUNTER_ROLES) + (Role.MANAGER,), devices=(DeviceKind.DISPLAY.value, DeviceKind.KIOSK.value))
def state(code: str):
    """The full state a screen loads (same as the socket ``sync``), for ``?audience=``
    display | kiosk | counter.
    ---
    get:
      tags: [offices]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: audience, schema: {type: string, enum: [display, kiosk, counter]}}
      responses:
        200: {description: snapshot}
    """
    audience = request.args.get("audience", "display")
    if audience not in AUDIENCES:
        raise ValidationError("audience is display, kiosk or counter", field="audience")
    with transaction() as s:
        return jsonify(office_snapshot(s, get_office(s, code), audience))


@bp.get("/offices/<code>/reports/day")
@require(roles=(Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE))
def report_day(code: str):
    """The day report (``?date=YYYY-MM-DD``, default today, office-local): issued, served,
    no-show, waiting and service time in seconds (count, mean, p50, p90, max) per service.
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: date, schema: {type: string, format: date}}
      responses:
        200: {description: day report}
    """
    with transaction() as s:
        o = get_office(s, code)
        return jsonify(day_report(s, o, date_arg(request.args, "date", queue_day(o, utcnow()))))
