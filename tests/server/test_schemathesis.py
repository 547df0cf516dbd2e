"""Property-based run over the OpenAPI document (schemathesis): no operation answers 5xx,
whoever calls it (issue 13, "No 500s"), and every answer is one the document states: its
status is listed for the operation, its content type and its body match the operation's
schema (issue 14: the document is built by flask-smorest from the schemas that validate
and shape the API, ``server/api/schemas``).

The app runs in process (WSGI) on PostgreSQL (the stricter database: NUL bytes and
integer ranges fail there first), seeded with the demo office. Every operation of
``/api/openapi.json`` is called with generated parameters and bodies (schemathesis's
positive mode) by:

- nobody (a session with a CSRF token, not signed in: the public operations work, the
  others answer 401),
- staff: an office admin and a front-office officer (session cookie + X-CSRFToken),
- each device kind of the demo (kiosk, display, pickup, activation, printer, survey:
  ``Authorization: Bearer``).

Bounded: ``MAX_EXAMPLES`` cases per operation and caller, derandomized (the same cases
every run), no deadline, no shrinking; then ``NEGATIVE_EXAMPLES`` schema-violating cases
(wrong types, missing fields) per operation for nobody, the office admin, the kiosk and
the pickup station. Strings are printable text and ids small (``_focus``), so that the
cases get past the input checks to the views. Skipped: ``POST /auth/logout`` for staff (it ends
every session of the user, so the rest of the run would be anonymous). Every 5xx and every
answer the document does not state (schemathesis's ``status_code_conformance``,
``content_type_conformance``, ``response_schema_conformance``) is collected and the test
fails listing them (method, path, caller, status, request); so does a value the database
refused (a DataError: answered 422 by ``server/api_errors.py``, but an input that reached
the database unchecked). ``LOKET_SCHEMATHESIS_PATHS`` (a regular expression) narrows the
run to the matching paths, for working on a few operations.
"""
from __future__ import annotations

import logging
import os
import re
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    Failure,
    FailureGroup,
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo

MAX_EXAMPLES = int(os.environ.get("LOKET_SCHEMATHESIS_EXAMPLES", "10"))
#: schema-violating cases (wrong types, missing fields, out-of-range values) for these callers
NEGATIVE_EXAMPLES = int(os.environ.get("LOKET_SCHEMATHESIS_NEGATIVE_EXAMPLES", "5"))
NEGATIVE_CALLERS = {"nobody", "staff admin", "device kiosk", "device pickup"}
DEVICE_KEYS = ["kiosk", "display", "pickup", "activation", "counter_printer", "survey"]
STAFF = ["admin", "fo1"]
SKIP = {("staff", "POST", "/api/v1/auth/logout")}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
PATHS = re.compile(os.environ.get("LOKET_SCHEMATHESIS_PATHS", ""))

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _session(app, username: str | None) -> dict:
    """Cookie and header of a session (signed in as ``username`` when given)."""
    client = app.test_client()
    csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    if username:
        r = client.post("/api/v1/auth/login", json={"username": username, "password": "demo1234"},
                        headers={"X-CSRFToken": csrf})
        assert r.status_code == 200, r.get_json()
        csrf = r.get_json()["csrf_token"]
    cookie = client.get_cookie("session")
    return {"cookies": {"session": cookie.value}, "headers": {"X-CSRFToken": csrf}}


