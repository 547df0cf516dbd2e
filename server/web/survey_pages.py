"""IKM satisfaction survey pages (issue 7): the counter tablet ``/survey/<office>?token=``,
the phone link ``/s/<token>`` and the ticket page's way in ``/t/<public id>/survey``. The
managers' report ``/reports/ikm`` is in ``reports_pages``.

The survey pages are public and hold no personal data: the ticket's number, service and
counter only. One template (``survey.html``) draws the nine questions with their four
answers in the page's language; ``static/js/survey.js`` sends them through the API
(``server.api.survey``) and, on the tablet, follows the office's public stream.
"""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import select

from ..api.survey import link_view, signer, ticket_survey_path
from ..i18n import current_language
from ..models import Office
from ..services.errors import NotFound
from ..services.survey import ELEMENTS, SCALE, ticket_of_link
from ..services.survey.links import SurveyLinkInvalid
from . import bp


def _db():
    return current_app.extensions["loket"].db


@bp.get("/survey/<office_code>")
def survey_tablet(office_code: str):
    """The survey tablet of a counter (its device token in ``?token=``, checked by the
    page's script): idle "thank you" screen, the survey after a finish at its counters."""
    with _db().session() as s:
        office = s.scalars(select(Office).where(Office.code == office_code)).first()
        if office is None:
            abort(404)
        info = {"code": office.code, "name": office.name}
    return render_template("survey.html", mode="tablet", office=info, elements=ELEMENTS, scale=SCALE,
                           state=None, token=None)


@bp.get("/s/<token>")
def survey_link(token: str):
    """The survey of one served ticket through its signed link (phones)."""
    lang = current_language()
    with _db().session() as s:
        try:
            state = link_view(s, ticket_of_link(s, signer(), token), lang)
        except SurveyLinkInvalid:
            return render_template("survey.html", mode="link", office=None, elements=ELEMENTS, scale=SCALE,
                                   state={"invalid": True}, token=None), 400
        except NotFound:
            abort(404)
    return render_template("survey.html", mode="link", office=state["office"], elements=ELEMENTS, scale=SCALE,
                           state=state, token=token)


@bp.get("/t/<public_id>/survey")
def ticket_survey(public_id: str):
    """From the public ticket page: to the survey link once the ticket is done, else back."""
    with _db().session() as s:
        path = ticket_survey_path(s, public_id)
    if path is None:
        return redirect(url_for("web.ticket_page", public_id=public_id))
    return redirect(path + (f"?lang={request.args['lang']}" if request.args.get("lang") in ("id", "en") else ""))
