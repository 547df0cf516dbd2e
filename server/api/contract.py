"""The API contract machinery (issue 14): flask-smorest builds the OpenAPI document from
the marshmallow schemas that also validate the requests and shape the answers.

- :class:`ApiBlueprint`: the ``/api/v1`` blueprint. Its argument parser turns webargs'
  validation failures into Loket's own 422 ``validation_error`` answer (one error shape
  for the whole API, ``server.api_errors``), with the first refused field in
  ``details.field`` and every refused field's marshmallow messages in ``details.errors``;
  a body that is not JSON (wrong content type, malformed JSON) is a 422 too.
- :class:`LoketApi`: the flask-smorest ``Api`` without its own error handlers (Loket's
  are registered by ``server.api_errors``), serving the document at
  ``/api/openapi.json``, with the security schemes (staff session cookie + CSRF header,
  Bearer device token) and the error body as components.
- :func:`access`: ``security.require`` plus the operation's ``security`` in the document,
  from the same arguments. :func:`public` documents an operation anyone may call.
- :func:`errors`: the error statuses an operation may answer, each with the error body;
  every operation also lists :data:`COMMON_ERRORS`.
"""
from __future__ import annotations

import http
import json
from typing import Any, Iterable

import flask_smorest
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from ..security import require
from ..services.errors import ValidationError
from .schemas.common import INT4_MAX, ErrorSchema

#: What any operation may answer whatever it does: a refused or oversized request (400,
#: 413: ``server.input_limits``), a schema refusal (422), nobody or the wrong caller (401,
#: 403), the rate limits (429), the database unreachable (503, ``server.api_errors``).
COMMON_ERRORS = (400, 401, 403, 413, 422, 429, 503)

#: OpenAPI security requirements: a staff session (cookie + CSRF header on unsafe methods),
#: a device token, nobody.
STAFF_SECURITY = {"staffSession": [], "csrf": []}
DEVICE_SECURITY = {"device": []}

SECURITY_SCHEMES = {
    "device": {"type": "http", "scheme": "bearer",
               "description": "a device token (kiosk, display, pickup, activation, printer, survey)"},
    "staffSession": {"type": "apiKey", "in": "cookie", "name": "session",
                     "description": "the staff session cookie from POST /api/v1/auth/login"},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
             "description": "the CSRF token (GET /api/v1/auth/csrf, or the login answer); needed with the "
                            "session cookie on POST"},
}


def _first_field(messages: Any, prefix: str = "") -> str | None:
    """The dotted name of the first refused field in marshmallow's ``messages``."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                return prefix or None
            inner = _first_field(value, name)
            return inner or name
    return None


class LoketParser(FlaskParser):
    """webargs' Flask parser with Loket's answers: a refused argument raises
    ``ValidationError`` (422, key ``api.invalid_input``, ``details.field`` and
    ``details.errors``); a body that is not a JSON document raises ``ValidationError``
    (key ``api.body_not_json``) instead of aborting 400."""

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        location = next(iter(messages), "json") if len(messages) == 1 else None
        inner = messages[location] if location else messages
        field = _first_field(inner)
        raise ValidationError(key="api.invalid_input", params={"field": field or "body"},
                              field=field, errors=inner)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ValidationError(key="api.body_not_json")

    def _raw_load_json(self, req):
        """The JSON body; a non-empty body of another content type is refused (422), an
        empty one is missing (the schema's defaults and required fields apply)."""
        if not core.is_json(req.mimetype):
            if req.get_data(cache=True):
                raise ValidationError(key="api.body_not_json")
            return core.missing
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        try:
            return core.parse_json(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ValidationError(key="api.body_not_json") from None


class ApiBlueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose argument errors are Loket's 422 answers."""

    ARGUMENTS_PARSER = LoketParser()


def _int_parameter(converter: IntegerConverter) -> dict:
    """The OpenAPI schema of an ``<int:...>`` path segment: a database id."""
    return {"type": "integer", "minimum": 1, "maximum": INT4_MAX}


class LoketApi(flask_smorest.Api):
    """flask-smorest's ``Api`` with Loket's error handling left to ``server.api_errors``:
    no error handler of its own, the error body :class:`ErrorSchema`, no catch-all
    ``default`` response (each operation lists its statuses, :func:`errors`)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        """Loket's handlers (``server.api_errors``, the blueprint's) answer every error."""


def init_api(app) -> LoketApi:
    """The ``LoketApi`` of ``app`` (configured from constants: title, version, OpenAPI 3.0.3,
    the document at ``/api/openapi.json``, no UI), with the security schemes and the
    ``<int:>`` converter's schema. Returns it; blueprints are registered by the caller."""
    app.config.setdefault("API_TITLE", "Loket API")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = LoketApi(spec_kwargs={
        "info": {"description": "Queue, pickup and activation API of Loket. Staff use the session cookie + "
                                "X-CSRFToken; devices use Authorization: Bearer <token>. Errors are "
                                '{"error", "message", "details"?} in the caller\'s language '
                                "(?lang=, the loket_lang cookie, Accept-Language)."},
        "security": [{}, DEVICE_SECURITY, STAFF_SECURITY],
    })
    api.init_app(app)
    api.register_converter(IntegerConverter, _int_parameter)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    return api


def errors(*statuses: int, answers: dict[int, dict] | None = None):
    """Decorator: the operation may answer ``statuses`` (and :data:`COMMON_ERRORS`), each
    with the error body; ``answers`` gives a status its own answer instead (keyword
    arguments of ``alt_response``, e.g. ``{422: {"schema": S, "description": "…"}}``). Use
    below the route decorator, with the view's other doc decorators."""
    from . import bp

    answers = answers or {}

    def wrap(view):
        for status in sorted(set(statuses) | set(COMMON_ERRORS) | set(answers)):
            if status in answers:
                view = bp.alt_response(status, **answers[status])(view)
            else:
                view = bp.alt_response(status, response=http.HTTPStatus(status).name)(view)
        return view

    return wrap


def _security(roles: Iterable, devices: Iterable) -> list[dict]:
    staff = bool(roles) or not devices
    return ([STAFF_SECURITY] if staff else []) + ([DEVICE_SECURITY] if devices else [])


def access(*, roles=(), devices=(), action: str | None = None):
    """Decorator: ``security.require(roles=, devices=, action=)`` (401 nobody, 403 the wrong
    caller) and the operation's ``security`` in the document (staff session when ``roles``
    are given or no devices, Bearer device token when ``devices`` are). Put it right under
    the route decorator so that the caller is checked before the body is parsed."""
    from . import bp

    guard = require(roles=roles, devices=devices, action=action)
    security = _security(roles, devices)

    def wrap(view):
        return bp.doc(security=security)(guard(view))

    return wrap


def public(view):
    """Decorator: the operation needs no caller (the document says ``security: [{}]``)."""
    from . import bp

    return bp.doc(security=[{}])(view)
