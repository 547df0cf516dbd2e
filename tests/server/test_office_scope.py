"""The office scope rule (issue 13, "Office scope: one rule, no way around it").

Every staff page, API operation and socket room of the demo office DEMO, tried by
identities of another office LAIN (the same role, its office admin), by DEMO's own office
admin, by the system admin and by nobody: refused where it should be, and nothing of DEMO
changes. The routes come from the app's own URL map, so a page or API view added later is
in the matrix without anyone listing it. Also: only a system admin has no office (service
and database constraint, on SQLite and PostgreSQL), catalog loads stay in scope, and device
tokens act only as their kind on the agent channel.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from server import create_app
from server.config import TestingConfig
from server.demo import DEMO_PASSWORD, seed_demo
from server.models import AuditEntry, Counter, Device, Office, StaffUser
from server.services.accounts import create_device, create_staff
from server.services.actors import SYSTEM, Actor
from server.services.catalog import DEMO_CATALOG, load_catalog_file, parse_catalog
from server.services.errors import Forbidden, ValidationError
from tests.server.test_api import kiosk_issue, post, staff_client
from tests.server.test_applications_api import registered
from tests.sockets import agent_socket, staff_socket

LAIN_ROLES = ("manager", "section_head", "front_office", "pickup_officer", "activation_officer", "admin")


@pytest.fixture
def app(db_url, tmp_path):
    """DEMO (demo seed) with a registered file, a ticket and a complaint; a second office
    LAIN with one account per role (``<role>_lain``) and its own stations."""
    app = create_app(TestingConfig, DATABASE_URL=db_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    with app.extensions["loket"].db.session() as s:
        lain = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM, overrides={"code": "LAIN", "name": "Kantor Lain"})
        for role in LAIN_ROLES:
            create_staff(s, f"{role}_lain", DEMO_PASSWORD, role, full_name=role, office_id=lain.id, actor=SYSTEM)
        _, app.config["LAIN_DISPLAY"] = create_device(s, lain.id, "display", "TV Lain", actor=SYSTEM)
    app.config["FILE"] = registered(app)
    yield app
    app.extensions["loket"].db.dispose()


def ids(app) -> dict:
    """One DEMO row per URL parameter name, to put into the routes."""
    with app.extensions["loket"].db.session() as s:
        demo = s.scalars(select(Office).where(Office.code == "DEMO")).one()
        device = {k: s.scalars(select(Device.id).where(Device.office_id == demo.id, Device.kind == k)).first()
                  for k in ("pickup", "activation", "kiosk", "display", "printer", "survey")}
        return {"office": demo, "counter": s.scalars(select(Counter.id).where(Counter.office_id == demo.id)).first(),
                "device": device}


def demo_changes(app) -> int:
    """Audit rows of DEMO (every state change writes one)."""
    with app.extensions["loket"].db.session() as s:
        office_id = s.scalars(select(Office.id).where(Office.code == "DEMO")).one()
        return s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.office_id == office_id))


def demo_routes(app) -> list[tuple[str, str]]:
    """(method, URL) of every route that names DEMO or one of its rows, from the URL map."""
    known = ids(app)
    file_id = app.config["FILE"]["application"]["id"]
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or not rule.arguments:
            continue
        values = {}
        for arg in rule.arguments:
            if arg == "code":
                values[arg] = "DEMO"
            elif arg == "counter_id":
                values[arg] = known["counter"]
            elif arg == "application_id":
                values[arg] = file_id
            elif arg == "device_id":
                kind = next((k for k in known["device"] if f"/{k}" in rule.rule), "pickup")
                values[arg] = known["device"][kind]
            elif arg == "action":
                values[arg] = "open" if "counters" in rule.rule else "verify"
            else:
                break  # a public token, a public id, a file name: not an office's row
        else:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                url = rule.rule
                for arg, value in values.items():
                    url = re.sub(rf"<(?:[a-z]+:)?{arg}>", str(value), url)
                out.append((method, url))
    return out


def call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    headers = {"X-CSRFToken": getattr(client, "csrf", "")}
    if url.startswith("/api/"):
        return client.open(url, method=method, json={}, headers=headers)
    return client.open(url, method=method, data={"csrf_token": getattr(client, "csrf", "")}, headers=headers)


def test_every_route_of_an_office_refuses_the_staff_of_another(app):
    routes = demo_routes(app)
    assert len(routes) > 40  # the matrix is the whole house, not a sample
    anonymous = app.test_client()
    public = {(m, u) for m, u in routes if m == "GET" and call(anonymous, m, u).status_code < 400}
    before = demo_changes(app)
    leaks = []
    for username in [f"{role}_lain" for role in LAIN_ROLES]:
        client = staff_client(app, username)
        for method, url in routes:
            if (method, url) in public:
                continue
            status = call(client, method, url).status_code
            if status < 400 or status >= 500 or (method == "GET" and status not in (401, 403, 404)):
                leaks.append((username, method, url, status))
    assert leaks == [], "\n".join(map(str, leaks))
    assert demo_changes(app) == before  # nothing of DEMO changed


@pytest.mark.parametrize("username", ["admin", "sysadmin", "manager"])
def test_the_office_itself_and_the_system_admin_are_let_in(app, username):
    client = staff_client(app, username)
    for url in ("/dashboard", "/devices", "/reports", "/api/v1/offices/DEMO/dashboard",
                "/api/v1/offices/DEMO/complaints", f"/api/v1/applications/{app.config['FILE']['application']['id']}"):
        assert client.get(url + ("?office=DEMO" if not url.startswith("/api") else "")).status_code == 200, url
    offices = {o["code"] for o in client.get("/api/v1/offices").get_json()["offices"]}
    assert offices == ({"DEMO", "LAIN"} if username == "sysadmin" else {"DEMO"})


def test_staff_pages_show_only_the_own_office(app):
    demo_name = ids(app)["office"].name
    for url in ("/dashboard?office=DEMO", "/devices?office=DEMO", "/complaints?office=DEMO", "/"):
        page = staff_client(app, "admin_lain").get(url).get_data(as_text=True)
        assert "Kantor Lain" in page or url == "/"
        assert '"code": "DEMO"' not in page and demo_name not in page, url


def test_only_a_system_admin_has_no_office(app):
    db = app.extensions["loket"].db
    with db.session() as s:
        lain = s.scalars(select(Office.id).where(Office.code == "LAIN")).one()
        for role in ("admin", "manager", "front_office"):
            with pytest.raises(ValidationError) as err:
                create_staff(s, f"x_{role}", "password123", role, full_name="x", office_id=None, actor=SYSTEM)
            assert err.value.details["field"] == "office"
        with pytest.raises(ValidationError):
            create_staff(s, "x_sys", "password123", "system_admin", full_name="x", office_id=lain, actor=SYSTEM)
    for office_sql, role in (("NULL", "admin"), ("NULL", "manager"), (str(lain), "system_admin")):
        with pytest.raises(IntegrityError), db.session() as s:  # the database says so too
            s.execute(text("INSERT INTO staff_users (office_id, username, full_name, password_hash, role, active, "
                           f"session_version) VALUES ({office_sql}, 'raw_{role}', 'x', 'x', '{role}', true, 0)"))


def test_the_admin_api_keeps_an_office_admin_in_its_office(app):
    admin_lain = staff_client(app, "admin_lain")
    before = demo_changes(app)
    # an account with no office, or a system admin, cannot be made through the API
    r = post(admin_lain, "/api/v1/admin/staff", {"username": "ghost", "password": "password123",
                                                  "role": "system_admin", "full_name": "Ghost"})
    assert r.status_code == 403
    r = post(admin_lain, "/api/v1/admin/staff", {"username": "fo_lain2", "password": "password123",
                                                  "role": "front_office", "full_name": "FO"})
    assert r.status_code == 201  # no office given: the admin's own
    with app.extensions["loket"].db.session() as s:
        user = s.scalars(select(StaffUser).where(StaffUser.username == "fo_lain2")).one()
        assert s.get(Office, user.office_id).code == "LAIN"
    r = post(admin_lain, "/api/v1/admin/staff", {"username": "spy", "password": "password123",
                                                  "role": "admin", "full_name": "Spy", "office": "DEMO"})
    assert r.status_code == 403
    # another office's catalog: neither loaded over it nor a new office made
    catalog = parse_catalog(__import__("tomllib").loads(open(DEMO_CATALOG, encoding="utf-8").read()))
    for code in ("DEMO", "BARU"):
        r = post(admin_lain, "/api/v1/admin/offices", {"catalog": catalog, "overrides": {"code": code, "name": "X"}})
        assert r.status_code == 403, code
    assert post(admin_lain, "/api/v1/admin/offices",
                {"catalog": catalog, "overrides": {"code": "LAIN", "name": "Kantor Lain"}}).status_code == 201
    assert post(admin_lain, "/api/v1/admin/offices/DEMO/devices", {"kind": "kiosk", "name": "x"}).status_code == 403
    assert demo_changes(app) == before
    sysadmin = staff_client(app, "sysadmin")
    assert post(sysadmin, "/api/v1/admin/offices", {"catalog": catalog, "overrides": {"code": "BARU"}}).status_code == 201
    with app.extensions["loket"].db.session() as s:
        assert s.scalars(select(Office).where(Office.code.in_(["BARU", "LAIN"]))).all()
        with pytest.raises(Forbidden):
            load_catalog_file(s, DEMO_CATALOG, actor=Actor("staff", 1, office_id=None, role="admin"),
                              overrides={"code": "NEU"})


def test_staff_socket_rooms_follow_the_scope(app):
    demo = ids(app)["office"].id
    for username, allowed in (("manager", True), ("admin", True), ("sysadmin", True),
                              ("manager_lain", False), ("admin_lain", False)):
        client = staff_socket(app, staff_client(app, username), auth={"office_id": demo})
        assert client.is_connected() is allowed, username
        if allowed:
            assert client.emit("sync", {}, callback=True)["state"]["office"]["code"] == "DEMO"
            client.disconnect()
    pickup = ids(app)["device"]["pickup"]
    lain_officer = staff_socket(app, staff_client(app, "pickup_officer_lain"))
    assert lain_officer.is_connected()
    answer = lain_officer.emit("join_station", {"device_id": pickup}, callback=True)
    assert answer["ok"] is False and answer["error"] == "forbidden"
    own = staff_socket(app, staff_client(app, "ambil"))
    assert own.emit("join_station", {"device_id": pickup}, callback=True)["ok"] is True
    assert not staff_socket(app, auth={"office_id": demo}).is_connected()  # nobody


def test_device_tokens_act_only_as_their_kind(app):
    """A display token connected as an agent reports no print result, scan or card event
    (a survey tablet's token runs no agent: it does not even connect to "/agents"); the
    kiosk's own agent may report its print result."""
    tokens = app.config["SEEDED"]["tokens"]
    ticket = kiosk_issue(app).get_json()["ticket"]
    before = demo_changes(app)
    assert not agent_socket(app, tokens["survey"]).is_connected()
    for key in ("display", "display_agent"):
        agent = agent_socket(app, tokens[key])
        assert agent.is_connected()
        for event, data in (("print_result", {"job_id": "t1-1", "ticket_id": ticket["id"], "ok": True}),
                            ("print_backlog", {}), ("scan", {"code": "x", "source": "camera"}),
                            ("card", {"event": "inserted", "reader": "r", "uid": "04AB", "atr": "3B"})):
            answer = agent.emit(event, data, callback=True)
            assert answer["ok"] is False and answer["error"] == "forbidden", (key, event, answer)
        agent.disconnect()
    assert demo_changes(app) == before
    kiosk = agent_socket(app, tokens["kiosk"])
    assert kiosk.emit("print_result", {"job_id": "t1-1", "ticket_id": ticket["id"], "ok": True}, callback=True)["ok"]
    # a display token over HTTP cannot issue tickets or act as staff either
    display = {"Authorization": f"Bearer {tokens['display']}"}
    assert app.test_client().post("/api/v1/offices/DEMO/tickets", json={"service": "ktp_el"},
                                  headers=display).status_code == 403
    counter = ids(app)["counter"]
    assert app.test_client().post(f"/api/v1/counters/{counter}/call-next", json={},
                                  headers=display).status_code == 403
    lain = {"Authorization": f"Bearer {app.config['LAIN_DISPLAY']}"}
    assert app.test_client().get("/api/v1/offices/DEMO/state?audience=display", headers=lain).status_code in (403, 404)
