"""IKM satisfaction survey (issue 7, PermenPANRB 14/2017): the counter tablet, the signed
phone link, and the managers' IKM report. Rules in ``server.services.survey``.

Errors answer {"error", "message", "details"}: 422 ``validation_error`` (field u1..u9 with
``missing``/``invalid``, or comment), 409 ``survey_not_served`` / ``survey_already_answered``
/ ``survey_expired``, 400 ``survey_link_invalid`` (forged or altered link), 403
``survey_wrong_counter`` / ``forbidden``, 404 ``not_found``.
"""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, g, jsonify, request

from ..i18n import current_language
from ..models import DeviceKind, Office, Role, Ticket, TicketStatus, utcnow
from ..security import current_actor, require
from ..services.clock import queue_day
from ..services.errors import ValidationError
from ..services.snapshots import follow_transfers
from ..services.survey import (
    SurveySigner,
    ikm_report,
    response_view,
    submit_response,
    survey_signer,
    tablet_submit,
    tablet_ticket,
    ticket_of_link,
)
from ..services.survey.responses import answered
from . import bp
from .helpers import body, get_office, int_arg, transaction

REPORT_ROLES = (Role.MANAGER, Role.SECTION_HEAD, Role.DIVISION_HEAD, Role.HEAD_OF_OFFICE, Role.ADMIN)


def signer() -> SurveySigner:
    """The app's survey link signer (made once per app)."""
    found = current_app.extensions.get("loket_survey_signer")
    if found is None:
        found = current_app.extensions.setdefault("loket_survey_signer", survey_signer(current_app.config["SECRET_KEY"]))
    return found


def survey_path(session, ticket: Ticket) -> str:
    """The path ``/s/<token>`` of ``ticket``'s survey link."""
    return "/s/" + signer().token(ticket, session.get(Office, ticket.office_id))


def link_view(session, ticket: Ticket, lang: str) -> dict:
    """What the link page shows: {"office": {"code", "name"}, "ticket": {"number",
    "service", "day", "counter_label"}, "served": bool, "answered": bool}; no personal data."""
    office = session.get(Office, ticket.office_id)
    return {"office": {"code": office.code, "name": office.name},
            "ticket": {"number": ticket.display_number, "service": ticket.service.name(lang),
                       "day": ticket.day.isoformat(), "counter_label": ticket.counter.label if ticket.counter else None},
            "served": ticket.status == TicketStatus.DONE.value, "answered": answered(session, ticket.id)}


def _survey_device() -> int:
    device = g.get("device")
    if device is None or device.kind != DeviceKind.SURVEY.value:
        abort(403)
    return device.id


@bp.get("/survey/tablet")
def survey_tablet_state():
    """The survey tablet's screen (device token of kind ``survey``): the ticket finished last
    at its counters within 30 min and not yet answered, or null (idle).
    ---
    get:
      tags: [survey]
      responses:
        200: {description: '{"office", "counters": [{"number", "label"}], "ticket": {"id", "number", "service", "counter_number", "counter_label", "finished_at"} | null}'}
    """
    device_id = _survey_device()
    with transaction() as s:
        return jsonify(tablet_ticket(s, device_id, lang=current_language()))


@bp.post("/survey/tablet")
def survey_tablet_submit():
    """The answers taken on the tablet: body {"ticket_id", "answers": {"u1": 1..4, …, "u9"},
    "comment": optional text ≤ 500}. 201 with the stored response.
    ---
    post:
      tags: [survey]
      responses:
        201: {description: '{"response": {"id", "ticket_id", "channel", "answers", "comment", "submitted_at"}}'}
        409: {description: survey_not_served, survey_already_answered or survey_expired}
        422: {description: validation_error}
    """
    device_id = _survey_device()
    data = body()
    with transaction() as s:
        response = tablet_submit(s, device_id, data.get("ticket_id"), data.get("answers"), data.get("comment"))
        return jsonify(response=response_view(response)), 201


@bp.get("/survey/link/<token>")
def survey_link_state(token: str):
    """What the phone link names (public; the token is the signed link): office, ticket
    number and service, whether it was served and already answered.
    ---
    get:
      tags: [survey]
      parameters: [{in: path, name: token, required: true, schema: {type: string}}]
      responses:
        200: {description: '{"office", "ticket": {"number", "service", "day", "counter_label"}, "served", "answered"}'}
        400: {description: survey_link_invalid}
    """
    with transaction() as s:
        return jsonify(link_view(s, ticket_of_link(s, signer(), token), current_language()))


@bp.post("/survey/link/<token>")
def survey_link_submit(token: str):
    """Answer through the phone link: body {"answers": {"u1": 1..4, …}, "comment"}. 201.
    ---
    post:
      tags: [survey]
      parameters: [{in: path, name: token, required: true, schema: {type: string}}]
      responses:
        201: {description: '{"response"}'}
        400: {description: survey_link_invalid}
        409: {description: survey_not_served or survey_already_answered}
        422: {description: validation_error}
    """
    data = body()
    with transaction() as s:
        ticket = ticket_of_link(s, signer(), token)
        response = submit_response(s, ticket, data.get("answers"), data.get("comment"), channel="link",
                                   actor=current_actor())
        return jsonify(response=response_view(response)), 201


def _date_arg(name: str, default: date) -> date:
    raw = request.args.get(name)
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError:
        raise ValidationError(f"{name} must be YYYY-MM-DD", field=name) from None


def semester_start(day: date) -> date:
    """1 January or 1 July before ``day``: the IKM is measured each semester (seed 002)."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def report_period(office: Office) -> tuple[date, date]:
    """``?from=&to=`` (office-local dates); default the current semester up to today."""
    today = queue_day(office, utcnow())
    last = _date_arg("to", today)
    return _date_arg("from", semester_start(last)), last


@bp.get("/offices/<code>/reports/ikm")
@require(roles=REPORT_ROLES)
def report_ikm(code: str):
    """The IKM (PermenPANRB 14/2017) of an office: ``?from=&to=`` (office-local days of the
    served tickets, default the current semester), ``service`` (code), ``counter`` (number).
    Overall, per service and per counter: NRR per element, weighted NRR, unit value, IKM,
    grade; comments without names (``services.survey.ikm``).
    ---
    get:
      tags: [reports]
      parameters:
        - {in: path, name: code, required: true, schema: {type: string}}
        - {in: query, name: from, schema: {type: string, format: date}}
        - {in: query, name: to, schema: {type: string, format: date}}
        - {in: query, name: service, schema: {type: string}}
        - {in: query, name: counter, schema: {type: integer}}
      responses:
        200: {description: '{"office", "from", "to", "overall", "by_service", "by_counter", "by_channel", "comments", "rounding"}'}
    """
    with transaction() as s:
        office = get_office(s, code)
        first, last = report_period(office)
        counter = int_arg(request.args, "counter", None, lo=1, hi=9999)
        return jsonify(ikm_report(s, office, first, last, service=request.args.get("service") or None,
                                  counter=counter, lang=current_language()))


def ticket_survey_path(session, public_id: str) -> str | None:
    """The survey link path of the ticket behind ``public_id`` (after transfers), when it was
    served; None otherwise (unknown, or not done)."""
    from sqlalchemy import select

    ticket = session.scalars(select(Ticket).where(Ticket.public_id == public_id)).first()
    if ticket is None:
        return None
    ticket = follow_transfers(session, ticket)
    return survey_path(session, ticket) if ticket.status == TicketStatus.DONE.value else None


