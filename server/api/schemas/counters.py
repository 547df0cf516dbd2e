"""Schemas of the counter console operations (``server.api.counters``): one request body
per action that takes one, and the answer every action gives, the counter and its ticket."""
from __future__ import annotations

from marshmallow import fields, validate

from .common import Answer, Body, Text
from .tickets import CounterAnswer, TicketStatusAnswer

#: Where a transferred ticket goes in the other service's line.
POSITIONS = ("front", "back")


class CounterStateAnswer(Answer):
    """``{"counter", "ticket"}``: the counter and the ticket at it (called or being served)
    after the action, null when none."""

    counter = fields.Nested(CounterAnswer, required=True)
    ticket = fields.Nested(TicketStatusAnswer, allow_none=True, required=True)


class CounterListAnswer(Answer):
    counters = fields.List(fields.Nested(CounterAnswer), required=True)


class PauseBody(Body):
    reason = Text(200, required=True, metadata={"description": "shown to staff (break, prayer, system down); "
                                                              "1-200 characters"})


class CallNextBody(Body):
    finish_current = fields.Boolean(load_default=False,
                                    metadata={"description": "first finish the ticket being served"})


class CallBody(Body):
    number = fields.String(required=True, validate=[validate.Length(min=1, max=12), validate.Regexp(r".*\S")],
                           metadata={"example": "A012", "description": "the ticket's number (case ignored)"})


class TransferBody(Body):
    service = Text(200, required=True, metadata={"description": "the code of the service whose line takes it"})
    position = fields.String(load_default="front", validate=validate.OneOf(POSITIONS))
