"""The API contract is written once (issue 14): every ``/api/v1`` operation is a
flask-smorest operation whose OpenAPI entry comes from the schemas that validate and shape
it (``server/api/contract.py``, ``server/api/schemas``), and every refusal has Loket's one
error shape in the caller's language.

The document checks are static (no database rows needed); the refusals go through the
auth operations, which need nobody signed in. ``test_schemathesis.py`` then calls every
operation and checks the answers against this document."""
from __future__ import annotations

import pytest

from server import create_app
from server.api.contract import COMMON_ERRORS
from server.config import TestingConfig
from server.migrations import upgrade

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{data / 'loket.db'}"
    upgrade(url)
    app = create_app(TestingConfig, DATABASE_URL=url, DATA_DIR=data)
    yield app
    app.extensions["loket"].db.dispose()


@pytest.fixture(scope="module")
def doc(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def _client(app):
    """A test client that sends the session's CSRF token on every request."""
    client = app.test_client()
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


def _operations(doc: dict):
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_every_route_of_the_api_is_a_documented_operation(app, doc):
    documented = {(path, method) for path, item in doc["paths"].items() for method in item if method in METHODS}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = rule.rule.replace("<int:", "{").replace("<path:", "{").replace("<", "{").replace(">", "}")
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes - documented == set()
    assert len(documented) >= 50


def test_every_operation_states_who_may_call_it_its_answers_and_its_errors(doc):
    schemes = set(doc["components"]["securitySchemes"])
    assert schemes == {"device", "staffSession", "csrf"}
    problems = []
    for name, op in _operations(doc):
        if "security" not in op:  # access(...) or public on every view
            problems.append(f"{name}: no security")
        elif any(set(req) - schemes for req in op["security"]):
            problems.append(f"{name}: unknown security scheme {op['security']}")
        responses = op.get("responses", {})
        success = [s for s in responses if s.startswith(("2", "3"))]
        if not success:
            problems.append(f"{name}: no success answer")
        for status in success:
            answer = responses[status]
            if status not in ("204", "302", "303") and "content" not in answer and "$ref" not in answer:
                problems.append(f"{name}: answer {status} has no body schema")
        missing = {str(s) for s in COMMON_ERRORS} - set(responses)
        if missing:
            problems.append(f"{name}: common errors {sorted(missing)} not listed")
        if "default" in responses:
            problems.append(f"{name}: a catch-all 'default' answer hides undocumented statuses")
        text = op.get("summary", "") + op.get("description", "")
        if "---" in text or "responses:" in text:
            problems.append(f"{name}: docstring YAML left in the text")
    assert problems == []


def test_the_error_answers_have_one_shape(doc):
    error = doc["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message"}
    assert doc["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/Error"}


def test_a_body_refused_by_its_schema_is_a_422_naming_the_field_in_the_callers_language(app):
    client = _client(app)
    r = client.post("/api/v1/auth/login", json={"username": 5, "password": "x"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "validation_error" and body["details"]["field"] == "username"
    assert body["message"] == "Isian tidak sah: username"
    assert "username" in body["details"]["errors"]
    en = client.post("/api/v1/auth/login", json={"password": "x"}, headers={"Accept-Language": "en"}).get_json()
    assert en["details"]["field"] == "username" and en["message"] == "Invalid input: username"


@pytest.mark.parametrize("data,content_type", [
    ("{not json", "application/json"),
    ("username=a&password=b", "application/x-www-form-urlencoded"),
    ("[1, 2]", "application/json"),
    ("\"a string\"", "application/json"),
])
def test_a_body_that_is_not_a_json_object_is_a_422(app, data, content_type):
    r = _client(app).post("/api/v1/auth/login", data=data, content_type=content_type)
    assert r.status_code == 422 and r.get_json()["error"] == "validation_error"
    assert r.get_json()["message"]


def test_http_errors_speak_the_callers_language(app):
    client = app.test_client()
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401 and r.get_json() == {"error": "unauthorized", "message": "Belum masuk"}
    r = client.get("/api/v1/offices/DEMO/dashboard", headers={"Accept-Language": "en"})
    assert r.status_code == 401 and r.get_json()["message"] == "Please sign in first (staff session or device token)"
    r = client.get("/api/v1/no-such-thing?lang=id")
    assert r.status_code == 404 and r.get_json() == {"error": "not_found", "message": "Alamat tidak ditemukan"}
    r = app.test_client().post("/api/v1/auth/logout", headers={"Accept-Language": "en"})  # no CSRF token
    assert r.status_code == 400 and r.get_json()["error"] == "csrf_failed"
    assert r.get_json()["message"] == "The form or request expired or lacks its security token; reload and try again"
