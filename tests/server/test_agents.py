"""Station agents on the server: health, keypads, scans, card events, the devices page."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server import create_app
from server.config import TestingConfig
from server.demo import seed_demo
from server.models import AuditEntry, Counter, Device, Ticket
from tests.server.test_api import kiosk_issue, post, staff_client
from tests.sockets import agent_socket, staff_socket
from tests.streams import stream_entries


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = create_app(TestingConfig, DATABASE_URL=sqlite_url, DATA_DIR=tmp_path, SOCKETIO_ASYNC_MODE="threading")
    app.config["SEEDED"] = seed_demo(app.extensions["loket"].db, tmp_path)
    yield app
    app.extensions["loket"].db.dispose()


def agent(app, key: str):
    token = app.config["SEEDED"]["tokens"][key]
    return agent_socket(app, token)


def device(app, key: str) -> Device:
    names = {"kiosk": "Kiosk Lobi", "display_agent": "Panel LED dan Keypad Loket", "pickup": "Drive-Thru Lajur 1"}
    with app.extensions["loket"].db.session() as s:
        return s.scalars(select(Device).where(Device.name == names[key])).one()


def test_health_reports_mark_a_station_unhealthy_and_healthy_again(app):
    kiosk = agent(app, "kiosk")
    ok = {"printer": {"kind": "printer", "state": "ok", "detail": "", "last_answer_at": None}}
    assert kiosk.emit("health", {"devices": ok}, callback=True) == {"ok": True}
    d = device(app, "kiosk")
    assert d.unhealthy_since is None and d.last_seen_at is not None
    out = {"printer": {"kind": "printer", "state": "paper_out", "detail": "kertas habis"}}
    assert kiosk.emit("health", {"devices": out}, callback=True) == {"ok": True}
    d = device(app, "kiosk")
    assert d.unhealthy_since is not None and d.last_error == "printer: paper_out (kertas habis)"
    kiosk.emit("health", {"devices": ok}, callback=True)
    d = device(app, "kiosk")
    assert d.unhealthy_since is None and d.last_error.startswith("printer: paper_out")  # kept for the record
    with app.extensions["loket"].db.session() as s:
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "device.health")) is not None


def test_staff_consoles_hear_device_changes(app):
    fo1 = staff_client(app, "fo1")
    console = staff_socket(app, fo1)
    assert console.is_connected()
    state = console.emit("sync", {}, callback=True)["state"]
    assert {d["name"] for d in state["devices"]} >= {"Kiosk Lobi", "Drive-Thru Lajur 1"}
    agent(app, "kiosk").emit("health", {"devices": {"printer": {"kind": "printer", "state": "offline"}}}, callback=True)
    got = [data for name, data in stream_entries(console.get_received()) if name == "device"]
    assert got and got[-1]["device"]["healthy"] is False


def test_malformed_agent_messages_get_an_error_not_a_crash(app):
    kiosk = agent(app, "kiosk")
    assert kiosk.emit("health", "nonsense", callback=True)["ok"] is False
    assert kiosk.emit("health", {"devices": {"x": {"no": "state"}}}, callback=True)["error"] == "validation_error"
    # a display station has no scanner; a kiosk's scanner reads booking QRs (issue 6), and
    # anything else it reads is answered as a refusal for its page, never a crash
    assert agent(app, "display_agent").emit("scan", {"code": "abc"}, callback=True)["error"] == "forbidden"
    scanned = kiosk.emit("scan", {"code": "abc"}, callback=True)
    assert scanned["ok"] is True and scanned["scan"]["ok"] is False and scanned["scan"]["error"] == "not_booking"
    assert kiosk.emit("scan", {"code": 42}, callback=True)["error"] == "validation_error"
    assert kiosk.emit("print_result", {"ticket_id": "x"}, callback=True)["ok"] is False


def test_keypad_acts_like_the_console_for_allowed_counters(app):
    fo1 = staff_client(app, "fo1")
    with app.extensions["loket"].db.session() as s:
        cid = s.scalar(select(Counter.id).where(Counter.number == 1))
    post(fo1, f"/api/v1/counters/{cid}/open")
    first = kiosk_issue(app).get_json()["ticket"]
    second = kiosk_issue(app).get_json()["ticket"]
    panel = agent(app, "display_agent")
    answer = panel.emit("keypad", {"counter": 1, "action": "next"}, callback=True)
    assert answer["ok"] and answer["ticket"]["number"] == first["number"]
    assert panel.emit("keypad", {"counter": 1, "action": "recall"}, callback=True)["ok"]
    answer = panel.emit("keypad", {"counter": 1, "action": "next"}, callback=True)  # finishes, calls the next
    assert answer["ticket"]["number"] == second["number"]
    with app.extensions["loket"].db.session() as s:
        done = s.get(Ticket, first["id"])
        assert done.status == "done" and done.officer_id is not None  # served by the counter's officer
    assert panel.emit("keypad", {"counter": 2, "action": "next"}, callback=True)["error"] == "counter_not_open"
    assert panel.emit("keypad", {"counter": 1, "action": "dance"}, callback=True)["error"] == "validation_error"
    with app.extensions["loket"].db.session() as s:
        s.get(Device, device(app, "display_agent").id).settings = {"keypad_counters": [2]}
    assert panel.emit("keypad", {"counter": 1, "action": "finish"}, callback=True)["error"] == "forbidden"


def test_a_tv_display_token_cannot_press_keys(app):
    tv = agent(app, "display")  # the TV's own token has no keypad_counters
    assert tv.emit("keypad", {"counter": 1, "action": "next"}, callback=True)["error"] == "forbidden"


def test_display_agent_follows_counter_events(app):
    panel = agent(app, "display_agent")
    assert panel.emit("sync", {}, callback=True)["state"]["counters"]
    fo1 = staff_client(app, "fo1")
    with app.extensions["loket"].db.session() as s:
        cid = s.scalar(select(Counter.id).where(Counter.number == 1))
    post(fo1, f"/api/v1/counters/{cid}/open")
    assert any(name == "counter" for name, _data in stream_entries(panel.get_received()))


def test_scans_and_card_events_reach_the_station_page_room(app):
    pickup = agent(app, "pickup")
    answer = pickup.emit("scan", {"code": "RESI-123", "source": "camera"}, callback=True)
    assert answer["ok"] and answer["event"]["code"] == "RESI-123"
    assert pickup.emit("scan", {"code": ""}, callback=True)["error"] == "validation_error"
    activation = agent(app, "activation")
    answer = activation.emit("card", {"event": "inserted", "reader": "vpcd 0", "uid": "04A1B2", "atr": "3B8F"}, callback=True)
    assert answer["ok"] and answer["event"]["uid"] == "04A1B2"
    assert activation.emit("card", {"event": "exploded"}, callback=True)["ok"] is False


def test_devices_page_for_managers_only(app):
    manager = staff_client(app, "manager")
    page = manager.get("/devices")
    assert page.status_code == 200 and b"Kiosk Lobi" in page.data
    assert staff_client(app, "fo1").get("/devices").status_code == 403


def test_a_kiosk_agent_that_connects_late_pulls_its_unprinted_jobs(app):
    ticket = kiosk_issue(app).get_json()["ticket"]  # no agent connected: the push went nowhere
    kiosk = agent(app, "kiosk")
    answer = kiosk.emit("print_backlog", {}, callback=True)
    assert answer["ok"] and [j["job_id"] for j in answer["jobs"]] == [f"t{ticket['id']}-1"]
    assert not [m for m in kiosk.get_received() if m["name"] == "print_job"], "nothing pushed on connect"
    assert kiosk.emit("print_result", {"job_id": answer["jobs"][0]["job_id"], "ticket_id": ticket["id"], "ok": True},
                      callback=True) == {"ok": True}
    again = agent(app, "kiosk")  # printed now: nothing to pull
    assert again.emit("print_backlog", {}, callback=True) == {"ok": True, "jobs": []}


def test_device_tokens_never_look_like_a_command_line_option(app):
    """An agent takes its token as ``--token T``; a token starting with "-" (1 in 64 of plain
    token_urlsafe values) made argparse stop with "expected one argument"."""
    from kiosk.agent import parse_args
    from server.services.accounts import TOKEN_PREFIX, create_device
    from server.services.actors import SYSTEM

    with app.extensions["loket"].db.session() as s:
        office_id = s.scalars(select(Device)).first().office_id
        tokens = [create_device(s, office_id, "kiosk", f"k{i}", actor=SYSTEM)[1] for i in range(300)]
    assert all(t.startswith(TOKEN_PREFIX) and len(t) == len(TOKEN_PREFIX) + 32 for t in tokens)
    assert len(set(tokens)) == 300
    for token in tokens:
        assert parse_args(["--server", "http://x", "--token", token, "--printer", "sim://"]).token == token
