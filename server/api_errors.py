"""App-wide error answers for ``/api/`` paths, so that no malformed request gets an HTML
page or a 500 with details (issue 13, "No 500s").

The API blueprint (``server.api``) maps ``LoketError`` and ``HTTPException`` raised in its
own views to ``{"error": code, "message": text}``. These app-level handlers cover what it
cannot see and what must never leak:

- an ``HTTPException`` on an ``/api/`` path that matched no API route (unknown path: 404,
  wrong method: 405) or was raised before routing: the same JSON shape; pages keep
  Flask's HTML error pages;
- a ``LoketError`` raised outside an API view (e.g. by ``server.input_limits`` on
  ``/api/openapi.json``): its status and shape;
- ``sqlalchemy.exc.DataError`` (a value the database refuses: out of range, malformed):
  422 ``validation_error`` on ``/api/``. Input checks should catch these first; the
  exception is logged as a warning with its statement but never its parameters
  (``hide_parameters`` on the engine);
- ``sqlalchemy.exc.OperationalError``, or any other database error that invalidated its
  connection (the database restarted or is unreachable, a busy SQLite file): 503
  ``{"error": "database_unavailable", …}`` on ``/api/``, logged as a warning: nothing was
  committed, the request can be sent again (the kiosk's ticket POST answers the same
  itself). The pool replaces such connections (``server.db``), so a restart costs at most
  the requests that were running at that moment;
- any other exception in an ``/api/`` view: logged with its traceback, answered 500
  ``{"error": "internal_error", "message": …}`` without any detail. When Flask propagates
  exceptions (``TESTING`` or ``PROPAGATE_EXCEPTIONS``) it is re-raised instead, so a
  test sees the real error.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, request
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from .i18n.catalogs import LANGUAGES, translate
from .services.errors import LoketError

log = logging.getLogger(__name__)

#: HTTP statuses whose answer text comes from the catalogs (key ``http.<status>``); others
#: keep Werkzeug's English description.
HTTP_KEYS = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503})


def _is_api() -> bool:
    return request.path.startswith("/api/")


def http_error(exc: HTTPException):
    """An HTTPException: JSON ``{"error", "message"}`` under /api/, else Flask's own page."""
    if not _is_api():
        return exc
    default = type(exc).description  # the class's text: a view's own abort(…, description) is kept
    message = (translate(f"http.{exc.code}", api_language())
               if exc.code in HTTP_KEYS and exc.description == default else exc.description)
    body = jsonify(error=exc.name.lower().replace(" ", "_"), message=message)
    response = exc.get_response()
    body.status_code = exc.code or 500
    for name in ("Allow", "Retry-After", "WWW-Authenticate"):
        if name in response.headers:
            body.headers[name] = response.headers[name]
    return body


def api_language() -> str:
    """The language of an API answer: ``?lang=``, then the ``loket_lang`` cookie (the
    language chosen on the pages), then ``Accept-Language``, then Indonesian."""
    for lang in (request.args.get("lang"), request.cookies.get("loket_lang")):
        if lang in LANGUAGES:
            return lang
    return request.accept_languages.best_match(LANGUAGES) or "id"


def loket_error(exc: LoketError):
    """A domain error (in an API view or outside one): its status, the API's shape
    ``{"error", "message", "details"?}``; a message from the catalogs (raised with a key) in
    the caller's language (:func:`api_language`), a literal as it is."""
    message = exc.text(api_language()) if exc.key is not None else exc.message
    body = {"error": exc.code, "message": message}
    if exc.details:
        body["details"] = exc.details
    return jsonify(body), exc.http_status


def data_error(exc: DataError):
    """The database refused a value: 422 under /api/ (logged as a warning), else re-raised."""
    if not _is_api():
        raise exc
    log.warning("database refused a value on %s %s: %s", request.method, request.path,
                str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__)
    return jsonify(error="validation_error", message=translate("api.value_refused", api_language())), 422


def database_unavailable(exc: DBAPIError):
    """A database error: 503 ``database_unavailable`` under /api/ when the connection was
    lost or the database could not serve (OperationalError; logged as a warning); any
    other database error, and any outside /api/, is handled by :func:`unexpected`."""
    if not _is_api() or not (isinstance(exc, OperationalError) or exc.connection_invalidated):
        return unexpected(exc)
    log.warning("database unavailable on %s %s: %s", request.method, request.path,
                (str(exc.orig).splitlines() or [""])[0][:200] if exc.orig is not None else type(exc).__name__)
    return jsonify(error="database_unavailable", message=translate("api.database_unavailable", api_language())), 503


def _propagates() -> bool:
    propagate = current_app.config.get("PROPAGATE_EXCEPTIONS")
    return current_app.testing or current_app.debug if propagate is None else bool(propagate)


def unexpected(exc: Exception):
    """Any other exception: under /api/ a logged 500 in the API's shape; else re-raised
    (Flask logs it and answers its own 500 page)."""
    if isinstance(exc, HTTPException):
        return http_error(exc)
    if not _is_api() or _propagates():
        raise exc
    log.exception("unhandled error on %s %s", request.method, request.path)
    return jsonify(error="internal_error", message=translate("api.internal_error", api_language())), 500


def init_api_errors(app: Flask) -> None:
    """Register the handlers above on ``app`` (app level: blueprint handlers still win)."""
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(LoketError, loket_error)
    app.register_error_handler(DataError, data_error)
    app.register_error_handler(DBAPIError, database_unavailable)
    app.register_error_handler(Exception, unexpected)
