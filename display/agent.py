"""The display agent: drives the counters' serial LED number displays and call keypads.

Run on the PC wired to the displays and keypads (``loket agent display ...``, see
:func:`main`). It connects as a display device with ``agent: true``; the server puts it
in its device room and in its office's display room, so it hears the public stream.

LEDs: after each connect it asks ``sync`` and shows every counter's current number; then
each ``counter`` event (and ``call``) updates that counter's LED: the ticket number
("A012") or ``----`` when idle. Events carry ``seq``/``epoch``: the python-socketio client
handles each message in its own thread, so per counter an event older than the one
already applied is ignored, and a hole in the numbers that stays open for
``hole_grace_s``, a heartbeat ahead of us, a new epoch or ``resync`` bring a new ``sync``.
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

import argparse
import logging
import math
import os
import re
import signal
import threading
import time
from collections import deque
from dataclasses import dataclass

from drivers.errors import DeviceError
from drivers.serialdev.display import LedDisplay, SerialLedDisplay, SerialLink
from drivers.serialdev.frames import FORMATS, IDLE_TEXT, KeyPress
from drivers.serialdev.keypad import Keypad
from drivers.station import DeviceHealth, StationAgent

log = logging.getLogger(__name__)

#: LED text while the server cannot be reached for a press.
OFFLINE_TEXT = "ERR"
#: LED text when the server refused a press, per error code (default "Err").
ERROR_TEXT = {"queue_empty": IDLE_TEXT}
REFUSED_TEXT = "Err"


def counter_text(counter: dict) -> str:
    """What a counter's LED shows: the number being called or served, else ``----``."""
    current = counter.get("current") if isinstance(counter, dict) else None
    if isinstance(current, dict) and current.get("number"):
        return str(current["number"])
    return IDLE_TEXT


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


class _StreamOrder:
    """Tracks the public stream's numbering to notice lost messages (module docstring)."""

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.contiguous = 0
        self._seen: set[int] = set()
        self._hole_since: float | None = None

    def reset(self, seq: int, epoch: str | None) -> None:
        """After a sync answered (seq, epoch): everything up to ``seq`` is known."""
        if epoch != self.epoch:
            self._seen.clear()
        self.epoch, self.contiguous = epoch, seq
        self._seen = {s for s in self._seen if s > seq}
        self._advance()

    def saw(self, seq, epoch) -> bool:
        """Record an event's number; True when a sync is needed now (another epoch)."""
        if not isinstance(seq, int):
            return False
        if epoch != self.epoch:
            return True
        if seq > self.contiguous:
            self._seen.add(seq)
            self._advance()
        return False

    def heard(self, seq, epoch) -> bool:
        """Record a heartbeat's current number; True when a sync is needed now."""
        if not isinstance(seq, int):
            return False
        if epoch != self.epoch:
            return True
        if seq > self.contiguous and self._hole_since is None:
            self._hole_since = time.monotonic()
        return False

    def overdue(self, grace_s: float) -> bool:
        """True when a missing number has not arrived for ``grace_s`` seconds."""
        return self._hole_since is not None and time.monotonic() - self._hole_since > grace_s

    def _advance(self) -> None:
        while self.contiguous + 1 in self._seen:
            self.contiguous += 1
            self._seen.discard(self.contiguous)
        if self._seen:
            self._hole_since = self._hole_since or time.monotonic()
        else:
            self._hole_since = None


