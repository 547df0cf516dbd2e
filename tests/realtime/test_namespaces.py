"""One Socket.IO namespace per kind of client, each with its own authentication
(server/realtime/handlers.py): "/" screens, "/staff" staff sessions, "/agents" station
agents. On SQLite with Flask-SocketIO's test client."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.models import Office
from server.realtime import handlers
from tests.server.test_agents import app  # noqa: F401  (fixture: the demo app on SQLite, seeded)
from tests.server.test_api import kiosk_issue, staff_client, tokens
from tests.server.test_applications_api import registered
from tests.sockets import AGENTS, SCREENS, STAFF, NamespaceClient, agent_socket, screen_socket, staff_socket
from tests.streams import stream_entries


def demo_office(app_) -> int:
    with app_.extensions["loket"].db.session() as s:
        return s.scalars(select(Office.id).where(Office.code == "DEMO")).one()


def test_each_namespace_has_exactly_one_connect_handler(app):
    socketio = app.extensions["loket"].socketio
    server = socketio.server
    assert set(server.handlers) == {SCREENS, STAFF, AGENTS}
    assert not server.namespace_handlers
    for namespace, connect in ((SCREENS, "on_screen_connect"), (STAFF, "on_staff_connect"),
                               (AGENTS, "on_agent_connect")):
        # the registered handler is that namespace's own (Flask-SocketIO wraps it: functools.wraps)
        assert server.handlers[namespace]["connect"].__wrapped__.__name__ == connect, namespace
    # the events of each kind of client live in its namespace only
    assert set(server.handlers[SCREENS]) == {"connect", "disconnect", "sync"}
    assert set(server.handlers[STAFF]) == {"connect", "disconnect", "sync", "join_station"}
    assert set(server.handlers[AGENTS]) == {"connect", "disconnect", "sync", "print_result", "print_backlog",
                                            "health", "keypad", "scan", "card"}
    # a second connect handler is refused instead of silently replacing the first
    for namespace in (SCREENS, STAFF, AGENTS):
        with pytest.raises(RuntimeError, match="already has a 'connect' handler"):
            handlers.on(socketio, "connect", namespace)(lambda auth=None: True)
        assert server.handlers[namespace]["connect"].__wrapped__.__name__ != "<lambda>"


def test_screens_accept_screen_credentials_only(app):
    demo = demo_office(app)
    fo1 = staff_client(app, "fo1")
    # a staff session alone (with or without an office) is no screen
    assert not screen_socket(app, flask_test_client=fo1).is_connected()
    assert not screen_socket(app, flask_test_client=fo1, auth={"office_id": demo}).is_connected()
    assert not screen_socket(app).is_connected()
    # an agent is not a screen, even with a screen kind's token
    assert not screen_socket(app, auth={"token": tokens(app)["display"], "agent": True}).is_connected()
    assert not screen_socket(app, auth={"token": tokens(app)["pickup"]}).is_connected()  # no screen of its own
    assert not screen_socket(app, auth={"token": "nope"}).is_connected()
    for auth in ({"token": tokens(app)["display"]}, {"token": tokens(app)["kiosk"]},
                 {"token": tokens(app)["survey"]}, {"token": tokens(app)["pickup"], "lane": True}):
        client = screen_socket(app, auth=auth)
        assert client.is_connected(), auth
        client.disconnect()
    ticket = kiosk_issue(app).get_json()["ticket"]
    public = screen_socket(app, auth={"ticket": ticket["public_id"]})
    assert public.is_connected()
    assert public.emit("sync", {"ticket": ticket["public_id"]}, callback=True)["state"]["ticket"]


def test_staff_accepts_staff_sessions_only(app):
    fo1 = staff_client(app, "fo1")
    assert not staff_socket(app).is_connected()
    for key in ("display", "kiosk", "pickup", "activation", "display_agent"):
        assert not staff_socket(app, auth={"token": tokens(app)[key]}).is_connected(), key
        # a device token beside a staff cookie is refused too: a device never passes as staff
        assert not staff_socket(app, fo1, auth={"token": tokens(app)[key]}).is_connected(), key
    ticket = kiosk_issue(app).get_json()["ticket"]
    assert not staff_socket(app, auth={"ticket": ticket["public_id"]}).is_connected()
    assert staff_socket(app, fo1).is_connected()


def test_agents_accept_agent_device_tokens_only(app):
    assert not agent_socket(app, tokens(app)["survey"]).is_connected()  # a screen only: no agent
    assert not agent_socket(app, "nope").is_connected()
    assert not NamespaceClient(app, AGENTS).is_connected()
    assert not NamespaceClient(app, AGENTS, flask_test_client=staff_client(app, "fo1")).is_connected()
    ticket = kiosk_issue(app).get_json()["ticket"]
    assert not NamespaceClient(app, AGENTS, auth={"ticket": ticket["public_id"]}).is_connected()
    lane = {"token": tokens(app)["pickup"], "lane": True}  # the lane screen's credential is a screen's
    assert not NamespaceClient(app, AGENTS, auth=lane).is_connected()
    # the "agent" flag is not needed, and accepted
    assert NamespaceClient(app, AGENTS, auth={"token": tokens(app)["kiosk"], "agent": True}).is_connected()


def test_an_agent_gets_its_print_job_and_its_events_work(app):
    kiosk = agent_socket(app, tokens(app)["kiosk"])
    assert kiosk.is_connected()
    issued = kiosk_issue(app).get_json()
    [job] = [m["args"][0] for m in kiosk.get_received() if m["name"] == "print_job"]
    assert job["job_id"] == issued["print"]["job_id"]
    assert kiosk.emit("print_result", {"job_id": job["job_id"], "ticket_id": job["ticket_id"], "ok": True},
                      callback=True) == {"ok": True}
    assert kiosk.emit("print_backlog", {}, callback=True) == {"ok": True, "jobs": []}
    ok = {"printer": {"kind": "printer", "state": "ok", "detail": ""}}
    assert kiosk.emit("health", {"devices": ok}, callback=True) == {"ok": True}
    # the kinds rule stays (AGENT_EVENTS): a kiosk has no keypad
    assert kiosk.emit("keypad", {"counter": 1, "action": "next"}, callback=True)["error"] == "forbidden"
    # the kiosk's page (a screen on "/") never gets the print job, and cannot send agent events
    page = screen_socket(app, auth={"token": tokens(app)["kiosk"]})
    kiosk_issue(app)
    assert not [m for m in page.get_received() if m["name"] == "print_job"]
    assert [m for m in kiosk.get_received() if m["name"] == "print_job"]
    assert not page.emit("health", {"devices": ok}, callback=True)


def test_staff_get_the_staff_stream_and_screens_the_public_one_only(app):
    demo = demo_office(app)
    fo1 = staff_client(app, "fo1")
    console = staff_socket(app, fo1, auth={"office_id": demo})
    tv = screen_socket(app, auth={"token": tokens(app)["display"]})
    led = agent_socket(app, tokens(app)["display_agent"])  # an LED display agent follows the public stream
    assert console.emit("sync", {}, callback=True)["state"]["office"]["code"] == "DEMO"
    assert tv.emit("sync", {}, callback=True)["state"]["counters"]
    assert led.emit("sync", {}, callback=True)["state"]["counters"]
    for client in (console, tv, led):
        client.get_received()
    application = registered(app, "kk")  # counter 1 opened, a ticket called and served, its file: staff only
    assert application["resi"]
    staff_names = [name for name, _data in stream_entries(console.get_received())]
    tv_entries = stream_entries(tv.get_received())
    tv_names = [name for name, _data in tv_entries]
    led_names = [name for name, _data in stream_entries(led.get_received())]
    assert "application" in staff_names and {"counter", "call"} <= set(staff_names)
    assert {"counter", "call"} <= set(tv_names) and "application" not in tv_names
    assert {"counter", "call"} <= set(led_names) and "application" not in led_names
    # the public screens' positions are the public stream's: no hole where the staff entry went
    positions = [data["position"] for _name, data in tv_entries]
    assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_station_rooms_in_two_namespaces(app):
    """A pickup station's ``lane`` events reach the officer's page ("/staff") and the lane
    screen ("/"); a kiosk agent's booking scans reach the kiosk's own page ("/")."""
    from tests.server.test_pickup_api import lookup, pickup_device

    ambil, dev = staff_client(app, "ambil"), pickup_device(app)
    page = staff_socket(app, ambil)
    assert page.emit("join_station", {"device_id": dev}, callback=True)["ok"] is True
    lane = screen_socket(app, auth={"token": tokens(app)["pickup"], "lane": True})
    kk = registered(app, "kk")
    page.get_received(), lane.get_received()
    lookup(ambil, dev, kk["resi"]["payload"])
    assert [m["name"] for m in lane.get_received()] == ["lane"]
    assert [m["name"] for m in page.get_received() if m["name"] == "lane"] == ["lane"]

    kiosk_page = screen_socket(app, auth={"token": tokens(app)["kiosk"]})
    kiosk_page.get_received()
    scanned = agent_socket(app, tokens(app)["kiosk"]).emit("scan", {"code": "abc", "source": "camera"}, callback=True)
    assert scanned["ok"] is True
    assert [m["name"] for m in kiosk_page.get_received()] == ["booking_scan"]
