"""Schemas of the administration operations (``server.api.admin``)."""
from __future__ import annotations

from marshmallow import fields, validate

from ...models import DeviceKind, Role
from .common import Answer, Body, Text
from .tickets import OfficeAnswer


class LoadOfficeBody(Body):
    catalog = fields.Dict(required=True, metadata={"description": "the TOML catalog as JSON (free-form: "
                                                                  "checked by services.catalog)"})
    overrides = fields.Dict(allow_none=True, metadata={"description": 'e.g. {"code", "name", "opening_time": '
                                                                      '"HH:MM"}'})


class OfficeLoadedAnswer(Answer):
    office = fields.Nested(OfficeAnswer, required=True)


class DeviceBody(Body):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in DeviceKind]))
    name = Text(100, required=True)


class DeviceCreatedAnswer(Answer):
    device_id = fields.Integer(required=True)
    token = fields.String(required=True, metadata={"description": "shown once"})


class StaffBody(Body):
    username = Text(required=True)
    password = Text(required=True)
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]),
                         metadata={"description": "system_admin is refused (403): made only by the command line"})
    full_name = Text(allow_none=True)
    office = Text(32, allow_none=True, metadata={"description": "the office's code; default the admin's own"})


class StaffCreatedAnswer(Answer):
    id = fields.Integer(required=True)