class DisplayAgent(StationAgent):
    """The display station: LEDs by counter number, keypads with their address mapping.

    ``leds``: counter number → LedDisplay; ``keypads``: KeypadBindings. Timing options
    are described in the module docstring; the rest go to :class:`StationAgent`.
    """

    name = "display"

    def __init__(self, server_url: str, token: str, *, leds: dict[int, LedDisplay],
                 keypads: list[KeypadBinding] = (), flash_s: float = 2.0, repeat_guard_s: float = 0.5,
                 retry_s: float = 2.0, refresh_s: float = 30.0, press_ttl_s: float = 10.0,
                 hole_grace_s: float = 1.0, **options) -> None:
        super().__init__(server_url, token, **options)
        self.leds = dict(leds)
        self.keypads = list(keypads)
        self.flash_s, self.repeat_guard_s, self.retry_s = flash_s, repeat_guard_s, retry_s
        self.refresh_s, self.press_ttl_s, self.hole_grace_s = refresh_s, press_ttl_s, hole_grace_s
        self.results: deque[dict] = deque(maxlen=100)  # last keypad outcomes (diagnostics, tests)
        self._state_lock = threading.Lock()
        self._desired = {n: IDLE_TEXT for n in self.leds}
        self._applied: dict[int, tuple[str | None, int]] = {}  # counter → (epoch, seq) shown
        self._flashes: dict[int, list[tuple[str, float]]] = {}
        self._written: dict[int, tuple[str, float]] = {}
        self._retry_at: dict[int, float] = {}
        self._order = _StreamOrder()
        self._sync_wanted = True
        self._sync_retry_at = 0.0
        self._presses: deque[tuple[KeypadBinding, KeyPress]] = deque()
        self._guard_until: dict[int, float] = {}
        self._led_wake, self._work = threading.Event(), threading.Event()
        for binding in self.keypads:
            binding.keypad.on_press = lambda press, b=binding: self._on_key(b, press)
            binding.keypad.on_state = lambda _state: self.health_changed()
        for event, handler in (("counter", self._on_counter), ("call", self._on_call), ("ticket", self._on_ticket),
                               ("heartbeat", self._on_heartbeat), ("resync", self._on_resync)):
            self.sio.on(event, handler)

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

    def _set_counter(self, number, text: str, seq=None, epoch=None) -> bool:
        if number not in self.leds:
            return False
        with self._state_lock:
            if self._order.epoch is not None and epoch is not None and epoch != self._order.epoch:
                return False  # numbering restarted: the coming sync decides
            if isinstance(seq, int):
                last = self._applied.get(number)
                if last is not None and last[0] == epoch and seq <= last[1]:
                    return False  # an older message handled late by its thread
                self._applied[number] = (epoch, seq)
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

    # -- socket events (each in its own thread) ---------------------------------------
    def on_connected(self) -> None:
        self._sync_wanted, self._sync_retry_at = True, 0.0
        self._work.set()

    def _observe(self, data: dict) -> None:
        with self._state_lock:
            need = self._order.saw(data.get("seq"), data.get("epoch"))
        if need:
            self._want_sync()

    def _on_counter(self, data=None) -> None:
        if not isinstance(data, dict):
            return
        self._observe(data)
        counter = data.get("counter")
        if isinstance(counter, dict):
            self._set_counter(counter.get("number"), counter_text(counter), data.get("seq"), data.get("epoch"))

    def _on_call(self, data=None) -> None:
        if not isinstance(data, dict):
            return
        self._observe(data)
        call, ticket = data.get("call") or {}, data.get("ticket") or {}
        number, text = call.get("counter_number"), ticket.get("number")
        if text and self._set_counter(number, str(text), data.get("seq"), data.get("epoch")) and data.get("recall"):
            self.flash(number, str(text), 1.0)  # blink: the citizen is called again

    def _on_ticket(self, data=None) -> None:
        if isinstance(data, dict):
            self._observe(data)

    def _on_heartbeat(self, data=None) -> None:
        if isinstance(data, dict):
            with self._state_lock:
                need = self._order.heard(data.get("seq"), data.get("epoch"))
            if need:
                self._want_sync()

    def _on_resync(self, _data=None) -> None:
        self._want_sync()

    def _want_sync(self) -> None:
        self._sync_wanted = True
        self._work.set()

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
            answer = self.sio.call("keypad", {"counter": counter, "action": action}, timeout=self.ack_timeout_s)
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

    # -- loops ------------------------------------------------------------------------
    def started(self) -> None:
        self.spawn(self._led_loop)
        self.spawn(self._work_loop)
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
            if self.connected and time.monotonic() >= self._sync_retry_at:
                with self._state_lock:
                    overdue = self._order.overdue(self.hole_grace_s)
                if self._sync_wanted or overdue:
                    self._sync()
            while self._presses and not self.stopping.is_set():
                self._handle_press(*self._presses.popleft())
            self._work.wait(0.2)

    def _sync(self) -> None:
        self._sync_wanted = False
        try:
            answer = self.sio.call("sync", {}, timeout=self.ack_timeout_s)
        except Exception as exc:
            answer = {"error": str(exc)}
        state = answer.get("state") if isinstance(answer, dict) else None
        seq = answer.get("seq") if isinstance(answer, dict) else None
        if not isinstance(state, dict) or not isinstance(seq, int) or seq < 0:
            log.info("sync failed (%r); retrying", (answer or {}).get("error") if isinstance(answer, dict) else answer)
            self._sync_wanted = True
            self._sync_retry_at = time.monotonic() + self.retry_s
            return
        counters = {c.get("number"): c for c in state.get("counters") or [] if isinstance(c, dict)}
        epoch = answer.get("epoch")
        with self._state_lock:
            self._order.reset(seq, epoch)
            for number in self.leds:
                last = self._applied.get(number)
                if last is not None and last[0] == epoch and last[1] > seq:
                    continue  # an event newer than the snapshot's number is already shown
                self._desired[number] = counter_text(counters.get(number, {}))
                self._applied[number] = (epoch, seq)
        log.info("synced at %s: %s", seq, {n: self._desired[n] for n in self.leds})
        self._led_wake.set()

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


