"""Schemas of the staff sign-in operations (``server.api.session``)."""
from __future__ import annotations

from marshmallow import fields

from .common import Answer, Body, Text


class LoginBody(Body):
    username = Text(required=True)
    password = Text(required=True)


class UserAnswer(Answer):
    """A staff user as the API shows it."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    full_name = fields.String(allow_none=True)
    role = fields.String(required=True)
    office_id = fields.Integer(allow_none=True, metadata={"description": "null for a system admin"})


class CsrfAnswer(Answer):
    csrf_token = fields.String(required=True)


class LoginAnswer(Answer):
    user = fields.Nested(UserAnswer, required=True)
    csrf_token = fields.String(required=True, metadata={"description": "the new token (the one before stops working)"})


class MeAnswer(Answer):
    user = fields.Nested(UserAnswer, required=True)
