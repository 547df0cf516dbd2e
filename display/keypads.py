"""The keypad side of the display agent: which counter each keypad drives, and each press
sent straight to the server (with the repeat guard and the LED flash on failure).

:class:`KeypadInputs` is a mixin of :class:`display.station.DisplayAgent`, whose
``__init__`` sets up the state it uses (``_presses``, ``_guard_until``, ``_work``,
``results`` and the timing options).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from drivers.serialdev.frames import IDLE_TEXT, KeyPress
from drivers.serialdev.keypad import Keypad

log = logging.getLogger("display.agent")

#: LED text while the server cannot be reached for a press.
OFFLINE_TEXT = "ERR"
#: LED text when the server refused a press, per error code (default "Err").
ERROR_TEXT = {"queue_empty": IDLE_TEXT}
REFUSED_TEXT = "Err"


@dataclass
class KeypadBinding:
    """A keypad reader and the counter of each keypad address on its port."""

    keypad: Keypad
    counters: dict[int, int] | None = None
    """keypad address → counter number; None: keypad n drives counter n."""

    def counter_of(self, address: int) -> int | None:
        """The counter keypad ``address`` drives, None if it is not mapped."""
        return address if self.counters is None else self.counters.get(address)

    def describe(self) -> str:
        if self.counters is None:
            return f"{self.keypad.link.url} (keypad n = loket n)"
        pairs = ", ".join(f"{a}→{c}" for a, c in sorted(self.counters.items()))
        return f"{self.keypad.link.url} ({pairs})"


class KeypadInputs:
    """Keypad presses to the server (mixin of :class:`~display.station.DisplayAgent`)."""

    # -- keypads ----------------------------------------------------------------------
    def _on_key(self, binding: KeypadBinding, press: KeyPress) -> None:
        if binding.counter_of(press.address) is None:
            log.warning("keypad %s: address %s is not mapped to a counter; press ignored",
                        binding.keypad.link.url, press.address)
            return
        self._presses.append((binding, press))
        self._work.set()

    def _handle_press(self, binding: KeypadBinding, press: KeyPress) -> None:
        counter = binding.counter_of(press.address)
        action = press.key.value
        if press.at < self._guard_until.get(counter, 0.0):
            log.info("counter %s: %s dropped (pressed again too soon)", counter, action)
            return
        if time.monotonic() - press.at > self.press_ttl_s:
            log.warning("counter %s: %s dropped (%.0f s old)", counter, action, time.monotonic() - press.at)
            return
        self._guard_until[counter] = math.inf
        try:
            self._send_press(counter, action)
        finally:
            self._guard_until[counter] = time.monotonic() + self.repeat_guard_s

    def _send_press(self, counter: int, action: str) -> None:
        if not self.connected:
            log.warning("counter %s: %s not sent, server unreachable", counter, action)
            self.results.append({"counter": counter, "action": action, "ok": False, "error": "offline"})
            self.flash(counter, OFFLINE_TEXT)
            return
        try:
            answer = self.sio.call("keypad", {"counter": counter, "action": action}, namespace=self.namespace,
                                   timeout=self.ack_timeout_s)
        except Exception as exc:  # disconnected or no answer in time
            log.warning("counter %s: %s not answered: %s", counter, action, exc)
            self.results.append({"counter": counter, "action": action, "ok": False, "error": "offline"})
            self.flash(counter, OFFLINE_TEXT)
            return
        answer = answer if isinstance(answer, dict) else {"ok": False, "error": "bad_answer"}
        self.results.append({"counter": counter, "action": action, **answer})
        if answer.get("ok"):
            log.info("counter %s: %s done", counter, action)
            return
        error = str(answer.get("error") or "error")
        log.warning("counter %s: %s refused: %s %s", counter, action, error, answer.get("message", ""))
        self.flash(counter, ERROR_TEXT.get(error, REFUSED_TEXT))
