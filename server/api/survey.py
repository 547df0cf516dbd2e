"""IKM satisfaction survey (issue 7, PermenPANRB 14/2017): the counter tablet and the signed
phone link. Rules in ``server.services.survey``; the managers' IKM report
(``/offices/<code>/reports/ikm``) is served with the other reports (``report_requests``).

Errors answer {"error", "message", "details"}: 422 ``validation_error`` (field u1..u9 with
``missing``/``invalid``, or comment), 409 ``survey_not_served`` / ``survey_already_answered``
/ ``survey_expired``, 400 ``survey_link_invalid`` (forged or altered link), 403
``survey_wrong_counter`` / ``forbidden``, 404 ``not_found``. Bodies and answers are the
schemas of ``server.api.schemas.survey``.
"""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, g

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
from .contract import access, errors, public
from .helpers import transaction
from .schemas.survey import SurveyLinkAnswer, SurveyLinkBody, SurveyResponseAnswer, SurveyTabletAnswer, SurveyTabletBody

SURVEY_TABLET = (DeviceKind.SURVEY.value,)


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


def tablet_only(view):
    """Decorator under ``access(devices=SURVEY_TABLET)``: 403 for any caller but a survey
    tablet (a staff session too, which ``access`` lets through), before the body is read."""
    @wraps(view)
    def inner(*args, **kwargs):
        device = g.get("device")
        if device is None or device.kind != DeviceKind.SURVEY.value:
            abort(403)
        return view(*args, **kwargs)

    return inner


@bp.get("/survey/tablet")
@access(devices=SURVEY_TABLET)
@tablet_only
@bp.response(200, SurveyTabletAnswer)
@errors(404)
def survey_tablet_state():
    """The survey tablet's screen (device token of kind ``survey``): the ticket finished last
    at its counters within 30 min and not yet answered, or null (idle)."""
    with transaction() as s:
        return tablet_ticket(s, g.device.id, lang=current_language())


@bp.post("/survey/tablet")
@access(devices=SURVEY_TABLET)
@tablet_only
@bp.arguments(SurveyTabletBody)
@bp.response(201, SurveyResponseAnswer)
@errors(404, 409)
def survey_tablet_submit(data: dict):
    """The answers taken on the tablet for the ticket it showed (u1..u9 on 1..4, an optional
    comment of at most 500 characters); 201 with the stored response. 404 a ticket not of
    the tablet's office; 403 ``survey_wrong_counter``; 409 ``survey_not_served``,
    ``survey_already_answered`` or ``survey_expired``; 422 with the ``missing`` and
    ``invalid`` elements."""
    with transaction() as s:
        response = tablet_submit(s, g.device.id, data["ticket_id"], data["answers"], data.get("comment"))
        return {"response": response_view(response)}, 201


@bp.get("/survey/link/<token>")
@public
@bp.response(200, SurveyLinkAnswer)
@errors(404)
def survey_link_state(token: str):
    """What the phone link names (public; the token is the signed link): office, ticket
    number and service, whether it was served and already answered. 400
    ``survey_link_invalid`` for a forged or altered link."""
    with transaction() as s:
        return link_view(s, ticket_of_link(s, signer(), token), current_language())


@bp.post("/survey/link/<token>")
@public
@bp.arguments(SurveyLinkBody)
@bp.response(201, SurveyResponseAnswer)
@errors(404, 409)
def survey_link_submit(data: dict, token: str):
    """Answer through the phone link (CSRF token as for any page form): u1..u9 on 1..4 and an
    optional comment; 201 with the stored response. 400 ``survey_link_invalid``; 409
    ``survey_not_served`` or ``survey_already_answered``; 422 with the ``missing`` and
    ``invalid`` elements."""
    with transaction() as s:
        ticket = ticket_of_link(s, signer(), token)
        response = submit_response(s, ticket, data["answers"], data.get("comment"), channel="link",
                                   actor=current_actor())
        return {"response": response_view(response)}, 201


def ticket_survey_path(session, public_id: str) -> str | None:
    """The survey link path of the ticket behind ``public_id`` (after transfers), when it was
    served; None otherwise (unknown, or not done)."""
    from sqlalchemy import select

    ticket = session.scalars(select(Ticket).where(Ticket.public_id == public_id)).first()
    if ticket is None:
        return None
    ticket = follow_transfers(session, ticket)
    return survey_path(session, ticket) if ticket.status == TicketStatus.DONE.value else None
