"""The OpenAPI 3 document, built with apispec from the YAML after ``---`` in each API
view's docstring (the docstring above it says what goes in and out)."""
from __future__ import annotations

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from flask import Blueprint, current_app, jsonify

from .openapi_schemas import enrich

doc_bp = Blueprint("openapi", __name__)


def build_spec(app) -> dict:
    """The OpenAPI document of every ``/api/v1`` route of ``app`` as a dict: the docstrings'
    operations, completed by :func:`.openapi_schemas.enrich` (security schemes, error body,
    path parameters, request bodies)."""
    spec = APISpec(title="Loket API", version="1", openapi_version="3.0.3",
                   info={"description": "Queue, pickup and activation API of Loket. Staff use the session "
                                        "cookie + X-CSRFToken; devices use Authorization: Bearer <token>."})
    rules: dict = {}  # (path, method) -> (rule, endpoint): openapi_schemas.enrich completes the document
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        if not operations:
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        operations = {m: op for m, op in operations.items() if m.upper() in rule.methods}
        rules.update({(path, m): (rule.rule, rule.endpoint) for m in operations})
        spec.path(path=path, operations=operations)
    return enrich(spec.to_dict(), rules)


@doc_bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI document (JSON)."""
    return jsonify(build_spec(current_app))
