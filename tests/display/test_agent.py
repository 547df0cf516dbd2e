"""Display agent against a real Loket server (in this process, threading mode), with the LED
displays and keypads on real socat pty pairs and the simulators on the far ends."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from display.agent import DisplayAgent, KeypadBinding
from drivers.serialdev import Key, Keypad, KeypadState, SerialLedDisplay, SerialLink
from drivers.serialdev.simulator import KeypadSimulator, LedDisplaySimulator, pty_pair
from server.models import Counter, Device, Office
from server.services.accounts import create_device
from server.services.actors import SYSTEM
from tests.live import Staff, serve_demo, wait_for

GUARD_S = 0.2  # the agent's repeat guard in these tests


@pytest.fixture
def station(sqlite_url, tmp_path):
    """A served app, a display station allowed keypads on counters 1 and 2, LEDs 1-3 on one
    RS-485-like pty bus, keypads 1-3 on another pty, and the agent connected."""
    with serve_demo(sqlite_url, tmp_path, start=False) as server:
        with server.db.session() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == server.office))
            device, token = create_device(s, office_id, "display", "Panel LED test", actor=SYSTEM)
            device.settings = {"keypad_counters": [1, 2]}
            device_id = device.id
        (tmp_path / "led").mkdir()
        (tmp_path / "keys").mkdir()
        led_pty, key_pty = pty_pair(tmp_path / "led"), pty_pair(tmp_path / "keys")
        leds = LedDisplaySimulator(led_pty.b).start()
        keys = KeypadSimulator(key_pty.b)
        bus = SerialLink(led_pty.a)
        keypad = Keypad(key_pty.a)
        base = server.url
        agent = DisplayAgent(base, token, leds={n: SerialLedDisplay(bus, address=n) for n in (1, 2, 3)},
                             keypads=[KeypadBinding(keypad, {1: 1, 2: 2, 3: 3})], repeat_guard_s=GUARD_S,
                             health_interval_s=1.0, max_backoff_s=1.0)
        agent.start()  # before the server listens: it must connect by itself
        server.start()
        wait_for(lambda: agent.connected, what="agent connected")
        wait_for(lambda: keypad.status().state == KeypadState.OK, what="keypad port open")
        for n in (1, 2, 3):
            assert leds.wait_shown(n, "----"), f"LED {n} idle after sync"
        yield SimpleNamespace(app=server.app, base=base, agent=agent, server=server, leds=leds, keys=keys, token=token,
                              device_id=device_id, fo1=Staff(base, "fo1"))
        agent.stop()
    for closeable in (leds, keys):
        closeable.close()
    led_pty.stop()
    key_pty.stop()


def issue(st, service: str = "ktp_el") -> dict:
    return st.server.issue(service)["ticket"]


def status(st, ticket: dict) -> str:
    return st.server.ticket(ticket["public_id"])["status"]


def press(st, address: int, key: Key) -> None:
    """Press a key the way a person does: not within the double-press guard of the last one."""
    time.sleep(GUARD_S + 0.1)
    before = len(st.agent.results)
    st.keys.press(address, key)
    wait_for(lambda: len(st.agent.results) > before, what=f"answer to {key.name} on keypad {address}")


def last_result(st) -> dict:
    return st.agent.results[-1]


def test_led_shows_the_number_a_counter_calls(station):
    st = station
    st.fo1.act(1, "open")
    first, second = issue(st), issue(st)
    st.fo1.act(1, "call-next")
    assert st.leds.wait_shown(1, first["number"])
    st.fo1.act(1, "start")
    st.fo1.act(1, "call-next", finish_current=True)
    assert st.leds.wait_shown(1, second["number"])
    st.fo1.act(1, "finish")
    assert st.leds.wait_shown(1, "----")
    assert st.leds.history(2)[-1] == "----" and st.leds.errors == []


def test_led_catches_up_by_sync_after_a_reconnect(station):
    st = station
    st.fo1.act(1, "open")
    ticket = issue(st)
    st.server.stop()
    wait_for(lambda: not st.agent.connected, what="agent disconnected")
    with st.app.test_client() as client:  # the server works on; the agent hears nothing
        csrf = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
        r = client.post("/api/v1/auth/login", json={"username": "fo1", "password": "demo1234"},
                        headers={"X-CSRFToken": csrf})
        csrf = r.get_json()["csrf_token"]
        counter_id = _counter_id(st, 1)
        assert client.post(f"/api/v1/counters/{counter_id}/call-next", json={},
                           headers={"X-CSRFToken": csrf}).status_code == 200
    time.sleep(0.3)
    assert st.leds.shown[1] == "----"
    st.server.start()
    assert st.leds.wait_shown(1, ticket["number"], timeout=10), "LED updated by the sync after reconnecting"


def _counter_id(st, number: int) -> int:
    with st.app.extensions["loket"].db.session() as s:
        return s.scalar(select(Counter.id).where(Counter.number == number))


def test_keypad_next_calls_the_next_ticket_of_its_counter(station):
    st = station
    st.fo1.act(1, "open")
    first, second = issue(st), issue(st)
    press(st, 1, Key.NEXT)
    assert last_result(st)["ok"], last_result(st)
    assert st.leds.wait_shown(1, first["number"])
    assert st.fo1.current(1) == first["number"] and status(st, first) == "called"

    press(st, 1, Key.NEXT)  # finish A001, call A002: the console's "Selesai & panggil berikutnya"
    assert last_result(st)["ok"] and last_result(st)["ticket"]["number"] == second["number"]
    assert st.leds.wait_shown(1, second["number"])
    assert status(st, first) == "done" and status(st, second) == "called"


def test_keypad_recall_skip_and_finish(station):
    st = station
    st.fo1.act(1, "open")
    first, second = issue(st), issue(st)
    press(st, 1, Key.NEXT)
    assert st.leds.wait_shown(1, first["number"])
    press(st, 1, Key.RECALL)
    assert last_result(st)["ok"] and st.fo1.current(1) == first["number"]
    press(st, 1, Key.SKIP)
    assert last_result(st)["ok"] and st.fo1.current(1) is None and status(st, first) != "called"
    assert st.leds.wait_shown(1, "----")
    press(st, 1, Key.NEXT)
    assert st.leds.wait_shown(1, second["number"])
    press(st, 1, Key.FINISH)
    assert last_result(st)["ok"] and status(st, second) == "done"
    assert st.leds.wait_shown(1, "----") and st.fo1.current(1) is None

    shown_before = len(st.leds.history(1))
    press(st, 1, Key.NEXT)  # nobody waits: refused, the LED blinks "----"
    assert last_result(st)["error"] == "queue_empty"
    wait_for(lambda: st.leds.history(1)[shown_before:][:2] == ["", "----"], what="queue-empty blink")


def test_keypad_of_a_counter_not_allowed_shows_an_error_and_changes_nothing(station):
    st = station
    fo3 = Staff(st.base, "fo3")
    fo3.act(3, "open")
    waiting = issue(st, "kk")
    press(st, 3, Key.NEXT)
    assert last_result(st)["ok"] is False and last_result(st)["error"] == "forbidden"
    assert st.leds.wait_shown(3, "Err"), "error shown on counter 3's LED"
    assert st.leds.wait_shown(3, "----", timeout=5), "then its idle text again"
    assert fo3.current(3) is None and status(st, waiting) == "waiting"
    assert st.leds.history(1)[-1] == "----"


def test_double_press_calls_one_citizen(station):
    st = station
    st.fo1.act(1, "open")
    first, second = issue(st), issue(st)
    time.sleep(GUARD_S + 0.1)
    st.keys.send_raw(b"K1:NEXT\r\nK1:N\r\n")  # a bouncing key, or an impatient finger
    assert st.leds.wait_shown(1, first["number"])
    time.sleep(0.5)
    assert len(st.agent.results) == 1 and status(st, second) == "waiting"


def test_press_while_server_is_down_flashes_err_and_is_not_replayed(station):
    st = station
    st.fo1.act(1, "open")
    ticket = issue(st)
    st.server.stop()
    wait_for(lambda: not st.agent.connected, what="agent disconnected")
    press(st, 1, Key.NEXT)
    assert last_result(st)["error"] == "offline"
    assert st.leds.wait_shown(1, "ERR") and st.leds.wait_shown(1, "----", timeout=5)
    st.server.start()
    wait_for(lambda: st.agent.connected, what="agent reconnected")
    time.sleep(1.0)
    assert status(st, ticket) == "waiting" and st.fo1.current(1) is None


def test_garbage_on_the_keypad_line_is_ignored(station):
    st = station
    st.fo1.act(1, "open")
    ticket = issue(st)
    st.keys.send_raw(b"\xff\x00K9\r\nK1:JUMP\r\nnoise noise\r\n")
    time.sleep(GUARD_S + 0.1)
    press(st, 1, Key.NEXT)
    assert st.leds.wait_shown(1, ticket["number"])
    assert len(st.agent.keypads[0].keypad.errors) == 3


def test_health_reports_every_led_and_keypad(station):
    st = station

    def reported():
        with st.app.extensions["loket"].db.session() as s:
            health = dict(s.get(Device, st.device_id).health or {})
        return health if {"led_1", "led_2", "led_3", "keypad_1"} <= set(health) else None

    health = wait_for(reported, what="health stored by the server")
    assert health["led_1"]["kind"] == "led_display" and health["led_1"]["state"] == "ok"
    assert health["keypad_1"]["kind"] == "keypad" and health["keypad_1"]["state"] == "ok"
    assert health["led_2"]["last_answer_at"]


def test_demo_agent_runs_on_loop_ports(sqlite_url, tmp_path):
    from display.agent import start_demo_display_agent

    with serve_demo(sqlite_url, tmp_path, start=False) as server:
        app, base = server.app, server.url
        with server.db.session() as s:
            office_id = s.scalar(select(Office.id).where(Office.code == server.office))
            device, token = create_device(s, office_id, "display", "Panel LED demo", actor=SYSTEM)
            device.settings = {"keypad_counters": [2]}
        agent = start_demo_display_agent(app, base, token)
        server.start()
        try:
            leds, keys = app.extensions["loket_demo_leds"], app.extensions["loket_demo_keypads"]
            assert sorted(agent.leds) == list(range(1, 9))
            wait_for(lambda: agent.connected, what="demo agent connected")
            assert all(leds.wait_shown(n, "----") for n in agent.leds)
            Staff(base, "fo2").act(2, "open")
            ticket = server.issue()["ticket"]
            keys.press(2, "next")
            assert leds.wait_shown(2, ticket["number"])
        finally:
            agent.stop()


def test_command_line_builds_leds_on_shared_ports_and_keypads():
    from display.agent import build_agent, build_parser, main

    args = build_parser().parse_args([
        "--server", "http://loket.test", "--token", "T", "--led", "1=loop://",
        "--led", "2=socket://10.0.0.5:4001,address=7,ack", "--led", "3=socket://10.0.0.5:4001,format=plain-line",
        "--keypad", "/dev/ttyUSB5:1=1,2=2", "--keypad", "/dev/ttyUSB6",
    ])
    agent = build_agent(args)
    assert agent.leds[2].link is agent.leds[3].link and agent.leds[2].address == 7 and agent.leds[2].ack
    assert agent.leds[3].format.name == "plain-line" and agent.leds[1].format.name == "loket-ascii"
    assert agent.keypads[0].counters == {1: 1, 2: 2} and agent.keypads[1].counter_of(4) == 4
    bad = build_parser().parse_args(["--server", "http://x", "--token", "T", "--led", "1=loop://",
                                     "--keypad", "loop://"])
    with pytest.raises(ValueError, match="already used"):
        build_agent(bad)
    with pytest.raises(SystemExit) as exit_info:
        main(["--server", "http://x", "--token", "T", "--led", "one=/dev/ttyUSB0"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0


def test_keypad_outcomes_stay_bounded_over_10000_presses():
    """10 000 presses while the server is away: each is answered "offline" on its counter's
    LED, ``results`` keeps the last RESULT_HISTORY of them and the LED state one per counter."""
    from display.station import RESULT_HISTORY

    leds = {n: SimpleNamespace() for n in range(1, 6)}  # never written: the agent is not started
    agent = DisplayAgent("http://127.0.0.1:9", "t", leds=leds)
    for i in range(10_000):
        agent._send_press(i % 5 + 1, "next")
        assert len(agent.results) <= RESULT_HISTORY
    assert len(agent.results) == RESULT_HISTORY == 100
    assert all(r == {"counter": r["counter"], "action": "next", "ok": False, "error": "offline"}
               for r in agent.results)
    assert [r["counter"] for r in agent.results][-5:] == [1, 2, 3, 4, 5]
    assert sorted(agent._flashes) == [1, 2, 3, 4, 5]
