"""A waiting-room TV in Python that follows the TV page's own logic, for the simulation,
the tests and the benchmarks: the office stream through ``drivers.stream`` (the cursor the
page uses) and the same call announcer, with speaking taken as instantaneous.

:class:`TvScreen` records, per call id, what a citizen in front of that TV would notice:
``received`` (calls shown, in the order they were applied, live or replayed), ``spoken``
(in the order they were spoken) and ``from_state`` (calls that came only inside a full
state). :func:`judge` compares them with the office's calls in log order.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime

import socketio

from drivers.stream import CallAnnouncer
from drivers.stream.announcer import DEFAULT_WINDOW_S
from drivers.stream.client import OfficeStreamClient


class TvScreen:
    """One TV on ``base`` with a display ``token``; :meth:`start` connects (reconnecting by
    itself after a drop), :meth:`stop` disconnects. ``window_s`` overrides the office's
    speaking window."""

    def __init__(self, base: str, token: str, *, window_s: float | None = None, name: str = "tv") -> None:
        self.base, self.token, self.name = base, token, name
        self.window_s = window_s
        self.sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1.0,
                                   logger=False, engineio_logger=False)
        self.stream = OfficeStreamClient(self.sio, self._on_state, self._on_event)
        self.announcer: CallAnnouncer | None = None
        self.lock = threading.Lock()
        self.received: list[int] = []
        self.spoken: list[int] = []
        self.from_state: list[int] = []
        self.states = 0
        self.numbers: dict[int, str] = {}
        self._offset_ms = 0.0
        self._stop = threading.Event()
        self._loop: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, wait_s: float = 15.0) -> "TvScreen":
        """Connect and wait for the first full state."""
        self._loop = threading.Thread(target=self.stream.run, args=(self._stop.is_set,), daemon=True,
                                      name=f"{self.name}-stream")
        self._loop.start()
        self.sio.connect(self.base, auth={"token": self.token}, transports=["websocket"], wait_timeout=10)
        deadline = time.monotonic() + wait_s
        while self.states == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.states == 0:
            raise TimeoutError(f"{self.name}: no full state within {wait_s} s")
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self.sio.disconnect()
        except Exception:
            pass

    @property
    def position(self) -> int | None:
        return self.stream.cursor.position

    # -- the page's logic -----------------------------------------------------------------
    def _now_ms(self) -> float:
        return time.time() * 1000.0 + self._offset_ms

    def _on_state(self, state: dict) -> None:
        with self.lock:
            self.states += 1
            if state.get("server_time"):
                server = datetime.fromisoformat(state["server_time"]).timestamp() * 1000.0
                self._offset_ms = server - time.time() * 1000.0
            window = self.window_s
            if window is None:
                window = (state.get("office") or {}).get("speak_window_s", DEFAULT_WINDOW_S)
            if self.announcer is None:
                self.announcer = CallAnnouncer(window)
            calls = state.get("calls") or []
            for call in calls:
                self.numbers[call["id"]] = call.get("number")
            seen = set(self.received)
            self.from_state += [c["id"] for c in sorted(calls, key=lambda c: c["id"]) if c["id"] not in seen]
            self.spoken += [c["id"] for c in self.announcer.state(calls, self._now_ms())]

    def _on_event(self, name: str, data: dict) -> None:
        if name != "call" or not isinstance(data.get("call"), dict):
            return
        call = data["call"]
        with self.lock:
            self.received.append(call["id"])
            self.numbers[call["id"]] = call.get("number")
            if self.announcer.live(call, self._now_ms()):
                self.spoken.append(call["id"])


def judge(screen: TvScreen, expected: list[int]) -> dict:
    """What a citizen in front of ``screen`` noticed of the calls ``expected`` (ids in log
    order): ``missed`` (never shown), ``unspoken`` (shown, never spoken), ``spoken_twice``,
    ``out_of_order`` (spoken calls whose order differs from the log's), ``only_in_state``."""
    with screen.lock:
        shown = set(screen.received) | set(screen.from_state)
        spoken = list(screen.spoken)
        received = list(screen.received)
    want = set(expected)
    in_order = [c for c in spoken if c in want]
    rank = {c: i for i, c in enumerate(expected)}
    inversions = sum(1 for a, b in zip(in_order, in_order[1:]) if rank[a] > rank[b])
    return {
        "missed": sorted(want - shown),
        "unspoken": sorted(want - set(spoken)),
        "spoken_twice": sorted(c for c, n in Counter(spoken).items() if n > 1),
        "out_of_order": inversions,
        "received_in_order": [c for c in received if c in want] == [c for c in expected if c in set(received)],
        "only_in_state": sorted(want & set(screen.from_state) - set(received)),
    }
