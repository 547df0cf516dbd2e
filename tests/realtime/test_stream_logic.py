"""The office-stream client logic (drivers/stream: cursor and call announcer) against the
shared cases of tests/realtime/stream_cases.json; the JavaScript twin runs the same cases
in tests/pages/test_stream_logic_js.py."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from drivers.stream import CallAnnouncer, StreamCursor

CASES = json.loads((Path(__file__).parent / "stream_cases.json").read_text())


def message(name: str, position, log: str) -> dict:
    """A live message as the server sends it (payload plus position and log)."""
    return {"position": position, "log": log, "marker": f"{name}-{position}"}


def expand_answer(answer: dict) -> dict:
    """A case's compact answer as the server sends it."""
    out = dict(answer)
    if isinstance(out.get("state"), str):
        out["state"] = {"v": out["state"]}
    if "entries" in out:
        out["entries"] = [{"name": n, "data": message(n, p, answer["log"])} for n, p in out["entries"]]
    return out


def compact(actions: list) -> list:
    """Actions in the cases' compact form."""
    out = []
    for action in actions:
        if action[0] == "state":
            out.append(["state", action[1].get("v")])
        elif action[0] == "event":
            out.append(["event", action[1], action[2]["position"]])
        else:
            out.append(list(action))
    return out


def run_cursor(case: dict) -> StreamCursor:
    cursor = StreamCursor(case.get("grace_ms", 300))
    for step in case["steps"]:
        if "connect" in step:
            got = cursor.connect(step["connect"])
        elif "disconnect" in step:
            got = cursor.disconnect()
        elif "retry" in step:
            got = cursor.retry(step["retry"])
        elif "tick" in step:
            got = cursor.tick(step["tick"])
        elif "event" in step:
            name, position, log = step["event"]
            got = cursor.event(name, message(name, position, log), step["now"])
        else:
            got = cursor.answer(expand_answer(step["answer"]), step["now"])
        assert compact(got) == step["expect"], f"{case['name']}: step {step}"
    return cursor


@pytest.mark.parametrize("case", CASES["cursor"], ids=[c["name"] for c in CASES["cursor"]])
def test_cursor_case(case):
    cursor = run_cursor(case)
    for key, value in case.get("final", {}).items():
        assert getattr(cursor, key) == value, f"{case['name']}: final {key}"


def ms(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000.0


@pytest.mark.parametrize("case", CASES["announcer"], ids=[c["name"] for c in CASES["announcer"]])
def test_announcer_case(case):
    announcer = CallAnnouncer(case["window_s"], case.get("known", []), case.get("memory", 500))
    for step in case["steps"]:
        if "live" in step:
            assert announcer.live(step["live"], ms(step["now"])) is step["expect"], f"{case['name']}: {step}"
        else:
            got = [c["id"] for c in announcer.state(step["state"], ms(step["now"]))]
            assert got == step["expect"], f"{case['name']}: {step}"
    if "final_known" in case:
        assert announcer.known() == case["final_known"]
