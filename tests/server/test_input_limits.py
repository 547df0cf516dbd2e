"""Input limits (server/input_limits.py): body size, JSON depth, control characters and
out-of-range numbers, refused with the API's error shape on SQLite and PostgreSQL alike."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from server.input_limits import MAX_JSON_DEPTH, bad_value, json_depth
from server.models import Ticket
from tests.server.test_api import app  # noqa: F401  (the demo app fixture, both databases)


def kiosk(app) -> dict:
    return {"Authorization": f"Bearer {app.config['SEEDED']['tokens']['kiosk']}"}


def _tickets(app) -> int:
    with app.extensions["loket"].db.session() as s:
        return s.scalar(select(func.count(Ticket.id)))


def _validation(r, field: str):
    assert r.status_code == 422, (r.status_code, r.get_data(as_text=True))
    body = r.get_json()
    assert body["error"] == "validation_error" and body["message"]
    assert body["details"]["field"] == field


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x07", "\x0b", "\x1b", "\x1f", "\ud800"])
def test_control_characters_in_a_json_text_are_refused_naming_the_field(app, char):
    client = app.test_client()
    r = client.post("/api/v1/offices/DEMO/tickets", headers={**kiosk(app), "Content-Type": "application/json"},
                    data=json.dumps({"service": f"ktp{char}el"}))
    _validation(r, "service")
    r = client.post("/api/v1/offices/DEMO/complaints/public",
                    json={"kind": "complaint", "channel": "web", "message": "ok", "extra": {"items": ["a", f"b{char}"]}})
    _validation(r, "extra.items.1")
    assert _tickets(app) == 0


def test_tab_newline_and_carriage_return_are_text(app):
    r = app.test_client().post("/api/v1/offices/DEMO/tickets", headers=kiosk(app),
                               json={"service": "ktp_el", "note": "a\tb\r\nc"})
    assert r.status_code in (201, 409), r.get_json()  # issued, or the office is closed: never a 422/500


def test_control_characters_in_keys_query_and_path(app):
    client = app.test_client()
    r = client.post("/api/v1/offices/DEMO/tickets", headers=kiosk(app), json={"serv\x00ice": "ktp_el"})
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "serv?ice"
    _validation(client.get("/api/v1/offices/DEMO/reports/waiting?from=2026-01-01%00"), "query.from")
    _validation(client.get("/api/v1/offices/DE%00MO"), "path.code")
    _validation(client.get("/api/v1/resi/DEMO-A-1%00?check=2000-01-01"), "path.ref")
    _validation(client.get("/api/v1/tickets/abc%01"), "path.public_id")


def test_control_characters_in_a_page_form_are_refused(app):
    client = app.test_client()
    r = client.post("/login", data={"username": "fo1\x00", "password": "x"})
    assert r.status_code == 422 and b"username" in r.data


def test_deep_json_is_refused_before_parsing(app):
    client = app.test_client()
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    deep = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    huge = '{"a":' * 100_000 + "1" + "}" * 100_000  # would exhaust the parser's recursion
    for body in (deep, huge):
        r = client.post("/api/v1/offices/DEMO/tickets", headers={**kiosk(app), "Content-Type": "application/json"},
                        data=body)
        _validation(r, "body")
    r = client.post("/api/v1/offices/DEMO/tickets", headers={**kiosk(app), "Content-Type": "application/json"},
                    data=json.dumps({"service": ok}))  # brackets inside a string are text, not depth
    assert r.status_code < 500 and (r.get_json().get("details") or {}).get("field") != "body"


def test_out_of_range_numbers_and_malformed_bodies(app):
    client = app.test_client()
    r = client.post("/api/v1/offices/DEMO/tickets", headers=kiosk(app), json={"service": "ktp_el", "n": 10**30})
    _validation(r, "n")
    r = client.post("/api/v1/offices/DEMO/tickets", headers={**kiosk(app), "Content-Type": "application/json"},
                    data=b'{"service": "\xff\xfe"}')
    assert r.status_code == 422 and r.get_json()["details"]["field"] == "body"
    r = client.post("/api/v1/offices/DEMO/tickets", headers={**kiosk(app), "Content-Type": "application/json"},
                    data=b'{"service": ')
    assert r.status_code == 422 and r.get_json()["error"] == "validation_error"  # the view: not a JSON object


def test_body_size_limit_with_a_larger_one_for_the_pickup_photo(app):
    client = app.test_client()
    big = {"service": "ktp_el", "pad": "x" * (1024 * 1024)}
    r = client.post("/api/v1/offices/DEMO/tickets", headers=kiosk(app), json=big)
    assert r.status_code == 413
    assert r.get_json()["error"] == "request_entity_too_large" and r.get_json()["message"]
    # the hand-over of the pickup station takes up to 4 MiB (signature + photo): not a 413
    pickup = {"Authorization": f"Bearer {app.config['SEEDED']['tokens']['pickup']}"}
    with app.extensions["loket"].db.session() as s:
        from server.models import Device

        device_id = s.scalar(select(Device.id).where(Device.kind == "pickup", Device.active.is_(True)))
    r = client.post(f"/api/v1/pickup/{device_id}/hand-over", headers=pickup,
                    json={"photo": "data:image/jpeg;base64," + "A" * (2 * 1024 * 1024)})
    assert r.status_code != 413 and r.status_code < 500, r.get_data(as_text=True)[:300]
    r = client.post(f"/api/v1/pickup/{device_id}/hand-over", headers=pickup,
                    json={"photo": "A" * (5 * 1024 * 1024)})
    assert r.status_code == 413
    # a page form beyond the limit: 413 too
    assert client.post("/login", data={"username": "x" * (2 * 1024 * 1024)}).status_code == 413


def test_huge_integer_ids_in_urls_find_no_route(app):
    client = app.test_client()
    for path in ("/api/v1/counters/99999999999999999999", "/api/v1/counters/2147483648",
                 "/api/v1/applications/" + "9" * 5000, "/api/v1/complaints/4294967296"):
        r = client.get(path, headers=kiosk(app))
        assert r.status_code == 404, (path, r.status_code)
        assert r.get_json()["error"] == "not_found"
    assert client.get("/api/v1/counters/2147483647", headers=kiosk(app)).status_code in (403, 404)


def test_json_depth_and_bad_value_helpers():
    assert json_depth('{"a": [1, {"b": "[[[[{{{"}]}') == 3
    assert json_depth("[]") == 1 and json_depth('"x"') == 0
    assert bad_value({"a": [{"b": "ok\tok"}], "c": 2**53}) is None
    assert bad_value({"a": [{"b": "no\x00"}]}) == "a.0.b"
    assert bad_value({"a": -(2**53) - 1}) == "a"
    assert bad_value(["\x1f"]) == "0"
