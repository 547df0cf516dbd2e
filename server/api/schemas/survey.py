"""Schemas of the IKM survey operations (``server.api.survey``, issue 7, PermenPANRB
14/2017): the counter tablet and the signed phone link.

The answers are checked by the service (``services.survey.responses.clean_answers``:
every element u1..u9 answered 1..4, "U1" keys and one-digit strings accepted), which names
the ``missing`` and ``invalid`` elements in the 422's details; the schema documents them."""
from __future__ import annotations

from marshmallow import fields

from ...models import SURVEY_COMMENT_MAX
from ...services.survey import ELEMENTS, SCALE
from .common import Answer, Body, Id, Text

#: The OpenAPI shape of a full set of answers: {"u1": 1..4, ..., "u9": 1..4}.
_ANSWER_PROPERTIES = {el.key: {"type": "integer", "minimum": min(SCALE), "maximum": max(SCALE)} for el in ELEMENTS}


def _answers(**kwargs) -> fields.Dict:
    return fields.Dict(keys=fields.String(), **kwargs, metadata={
        "description": "each element u1..u9 answered on the scale 1 (worst) .. 4 (best)",
        "properties": _ANSWER_PROPERTIES})


class SurveyLinkBody(Body):
    """The answers through the phone link."""

    answers = _answers(values=fields.Raw(), required=True)
    comment = Text(SURVEY_COMMENT_MAX, allow_none=True, metadata={"description": "optional"})


class SurveyTabletBody(SurveyLinkBody):
    """The answers taken on the counter tablet, for the ticket it showed."""

    ticket_id = Id(required=True)


class SurveyOfficeAnswer(Answer):
    code = fields.String(required=True)
    name = fields.String(required=True)


class SurveyCounterAnswer(Answer):
    number = fields.Integer(required=True)
    label = fields.String(allow_none=True)


class SurveyTabletTicketAnswer(Answer):
    """The ticket the tablet asks about: no name or NIK."""

    id = fields.Integer(required=True)
    number = fields.String(required=True)
    service = fields.String(required=True)
    counter_number = fields.Integer(allow_none=True)
    counter_label = fields.String(allow_none=True)
    finished_at = fields.String(allow_none=True, metadata={"description": "ISO 8601"})


class SurveyTabletAnswer(Answer):
    """The tablet's screen: the ticket finished last at its counters, or null (idle)."""

    office = fields.Nested(SurveyOfficeAnswer, required=True)
    counters = fields.List(fields.Nested(SurveyCounterAnswer), required=True)
    ticket = fields.Nested(SurveyTabletTicketAnswer, allow_none=True, required=True)


class SurveyLinkTicketAnswer(Answer):
    number = fields.String(required=True)
    service = fields.String(required=True)
    day = fields.String(required=True, metadata={"description": "YYYY-MM-DD"})
    counter_label = fields.String(allow_none=True)


class SurveyLinkAnswer(Answer):
    """What a phone link names: no personal data."""

    office = fields.Nested(SurveyOfficeAnswer, required=True)
    ticket = fields.Nested(SurveyLinkTicketAnswer, required=True)
    served = fields.Boolean(required=True)
    answered = fields.Boolean(required=True)


class SurveyStoredAnswer(Answer):
    """A stored response (no personal data)."""

    id = fields.Integer(required=True)
    ticket_id = fields.Integer(required=True)
    channel = fields.String(required=True, metadata={"enum": ["counter", "link"]})
    answers = _answers(values=fields.Integer(), required=True)
    comment = fields.String(allow_none=True)
    submitted_at = fields.String(required=True, metadata={"description": "ISO 8601"})


class SurveyResponseAnswer(Answer):
    response = fields.Nested(SurveyStoredAnswer, required=True)
