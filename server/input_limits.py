"""Limits on every request's input, checked in one place before any view runs (issue 13).

- **Size**: ``MAX_CONTENT_LENGTH`` (config, default 1 MiB, env LOKET_MAX_CONTENT_LENGTH);
  the few endpoints that take pictures get more (:data:`UPLOAD_LIMITS`: the pickup
  hand-over carries the collector's signature and photo as data URLs). A larger body is
  answered 413 (in the API's error shape under ``/api/``).
- **JSON**: a body sent as JSON is parsed here, once (the view's ``request.get_json()``
  gets the same object); nesting deeper than :data:`MAX_JSON_DEPTH` is refused before
  parsing (a deep body would otherwise exhaust the parser's recursion: a 500), as are
  integers beyond ±2**53 (no Loket number comes near; larger ones overflow the
  databases' integer types) and bodies that are not UTF-8.
- **Text**: NUL and the other C0 control characters except tab, line feed and carriage
  return, and lone UTF-16 surrogates, are refused in every text value and key of a JSON
  body, of a form, of the query string and of the URL path (PostgreSQL refuses NUL in
  text with an error, SQLite would store it: now both answer the same).

Refusals under ``/api/`` are ``ValidationError`` answers, 422
``{"error": "validation_error", "message": …, "details": {"field": "<name>"}}``, where the
field is the dotted path of the value (``answers.u1``, ``items.2.name``; ``query.from``;
``path.ref``); on pages a 422 (400 for a body that is no JSON/UTF-8) error page naming it.

**URL integers**: the ``int`` converter of every route is :class:`BoundedInt`: at most 10
digits and at most 2**31-1, so an id too large for the database's integer column finds no
route (404) instead of a database error (500).
"""
from __future__ import annotations

import json
import re

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter

from .i18n.catalogs import bilingual
from .services.errors import ValidationError

MiB = 1024 * 1024
DEFAULT_MAX_CONTENT_LENGTH = 1 * MiB
#: endpoint -> the body size it may take (bytes), above MAX_CONTENT_LENGTH.
UPLOAD_LIMITS = {"api.pickup_hand_over": 4 * MiB}
MAX_JSON_DEPTH = 32
MAX_JSON_INT = 2**53
INT4_MAX = 2**31 - 1

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class BoundedInt(IntegerConverter):
    """Werkzeug's ``int`` converter limited to 1-10 digits and ``max`` (default 2**31-1, a
    PostgreSQL ``integer``): a larger number does not match the route (404)."""

    regex = r"\d{1,10}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = INT4_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays/objects in the JSON ``text`` (strings skipped);
    for malformed text an estimate that is never below the real depth of its valid part."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub('""', text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def bad_value(value, path: str = "") -> str | None:
    """The dotted path of the first refused value inside the parsed JSON ``value`` (a text
    or key with a control character or lone surrogate, an integer beyond ±2**53), or None.
    Iterative, so any depth is safe."""
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if _CONTROL.search(item):
                return where or "body"
        elif isinstance(item, bool) or item is None or isinstance(item, float):
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_JSON_INT:
                return where or "body"
        elif isinstance(item, dict):
            for key, sub in item.items():
                safe = _CONTROL.sub("?", str(key))  # never echo a control character back
                name = f"{where}.{safe}" if where else safe
                if safe != str(key):
                    return name
                stack.append((sub, name))
        elif isinstance(item, list):
            stack.extend((sub, f"{where}.{i}" if where else str(i)) for i, sub in enumerate(item))
    return None


def _refuse(field: str, key: str, status: int = 422, **params):
    """Refuse the request for ``field``: under /api/ ``ValidationError(key=key)`` (422, the
    text in the caller's language), on a page ``abort(status)`` with both texts."""
    if request.path.startswith("/api/"):
        raise ValidationError(key=key, params=params, field=field)
    abort(status, description=f"{bilingual(key, **params)} ({field})")


def _check_pairs(pairs, prefix: str) -> None:
    for key, value in pairs:
        if _CONTROL.search(key) or (isinstance(value, str) and _CONTROL.search(value)):
            _refuse(prefix + _CONTROL.sub("?", key), "input.control_characters")


def _check_json() -> None:
    raw = request.get_data(cache=True)  # 413 beyond the request's max_content_length
    if not raw:
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        _refuse("body", "input.not_utf8", 400)
    # each level opens with a bracket: with at most MAX_JSON_DEPTH of them (strings included)
    # the body cannot be deeper, and the scan that skips the strings is not needed
    if text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_depth(text) > MAX_JSON_DEPTH:
        _refuse("body", "input.too_deep", depth=MAX_JSON_DEPTH)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return  # the view answers its own "not a JSON object" error
    where = bad_value(data)
    if where is not None:
        _refuse(where, "input.bad_value")
    if hasattr(request, "_cached_json"):
        request._cached_json = (data, data)  # the view's get_json() returns this object


def check_request() -> None:
    """before_request: apply the limits of the module docstring to this request. Raises
    ValidationError (API) or aborts 400/413/422 (pages); returns None when all is well."""
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    if limit:
        request.max_content_length = limit
    _check_pairs(((k, v) for k, v in (request.view_args or {}).items()), "path.")
    _check_pairs(request.args.items(multi=True), "query.")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        _check_json()
    elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        _check_pairs(request.form.items(multi=True), "")


def init_input_limits(app: Flask) -> None:
    """Install the ``int`` converter (before any route is added), the default
    MAX_CONTENT_LENGTH and :func:`check_request` on ``app``."""
    app.url_map.converters["int"] = BoundedInt
    app.config.setdefault("MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_CONTENT_LENGTH
    app.before_request(check_request)