@pytest.fixture
def app(pg_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=pg_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def _callers(app) -> list[tuple[str, str, dict]]:
    tokens = app.config["SEEDED"]["tokens"]
    callers = [("nobody", "nobody", _session(app, None))]
    callers += [(f"staff {u}", "staff", _session(app, u)) for u in STAFF]
    callers += [(f"device {k}", "device", {"cookies": {}, "headers": {"Authorization": f"Bearer {tokens[k]}"}})
                for k in DEVICE_KEYS]
    return callers


TEXT = "loket-text"


def _focus(node, *, in_path: str | None = None):
    """The document, narrowed for the run (in place): office codes ``DEMO`` or unknown,
    integer ids among the first seeded rows, strings as printable text (control
    characters are refused before any view, ``server/input_limits.py``, and
    ``test_input_limits.py`` covers that), and no invented extra body keys."""
    if isinstance(node, list):
        for item in node:
            _focus(item)
        return
    if not isinstance(node, dict):
        return
    if node.get("in") == "path" and isinstance(node.get("schema"), dict):
        name, schema = node.get("name"), node["schema"]
        if name in ("code",):
            node["schema"] = {"type": "string", "enum": ["DEMO", "NOPE"]}
        elif schema.get("type") == "integer":
            node["schema"] = {"type": "integer", "minimum": 1, "maximum": 40}
        elif "enum" not in schema:
            node["schema"] = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"}
        return
    if node.get("type") == "string" and not {"enum", "format", "pattern"} & set(node):
        node["format"] = TEXT
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)
    for value in node.values():
        _focus(value)


def _exercise(operation, who: str, kind: str, auth: dict, mode, examples: int, failures: list, statuses: Counter) -> int:
    """Call ``operation`` with ``examples`` generated cases of ``mode`` as ``who``; a 5xx
    goes to ``failures``, every status to ``statuses``. Returns the number of calls."""
    calls = 0
    method = operation.method.upper()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case):
        nonlocal calls
        calls += 1
        response = case.call(headers=dict(auth["headers"]), cookies=dict(auth["cookies"]))
        statuses[(method, operation.path, kind, mode.value, response.status_code)] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as exc:  # collected, listed below
            if len(failures) < 40:
                failures.append(f"{method} {operation.path} as {who} ({mode.value}): {response.status_code} "
                                f"{response.text[:160]!r} <- path {case.path_parameters} query {case.query} "
                                f"body {str(case.body)[:160]}\n    {str(exc).strip()[:400]}")

    if os.environ.get("LOKET_SCHEMATHESIS_REPORT"):
        print("running", method, operation.path, who, mode.value, flush=True)
    try:
        run()
    except Unsatisfiable:  # negative mode: nothing of this operation can be made invalid
        if mode is GenerationMode.POSITIVE:
            raise
    return calls


def test_no_operation_answers_5xx(app, caplog):
    from hypothesis import strategies as st

    caplog.set_level(logging.WARNING, logger="server.api_errors")

    schemathesis.openapi.format(TEXT, st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40))
    document = app.test_client().get("/api/openapi.json").get_json()
    _focus(document)
    schema = schemathesis.openapi.from_dict(document)
    schema.app = app
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50  # every /api/v1 operation
    operations = [op for op in operations if PATHS.search(op.path)]
    assert operations, f"no operation matches LOKET_SCHEMATHESIS_PATHS={PATHS.pattern!r}"
    failures: list[str] = []
    calls = 0
    statuses: Counter = Counter()
    callers = _callers(app)
    passes = [(c, GenerationMode.POSITIVE, MAX_EXAMPLES) for c in callers if MAX_EXAMPLES]
    passes += [(c, GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES) for c in callers
               if c[0] in NEGATIVE_CALLERS and NEGATIVE_EXAMPLES]
    for (who, kind, auth), mode, examples in passes:
        for operation in operations:
            if (kind, operation.method.upper(), operation.path) not in SKIP:
                calls += _exercise(operation, who, kind, auth, mode, examples, failures, statuses)
    if os.environ.get("LOKET_SCHEMATHESIS_REPORT"):
        for key, n in sorted(statuses.items()):
            print(*key, n)
    assert calls > len(operations) * len(passes) // 2
    assert failures == [], "\n".join(failures)
    # a value the database refused is answered 422 (server/api_errors.py), but it means an
    # input reached the database unchecked: count it as a failure too
    refused = [r.getMessage() for r in caplog.records if r.name == "server.api_errors"]
    assert refused == [], "\n".join(refused[:20])
