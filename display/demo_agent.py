"""``loket demo``: a display agent in the demo server's process, on simulated LED displays
and keypads (``loop://`` ports read and written by the serialdev simulators)."""
from __future__ import annotations

import logging

from drivers.serialdev.display import SerialLedDisplay, SerialLink
from drivers.serialdev.keypad import Keypad

from .keypads import KeypadBinding
from .station import DisplayAgent

log = logging.getLogger("display.agent")


def start_demo_display_agent(app, base_url: str, token: str) -> DisplayAgent:
    """Run a display agent in the demo server's process on simulated devices.

    Every counter of the device's office gets an LED display on one ``loop://`` bus
    (address = counter number), read by a :class:`LedDisplaySimulator`; one keypad
    ``loop://`` port has keypad n for counter n, written by a :class:`KeypadSimulator`.
    Stored in ``app.extensions``: ``loket_demo_display_agent``, ``loket_demo_leds`` (the
    LED simulator: ``.shown[counter]``) and ``loket_demo_keypads`` (``.press(counter, "next")``).
    """
    from drivers.serialdev.simulator import KeypadSimulator, LedDisplaySimulator

    numbers = _office_counters(app, token)
    bus, keypad_port = SerialLink("loop://"), SerialLink("loop://", timeout=0.2)
    leds = {n: SerialLedDisplay(bus, address=n) for n in numbers}
    simulator = LedDisplaySimulator(bus).start()
    keypad = KeypadBinding(Keypad(keypad_port), {n: n for n in numbers})
    agent = DisplayAgent(base_url, token, leds=leds, keypads=[keypad])
    app.extensions["loket_demo_display_agent"] = agent
    app.extensions["loket_demo_leds"] = simulator
    app.extensions["loket_demo_keypads"] = KeypadSimulator(keypad_port)
    agent.start()
    return agent


def _office_counters(app, token: str) -> list[int]:
    """The counter numbers of the token's office (1-8 if it cannot be read)."""
    from sqlalchemy import select

    from server.models import Counter
    from server.services.accounts import authenticate_device

    try:
        with app.extensions["loket"].db.session() as s:
            device = authenticate_device(s, token)
            if device is not None:
                numbers = list(s.scalars(select(Counter.number).where(Counter.office_id == device.office_id)
                                         .order_by(Counter.number)))
                if numbers:
                    return [n for n in numbers if 0 <= n <= 78]
    except Exception as exc:
        log.warning("demo display agent: counters unknown (%s)", exc)
    return list(range(1, 9))
