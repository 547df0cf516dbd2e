"""REST API under ``/api/v1``; the OpenAPI document is served at ``/api/openapi.json``.

Views parse input, call one service in one transaction, and answer JSON. Domain errors
(``server.services.errors.LoketError``) become ``{"error": code, "message": text}`` with
the error's HTTP status.
"""
from __future__ import annotations

from flask import Blueprint, Flask
from werkzeug.exceptions import HTTPException

from ..api_errors import http_error, loket_error
from ..services.errors import LoketError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# the same answers as outside the blueprint (server.api_errors): one definition of the shape
bp.register_error_handler(LoketError, loket_error)
bp.register_error_handler(HTTPException, http_error)

# Routes attach themselves to ``bp`` on import (after ``bp`` exists).
from . import (  # noqa: E402,F401
    activation,  # noqa: E402,F401
    admin,
    applications,  # noqa: E402,F401
    bookings,  # noqa: E402,F401
    checkin,  # noqa: E402,F401
    complaints,  # noqa: E402,F401
    counters,
    dashboard,  # noqa: E402,F401
    offices,
    openapi,
    pickup,  # noqa: E402,F401
    report_requests,  # noqa: E402,F401  (every managers' report, issue 7)
    session,
    survey,  # noqa: E402,F401
    tickets,
)
from .voice import register_voice  # noqa: E402

register_voice(bp)


def register(app: Flask) -> None:
    """Mount the API blueprint (with its error handlers) and the OpenAPI document."""
    app.register_blueprint(bp)
    app.register_blueprint(openapi.doc_bp)
