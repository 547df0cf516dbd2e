"""What the OpenAPI document says beyond each view's docstring YAML (issue 13): the
security schemes, the error body every operation may answer, undeclared path parameters,
and the JSON request bodies of the views whose docstrings describe them only in prose.

:func:`enrich` applies it to the dict that ``openapi.build_spec`` built. A view whose
docstring declares a ``requestBody`` or a parameter keeps its own. (A later issue moves
the API to schema-first; until then this table is where request bodies are written down.)
"""
from __future__ import annotations

import re

INT4_MAX = 2**31 - 1

SECURITY_SCHEMES = {
    "device": {"type": "http", "scheme": "bearer",
               "description": "a device token (kiosk, display, pickup, activation, printer, survey)"},
    "staffSession": {"type": "apiKey", "in": "cookie", "name": "session",
                     "description": "the staff session cookie from POST /api/v1/auth/login"},
    "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
             "description": "the CSRF token (GET /api/v1/auth/csrf, or the login answer); needed with the "
                            "session cookie on POST"},
}
#: Any of: nobody (public operations; others answer 401), a device, a staff session.
SECURITY = [{}, {"device": []}, {"staffSession": [], "csrf": []}]

ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "a stable machine name, e.g. validation_error, not_found"},
        "message": {"type": "string"},
        "details": {"type": "object", "description": 'e.g. {"field": "<the refused field>"}'},
    },
}

_S = {"type": "string", "maxLength": 200}
_I = {"type": "integer", "minimum": 0, "maximum": INT4_MAX}
_V = {"type": "integer", "minimum": 1, "maximum": INT4_MAX}
_ANSWERS = {"type": "object", "properties": {f"u{i}": {"type": "integer", "minimum": 1, "maximum": 4}
                                             for i in range(1, 10)}}


def _obj(required=(), **props) -> dict:
    return {"type": "object", "required": list(required), "properties": props}


#: endpoint -> the JSON body schema of views whose docstring has no requestBody.
REQUEST_BODIES = {
    "api.load_office": _obj(["catalog"], catalog={"type": "object"}, overrides={"type": "object"}),
    "api.add_device": _obj(["kind", "name"], kind={"enum": ["kiosk", "display", "pickup", "activation", "printer",
                                                             "survey"]}, name=_S),
    "api.add_staff": _obj(["username", "password", "role"], username=_S, password=_S, full_name=_S, office=_S,
                          role={"enum": ["front_office", "section_head", "division_head", "head_of_office",
                                         "activation_officer", "pickup_officer", "manager", "admin", "system_admin"]}),
    "api.cancel": _obj(reason=_S),
    "api.reprint": _obj(device_id={"type": "integer", "nullable": True, "minimum": 0, "maximum": INT4_MAX}),
    "api.create_booking": _obj(["service", "nik"], service=_S, nik=_S, name=_S, phone=_S, email=_S, date=_S,
                               slot=_S, contact=_S, challenge=_S, answer=_S),
    "api.confirm_booking": _obj(["request", "code"], request=_S, code=_S),
    "api.cancel_booking": _obj(["nik"], nik=_S),
    "api.complaint_public_register": _obj(["kind", "message"], kind={"enum": ["complaint", "information"]},
                                          message=_S, name=_S, phone=_S, email=_S, id_kind=_S, id_number=_S),
    "api.complaint_public_status": _obj(["number", "check"], number=_S, check=_S),
    "api.survey_tablet_submit": _obj(["ticket_id", "answers"], ticket_id=_I, answers=_ANSWERS, comment=_S),
    "api.survey_link_submit": _obj(["answers"], answers=_ANSWERS, comment=_S),
    "api.approve_application": _obj(["expected_version"], expected_version=_V, shelf_location=_S),
    "api.return_application": _obj(["expected_version"], expected_version=_V, reason=_S, note=_S),
    "api.hand_over_application": _obj(["expected_version"], expected_version=_V, collector={"type": "object"}),
    "api.print_resi": _obj(device_id={"type": "integer", "nullable": True, "minimum": 0, "maximum": INT4_MAX}),
    "api.activation_open": _obj(["ref"], ref=_S),
    "api.activation_fingerprint": _obj(matched={"type": "boolean"}, finger=_S),
    "api.activation_complete": _obj(in_person={"type": "boolean"}, identity_checked={"type": "boolean"},
                                    expected_version=_V),
    "api.activation_cancel": _obj(reason=_S),
    "api.activation_release": _obj(["device_id"], device_id=_I, expected_version=_V),
    "api.bind_card": _obj(device_id=_I, expected_version=_V, card_uid=_S),
    "api.checkin": _obj(["ref"], ref=_S, nik=_S),
    "api.logout": _obj(),
}

_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def path_parameters(rule: str) -> list[dict]:
    """The path parameters of a Werkzeug ``rule`` (``<int:x>`` an integer id, others strings)."""
    params = []
    for converter, name in _PARAM.findall(rule):
        schema = {"type": "integer", "minimum": 1, "maximum": INT4_MAX} if converter == "int" else {"type": "string"}
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return params


def enrich(spec: dict, rules: dict) -> dict:
    """Complete ``spec`` (an OpenAPI 3 dict) in place and return it. ``rules``: (OpenAPI
    path, method) -> (Werkzeug rule string, endpoint), for the path parameters and request
    bodies. Raises nothing."""
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    components.setdefault("schemas", {})["Error"] = ERROR
    spec.setdefault("security", SECURITY)
    error_ref = {"description": 'an error: {"error", "message", "details"?}',
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for path, operations in spec.get("paths", {}).items():
        for method, op in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            rule, endpoint = rules.get((path, method), ("", ""))
            declared = {(p.get("in"), p.get("name")) for p in op.get("parameters", [])}
            for param in path_parameters(rule):
                if ("path", param["name"]) not in declared:
                    op.setdefault("parameters", []).append(param)
            for param in op.get("parameters", []):  # docstrings say "integer" for <int:> ids
                if param.get("in") == "path" and (param.get("schema") or {}).get("type") == "integer":
                    param["schema"] = {"minimum": 1, "maximum": INT4_MAX, **param["schema"]}
            if method == "post" and "requestBody" not in op and endpoint in REQUEST_BODIES:
                op["requestBody"] = {"required": False,
                                     "content": {"application/json": {"schema": REQUEST_BODIES[endpoint]}}}
            op.setdefault("responses", {}).setdefault("default", error_ref)
    return spec
