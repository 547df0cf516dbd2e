"""The IKM satisfaction survey (Survei Kepuasan Masyarakat, PermenPANRB 14/2017).

``elements``: the nine elements U1..U9 and the 1..4 scale; ``responses``: taking one
citizen's answers for a served ticket (counter tablet or signed link), with its refusals;
``links``: the signed survey link ``/s/<token>``; ``tablet``: which ticket a counter's
survey tablet asks about; ``ikm``: the index per office, service, counter and period.
"""
from .elements import ELEMENTS, SCALE, Element
from .ikm import IkmResult, grade_of, ikm_of, ikm_report
from .links import SurveyLinkInvalid, SurveySigner, survey_signer, ticket_of_link
from .responses import (
    SurveyAlreadyAnswered,
    SurveyNotServed,
    clean_answers,
    response_view,
    submit_response,
)
from .tablet import SurveyWrongCounter, SurveyExpired, tablet_counters, tablet_ticket, tablet_submit

__all__ = [
    "ELEMENTS", "SCALE", "Element", "IkmResult", "grade_of", "ikm_of", "ikm_report", "SurveyLinkInvalid", "SurveySigner", "ticket_of_link",
    "survey_signer", "SurveyAlreadyAnswered", "SurveyNotServed", "clean_answers", "response_view",
    "submit_response", "SurveyWrongCounter", "SurveyExpired", "tablet_counters", "tablet_ticket", "tablet_submit",
]
