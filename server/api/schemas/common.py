"""Shared fields and schemas of the API: the error body, the base classes of request and
answer schemas, and the field kinds every area uses (bounded text, database ids, versions)."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

#: The largest value of a PostgreSQL ``integer`` column: ids and counts above it are refused
#: by the schema, before the database sees them.
INT4_MAX = 2**31 - 1


class ErrorSchema(Schema):
    """Every error answer: ``{"error": code, "message": text, "details"?: {...}}``
    (``server.api_errors``); the message in the caller's language."""

    error = fields.String(required=True, metadata={"description": "a stable machine name, e.g. validation_error"})
    message = fields.String(required=True, metadata={"description": "the text, in the caller's language"})
    details = fields.Dict(metadata={"description": 'e.g. {"field": "<the refused field>"}'})


class Body(Schema):
    """Base of request schemas: keys the schema does not name are ignored (as before the
    schemas: older agents send fields newer servers dropped)."""

    class Meta:
        unknown = EXCLUDE


class Answer(Schema):
    """Base of answer schemas (dumped by flask-smorest: only the fields named are sent)."""


def Text(max_length: int = 200, **kwargs) -> fields.String:  # noqa: N802 - a field factory, named as fields are
    """A string field of at most ``max_length`` characters."""
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


def Id(**kwargs) -> fields.Integer:  # noqa: N802
    """A database id (1 .. INT4_MAX)."""
    return fields.Integer(strict=False, validate=validate.Range(min=1, max=INT4_MAX), **kwargs)


def Count(**kwargs) -> fields.Integer:  # noqa: N802
    """A non-negative integer within PostgreSQL's ``integer`` (0 .. INT4_MAX)."""
    return fields.Integer(validate=validate.Range(min=0, max=INT4_MAX), **kwargs)


def Version(**kwargs) -> fields.Integer:  # noqa: N802
    """The version of a record the caller saw (optimistic locking, >= 1)."""
    return fields.Integer(validate=validate.Range(min=1, max=INT4_MAX), **kwargs)


class OkAnswer(Answer):
    """``{"ok": true}``."""

    ok = fields.Boolean(required=True)
