"""IKM satisfaction survey (issue 7, PermenPANRB 14/2017): the counter tablet and the signed
phone link. Rules in ``server.services.survey``; the managers' IKM report
(``/offices/<code>/reports/ikm``) is served with the other reports (``report_requests``).

Errors answer {"error", "message", "details"}: 422 ``validation_error`` (field u1..u9 with
``missing``/``invalid``, or comment), 409 ``survey_not_served`` / ``survey_already_answered``
/ ``survey_expired``, 400 ``survey_link_invalid`` (forged or altered link), 403
``survey_wrong_counter`` / ``forbidden``, 404 ``not_found``.
"""
from __future__ import annotations

from flask import abort, current_app, g, jsonify

from ..i18n import current_language
from ..models import DeviceKind, Office, Ticket, TicketStatus
from ..security import current_actor
from ..services.snapshots import follow_transfers
from ..services.survey import (
    SurveySigner,
    response_view,
    submit_response,
    survey_signer,
    tablet_submit,
    tablet_ticket,
    ticket_of_link,
)
from ..services.survey.responses import answered
from . import bp
from .helpers import body, transaction

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


def ticket_survey_path(session, public_id: str) -> str | None:
    """The survey link path of the ticket behind ``public_id`` (after transfers), when it was
    served; None otherwise (unknown, or not done)."""
    from sqlalchemy import select

    ticket = session.scalars(select(Ticket).where(Ticket.public_id == public_id)).first()
    if ticket is None:
        return None
    ticket = follow_transfers(session, ticket)
    return survey_path(session, ticket) if ticket.status == TicketStatus.DONE.value else None


