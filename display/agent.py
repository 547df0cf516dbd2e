"""The display agent: drives the counters' serial LED number displays and call keypads.

Run on the PC wired to the displays and keypads: ``loket agent display ...`` (this
module's :func:`main`, the command line). The agent itself is
:class:`display.station.DisplayAgent` (how it keeps the LEDs right and sends the presses),
with its LED side in :mod:`display.leds` and its keypads in :mod:`display.keypads` (the
office stream through :mod:`drivers.stream`); ``loket demo`` runs one on simulated
devices (:mod:`display.demo_agent`). Their names are importable from here as well.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import threading

from drivers.serialdev.display import LedDisplay, SerialLedDisplay, SerialLink
from drivers.serialdev.frames import FORMATS
from drivers.serialdev.keypad import Keypad

from .demo_agent import start_demo_display_agent
from .keypads import ERROR_TEXT, OFFLINE_TEXT, REFUSED_TEXT, KeypadBinding
from .leds import counter_text
from .station import DisplayAgent

__all__ = [
    "DisplayAgent", "ERROR_TEXT", "KeypadBinding", "OFFLINE_TEXT", "REFUSED_TEXT", "USAGE_NOTES", "build_agent",
    "build_parser", "counter_text", "main", "parse_keypad", "parse_led", "start_demo_display_agent",
]

log = logging.getLogger(__name__)


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


if __name__ == "__main__":
    raise SystemExit(main())
