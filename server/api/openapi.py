"""The OpenAPI 3 document, built with apispec from the YAML after ``---`` in each API
view's docstring (the docstring above it says what goes in and out)."""
from __future__ import annotations

from apispec import APISpec
from apispec.yaml_utils import load_operations_from_docstring
from flask import Blueprint, current_app, jsonify

doc_bp = Blueprint("openapi", __name__)


def build_spec(app) -> dict:
    """The OpenAPI document of every ``/api/v1`` route of ``app`` as a dict."""
    spec = APISpec(title="Loket API", version="1", openapi_version="3.0.3",
                   info={"description": "Queue, pickup and activation API of Loket. Staff use the session "
                                        "cookie + X-CSRFToken; devices use Authorization: Bearer <token>."})
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        operations = load_operations_from_docstring(view.__doc__ or "")
        if not operations:
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        spec.path(path=path, operations={m: op for m, op in operations.items() if m.upper() in rule.methods})
    return spec.to_dict()


@doc_bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI document (JSON)."""
    return jsonify(build_spec(current_app))
