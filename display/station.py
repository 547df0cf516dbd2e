"""The display agent: drives the counters' serial LED number displays and call keypads.

Run on the PC wired to the displays and keypads (``loket agent display ...``, see
:func:`main`). It connects as a display device to the agents' namespace "/agents"; the
server puts it in its device room and in its office's display room, so it hears the public
stream.

LEDs: the office stream comes through :class:`drivers.stream.client.OfficeStreamClient`
(the same cursor as the TV page): after each connect it asks ``sync`` with its last
position and gets what it missed (the full state the first time: every counter's current
number); then each ``counter`` message (and ``call``) sets that counter's LED to the ticket
number ("A012") or ``----`` when idle, strictly in position order, each message once.
All LED writes happen in one loop: a failed display is retried every ``retry_s`` and
every LED is re-sent every ``refresh_s`` (a write-only display that lost power comes back).

Keypads: each press goes straight to the server, ``sio.call("keypad", {"counter", "action"})``
(NOT the outbox: a press must never be replayed minutes later after a reconnect). The
server allows it only for the counters in the device's ``keypad_counters`` setting; NEXT
there is the console's "Selesai & panggil berikutnya". When the server is unreachable,
refuses or answers an error, the counter's LED flashes ``ERR`` (offline), ``Err``
(refused) or ``----`` (queue empty) for ``flash_s`` seconds. A press made while the previous
press of the same counter is in flight, or within ``repeat_guard_s`` after it, is dropped:
a double press never calls two citizens. Presses older than ``press_ttl_s`` are dropped.

Health: ``led_<counter>`` (kind led_display) and ``keypad_<n>`` (kind keypad) per device.
"""
from __future__ import annotations

import logging
import threading
from collections import deque

from drivers.serialdev.display import LedDisplay
from drivers.serialdev.frames import IDLE_TEXT, KeyPress
from drivers.station import DeviceHealth, StationAgent
from drivers.stream.client import OfficeStreamClient

from .keypads import KeypadBinding, KeypadInputs
from .leds import LedOutputs, counter_text

log = logging.getLogger("display.agent")

#: Keypad outcomes kept in :attr:`DisplayAgent.results` (the last ones; diagnostics, tests).
RESULT_HISTORY = 100


class DisplayAgent(LedOutputs, KeypadInputs, StationAgent):
    """The display station: LEDs by counter number, keypads with their address mapping.

    ``leds``: counter number → LedDisplay; ``keypads``: KeypadBindings. Timing options
    are described in the module docstring; the rest go to :class:`StationAgent`.

    Memory stays bounded however long it runs: ``results`` keeps the last
    :data:`RESULT_HISTORY` keypad outcomes (a count of presses), presses are dropped from
    their queue once handled, and the LED and keypad state is one entry per counter.
    """

    name = "display"

    def __init__(self, server_url: str, token: str, *, leds: dict[int, LedDisplay],
                 keypads: list[KeypadBinding] = (), flash_s: float = 2.0, repeat_guard_s: float = 0.5,
                 retry_s: float = 2.0, refresh_s: float = 30.0, press_ttl_s: float = 10.0,
                 hole_grace_s: float = 0.5, **options) -> None:
        super().__init__(server_url, token, **options)
        self.leds = dict(leds)
        self.keypads = list(keypads)
        self.flash_s, self.repeat_guard_s, self.retry_s = flash_s, repeat_guard_s, retry_s
        self.refresh_s, self.press_ttl_s, self.hole_grace_s = refresh_s, press_ttl_s, hole_grace_s
        self.results: deque[dict] = deque(maxlen=RESULT_HISTORY)  # last keypad outcomes (diagnostics, tests)
        self._state_lock = threading.Lock()
        self._desired = {n: IDLE_TEXT for n in self.leds}
        self._flashes: dict[int, list[tuple[str, float]]] = {}
        self._written: dict[int, tuple[str, float]] = {}
        self._retry_at: dict[int, float] = {}
        self._presses: deque[tuple[KeypadBinding, KeyPress]] = deque()
        self._guard_until: dict[int, float] = {}
        self._led_wake, self._work = threading.Event(), threading.Event()
        for binding in self.keypads:
            binding.keypad.on_press = lambda press, b=binding: self._on_key(b, press)
            binding.keypad.on_state = lambda _state: self.health_changed()
        self.stream = OfficeStreamClient(self.sio, self._on_state, self._on_message, grace_ms=hole_grace_s * 1000,
                                         sync_timeout_s=self.ack_timeout_s, retry_s=retry_s, own_connect=False,
                                         namespace=self.namespace)
        self.on("disconnect", self.stream.disconnected)

    # -- the office stream (in position order, one message at a time) ------------------
    def on_connected(self) -> None:
        self.stream.connected()

    def _on_state(self, state: dict) -> None:
        counters = {c.get("number"): c for c in state.get("counters") or [] if isinstance(c, dict)}
        with self._state_lock:
            for number in self.leds:
                self._desired[number] = counter_text(counters.get(number, {}))
        log.info("synced at %s: %s", self.stream.cursor.position, {n: self._desired[n] for n in self.leds})
        self._led_wake.set()

    def _on_message(self, name: str, data: dict) -> None:
        if name == "counter" and isinstance(data.get("counter"), dict):
            counter = data["counter"]
            self._set_counter(counter.get("number"), counter_text(counter))
        elif name == "call":
            call, ticket = data.get("call") or {}, data.get("ticket") or {}
            number, text = call.get("counter_number"), ticket.get("number")
            if text and self._set_counter(number, str(text)) and data.get("recall"):
                self.flash(number, str(text), 1.0)  # blink: the citizen is called again

    # -- loops ------------------------------------------------------------------------
    def started(self) -> None:
        self.spawn(self._led_loop)
        self.spawn(self._work_loop)
        self.spawn(self.stream.run, self.stopping.is_set)
        for binding in self.keypads:
            binding.keypad.start(spawn=self.sio.start_background_task)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the keypads, the loops and the connection, then close the serial ports."""
        for binding in self.keypads:
            binding.keypad.stop()
        self._led_wake.set()
        self._work.set()
        super().stop(timeout)
        for led in self.leds.values():
            led.close()

    def _work_loop(self) -> None:
        while not self.stopping.is_set():
            self._work.clear()
            while self._presses and not self.stopping.is_set():
                self._handle_press(*self._presses.popleft())
            self._work.wait(0.2)

    # -- health -----------------------------------------------------------------------
    def health(self) -> dict[str, DeviceHealth]:
        out = {}
        for number, led in sorted(self.leds.items()):
            status = led.status()
            where = getattr(getattr(led, "link", None), "url", "")
            out[f"led_{number}"] = DeviceHealth(
                "led_display", status.state.value, status.detail or f"loket {number}: {where}",
                status.last_answer_at.isoformat() if status.last_answer_at else None)
        for index, binding in enumerate(self.keypads, 1):
            status = binding.keypad.status()
            out[f"keypad_{index}"] = DeviceHealth(
                "keypad", status.state.value, status.detail or binding.describe(),
                status.last_answer_at.isoformat() if status.last_answer_at else None)
        return out
