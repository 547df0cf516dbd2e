"""The LED side of the display agent: what each counter's LED should show (the newest
number per counter, flashes over it) and the loop that writes it to the displays.

:class:`LedOutputs` is a mixin of :class:`display.station.DisplayAgent`, whose
``__init__`` sets up the state it uses (``leds``, ``_desired``, ``_flashes``, ``_written``,
``_retry_at``, ``_state_lock``, ``_led_wake``). Messages arrive in position order, one at
a time (the stream cursor), so the newest message simply wins.
"""
from __future__ import annotations

import logging
import time

from drivers.errors import DeviceError
from drivers.serialdev.frames import IDLE_TEXT

log = logging.getLogger("display.agent")


def counter_text(counter: dict) -> str:
    """What a counter's LED shows: the number being called or served, else ``----``."""
    current = counter.get("current") if isinstance(counter, dict) else None
    if isinstance(current, dict) and current.get("number"):
        return str(current["number"])
    return IDLE_TEXT


class LedOutputs:
    """What each LED shows, and the write loop (mixin of :class:`~display.station.DisplayAgent`)."""

    # -- what each LED should show ----------------------------------------------------
    def desired(self, counter: int) -> str | None:
        """The text counter ``counter``'s LED should show, flashes aside."""
        with self._state_lock:
            return self._desired.get(counter)

    def flash(self, counter: int, text: str, seconds: float | None = None) -> None:
        """Show ``text`` on the counter's LED for ``seconds`` (after a short blank, so a
        flash of the text already shown is still seen), then its number again."""
        if counter not in self.leds:
            return
        now = time.monotonic()
        with self._state_lock:
            until = now + 0.2 + (self.flash_s if seconds is None else seconds)
            self._flashes[counter] = [("", now + 0.2), (text, until)]
        self._led_wake.set()

    def _set_counter(self, number, text: str) -> bool:
        if number not in self.leds:
            return False
        with self._state_lock:
            self._desired[number] = text
        self._led_wake.set()
        return True

    def _wanted(self, counter: int, now: float) -> str:
        with self._state_lock:
            steps = self._flashes.get(counter)
            if steps:
                for text, until in steps:
                    if now < until:
                        return text
                del self._flashes[counter]
            return self._desired.get(counter, IDLE_TEXT)

    def _led_loop(self) -> None:
        while not self.stopping.is_set():
            self._led_wake.clear()
            for number, led in self.leds.items():
                now = time.monotonic()
                want = self._wanted(number, now)
                written = self._written.get(number)
                stale = written is None or written[0] != want or now - written[1] > self.refresh_s
                if not stale or now < self._retry_at.get(number, 0.0):
                    continue
                before = led.status().state
                try:
                    led.show(want)
                    self._written[number] = (want, now)
                    self._retry_at.pop(number, None)
                except DeviceError as exc:
                    log.debug("LED %s: %s", number, exc)
                    self._written.pop(number, None)
                    self._retry_at[number] = now + self.retry_s
                except Exception:  # a driver bug must not stop the other LEDs
                    log.exception("LED %s failed", number)
                    self._retry_at[number] = now + self.retry_s
                if led.status().state != before:
                    self.health_changed()
            self._led_wake.wait(0.1)
