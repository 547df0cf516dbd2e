"""REST API under ``/api/v1``; the OpenAPI document is served at ``/api/openapi.json``.

Views parse input, call one service in one transaction, and answer JSON. Domain errors
(``server.services.errors.LoketError``) become ``{"error": code, "message": text}`` with
the error's HTTP status.
"""
from __future__ import annotations

from flask import Blueprint, Flask, jsonify
from werkzeug.exceptions import HTTPException

from ..services.errors import LoketError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _loket_error(exc: LoketError):
    body = {"error": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details
    return jsonify(body), exc.http_status


def _http_error(exc: HTTPException):
    return jsonify(error=exc.name.lower().replace(" ", "_"), message=exc.description), exc.code


bp.register_error_handler(LoketError, _loket_error)
bp.register_error_handler(HTTPException, _http_error)

# Routes attach themselves to ``bp`` on import (after ``bp`` exists).
from . import admin, counters, offices, openapi, session, tickets  # noqa: E402,F401
from .voice import register_voice  # noqa: E402
from . import applications  # noqa: E402,F401
from . import pickup  # noqa: E402,F401
from . import activation  # noqa: E402,F401
from . import bookings  # noqa: E402,F401
from . import checkin  # noqa: E402,F401
from . import complaints  # noqa: E402,F401
from . import report_requests  # noqa: E402,F401  (every managers' report, issue 7)
from . import survey  # noqa: E402,F401
from . import dashboard  # noqa: E402,F401

register_voice(bp)


def register(app: Flask) -> None:
    """Mount the API blueprint (with its error handlers) and the OpenAPI document."""
    app.register_blueprint(bp)
    app.register_blueprint(openapi.doc_bp)