# -- command line -------------------------------------------------------------------------
USAGE_NOTES = """\
device options:
  --led COUNTER=PORT[,address=N][,format=NAME][,baudrate=N][,width=N][,ack]
      the LED display of counter COUNTER on serial PORT (a path such as /dev/ttyUSB0, or a
      pyserial URL such as socket://10.0.0.5:4001 or loop://). Displays sharing one port
      (an RS-485 bus) are told apart by address (default: the counter number).
  --keypad PORT[:ADDR=COUNTER[,ADDR=COUNTER...]]
      the call keypads on PORT; keypad ADDR drives counter COUNTER (default: address n is
      counter n). A keypad needs a port of its own (not shared with LED displays).

example:
  loket agent display --server https://loket.example --token T \\
      --led 1=/dev/ttyUSB0 --led 2=/dev/ttyUSB1 --keypad /dev/ttyUSB5:1=1,2=2 \\
      --format loket-ascii --baudrate 9600
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``loket agent display`` options."""
    parser = argparse.ArgumentParser(
        prog="loket agent display", description="Drive counter LED displays and call keypads for a Loket server.",
        epilog=USAGE_NOTES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, help="Loket server base URL")
    parser.add_argument("--token", default=os.environ.get("LOKET_DEVICE_TOKEN"),
                        help="this display station's device token (default: $LOKET_DEVICE_TOKEN)")
    parser.add_argument("--led", action="append", default=[], metavar="COUNTER=PORT[,opt...]", help="an LED display")
    parser.add_argument("--keypad", action="append", default=[], metavar="PORT[:ADDR=COUNTER,...]", help="call keypads")
    parser.add_argument("--format", default="loket-ascii", choices=sorted(FORMATS), help="default LED frame format")
    parser.add_argument("--baudrate", type=int, default=9600, help="default baud rate of every port")
    parser.add_argument("--width", type=int, default=None, help="default LED width in characters (format default)")
    parser.add_argument("--ack", action="store_true", help="LED displays answer ACK/NAK (loket-ascii)")
    parser.add_argument("--health-interval", type=float, default=5.0, help="seconds between health reports")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING...")
    return parser


def parse_led(spec: str) -> tuple[int, str, dict]:
    """``COUNTER=PORT[,key=value...]`` → (counter, port, options); ValueError when malformed."""
    counter, sep, rest = spec.partition("=")
    if not sep or not counter.strip().isdigit() or not rest:
        raise ValueError(f"--led {spec!r}: expected COUNTER=PORT[,address=N][,format=NAME]"
                         "[,baudrate=N][,width=N][,ack]")
    port, *opts = rest.split(",")
    options: dict = {}
    for opt in opts:
        key, sep, value = opt.partition("=")
        key = key.strip()
        if key == "ack" and not sep:
            options["ack"] = True
        elif key in ("address", "baudrate", "width") and value.strip().isdigit():
            options[key] = int(value)
        elif key == "format" and value in FORMATS:
            options[key] = value
        else:
            raise ValueError(f"--led {spec!r}: bad option {opt!r}")
    return int(counter), port.strip(), options


_MAPPING = re.compile(r"^\s*\d+\s*=\s*\d+\s*(,\s*\d+\s*=\s*\d+\s*)*$")


def parse_keypad(spec: str) -> tuple[str, dict[int, int] | None]:
    """``PORT[:ADDR=COUNTER,...]`` → (port, {address: counter} or None for "address n = counter n")."""
    port, sep, tail = spec.rpartition(":")
    if sep and port and _MAPPING.match(tail):
        pairs = (p.split("=") for p in tail.split(","))
        return port, {int(a): int(c) for a, c in pairs}
    if not spec:
        raise ValueError("--keypad needs a port")
    return spec, None


def build_agent(args: argparse.Namespace) -> DisplayAgent:
    """The agent the parsed options describe; ValueError on inconsistent options."""
    links: dict[str, SerialLink] = {}
    leds: dict[int, LedDisplay] = {}
    for spec in args.led:
        counter, port, options = parse_led(spec)
        if counter in leds:
            raise ValueError(f"--led: counter {counter} given twice")
        baudrate = options.pop("baudrate", args.baudrate)
        link = links.setdefault(port, SerialLink(port, baudrate=baudrate))
        if link.baudrate != baudrate:
            raise ValueError(f"--led: port {port} given with two baud rates")
        width = options.pop("width", args.width)
        leds[counter] = SerialLedDisplay(link, address=options.pop("address", counter),
                                         frame_format=options.pop("format", args.format), width=width,
                                         ack=options.pop("ack", args.ack))
    keypads = []
    for spec in args.keypad:
        port, mapping = parse_keypad(spec)
        if port in links:
            raise ValueError(f"--keypad: port {port} is already used by an LED display")
        keypads.append(KeypadBinding(Keypad(port, baudrate=args.baudrate), mapping))
        links[port] = keypads[-1].keypad.link
    if not leds and not keypads:
        raise ValueError("nothing to drive: give at least one --led or --keypad")
    return DisplayAgent(args.server, args.token, leds=leds, keypads=keypads, health_interval_s=args.health_interval)


def main(argv: list[str] | None = None) -> int:
    """``loket agent display ...``: run until SIGINT/SIGTERM; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.token:
        parser.error("--token (or LOKET_DEVICE_TOKEN) is required")
    try:
        agent = build_agent(args)
    except ValueError as exc:
        parser.error(str(exc))
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    agent.start()
    log.info("display agent: %d LED display(s), %d keypad port(s), server %s",
             len(agent.leds), len(agent.keypads), args.server)
    try:
        while not done.wait(1.0):
            pass
    finally:
        agent.stop()
    return 0


# -- loket demo ---------------------------------------------------------------------------
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


if __name__ == "__main__":
    raise SystemExit(main())
