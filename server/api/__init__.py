"""REST API under ``/api/v1``; the OpenAPI document is served at ``/api/openapi.json``.

Views are flask-smorest operations (``server.api.contract``): a marshmallow schema
validates the body or query (``server.api.schemas``), the view calls one service in one
transaction, and a schema shapes the answer; the same schemas write the OpenAPI document.
Domain errors (``server.services.errors.LoketError``) become ``{"error": code,
"message": text, "details"?}`` with the error's HTTP status.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import HTTPException

from ..api_errors import http_error, loket_error
from ..services.errors import LoketError
from .contract import ApiBlueprint, init_api

bp = ApiBlueprint("api", __name__, url_prefix="/api/v1")
# the same answers as outside the blueprint (server.api_errors): one definition of the shape
bp.register_error_handler(LoketError, loket_error)
bp.register_error_handler(HTTPException, http_error)

# Routes attach themselves to ``bp`` on import (after ``bp`` exists).
from . import (  # noqa: F401  (report_requests: every managers' report, issue 7)
    activation,
    admin,
    applications,
    bookings,
    checkin,
    complaints,
    counters,
    dashboard,
    offices,
    pickup,
    report_requests,
    session,
    survey,
    tickets,
)
from .voice import register_voice

register_voice(bp)


def register(app: Flask) -> None:
    """Mount the API blueprint (with its error handlers) through flask-smorest, which
    serves the OpenAPI document built from the views' schemas."""
    init_api(app).register_blueprint(bp)
