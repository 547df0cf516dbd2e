"""The activation station agent: the PC/SC card reader at the KTP-el activation counter.

``loket agent activation --server URL --token T [--reader NAME]``

It watches the reader with :class:`drivers.smartcard.CardWatcher` and reports each event
to the server as ``card`` ``{"event": "inserted"|"removed"|"reader_added"|
"reader_removed", "reader", "uid", "atr", "at"}`` through the StationAgent outbox (in
order, acked, kept while the server is away). The reader's state (ok, no_reader,
offline, error) goes into the station's health reports, at once when it changes.

The KTP-el chip is contactless ISO 14443; its personal data needs the SAM that only
Dukcapil issues, so Loket reads only the UID and ATR. The UID tells which card was
printed for which application, never who holds it: the officer still checks the person.
A card that could not be read (pulled mid-read, mute) is not sent as a card event: the
station's health detail says why, and the officer asks for the card to be tapped again.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections import deque
from datetime import datetime

from drivers.smartcard.reader import SERVER_EVENTS, CardEvent, CardReaderState, CardWatcher, iso
from drivers.station import DeviceHealth, StationAgent

log = logging.getLogger(__name__)

DEVICE_NAME = "card_reader"
"""The reader's key in this station's health report."""
ACK_HISTORY = 200
"""How many of the server's latest answers to card events the agent keeps (``acks``): the
agent runs for months, its memory must not grow with every tap."""


class ActivationAgent(StationAgent):
    """Station agent owning one card reader (or every reader matching ``reader``).

    ``reader``: bind to readers whose PC/SC name contains this text (None: any reader).
    ``on_card(CardEvent)``: optional local hook (tests, the demo), called for every event.
    ``watcher``: a factory called like :class:`CardWatcher` (``on_event``, ``reader=``,
    ``on_status=``, ``wait_ms=``) returning anything with its interface (``start``,
    ``stop``, ``status``, ``cards``), e.g. :class:`drivers.smartcard.simulator.SimulatedReader`;
    default: the real PC/SC CardWatcher. Other keywords go to :class:`~drivers.station.StationAgent`.
    """

    name = "activation"

    def __init__(self, server_url: str, token: str, *, reader: str | None = None, on_card=None,
                 watcher_wait_ms: int = 1000, watcher=CardWatcher, **kwargs) -> None:
        super().__init__(server_url, token, **kwargs)
        self.on_card = on_card
        self.watcher = watcher(self._on_card_event, reader=reader, on_status=lambda _s: self.health_changed(),
                               wait_ms=watcher_wait_ms)
        #: The server's latest answers to card events, oldest first (diagnostics, tests);
        #: bounded to the last ACK_HISTORY.
        self.acks: deque[dict] = deque(maxlen=ACK_HISTORY)
        self.last_error: str | None = None
        self._answered: tuple[tuple, str | None] = ((), None)

    # -- StationAgent hooks -------------------------------------------------------------
    def started(self) -> None:
        self.watcher.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.watcher.stop()
        super().stop(timeout)

    def health(self) -> dict[str, DeviceHealth]:
        status = self.watcher.status()
        detail = status.detail or ", ".join(status.readers)
        if self.last_error and status.state is CardReaderState.OK:
            detail = f"{detail}; {self.last_error}" if detail else self.last_error
        # ``last_answer_at`` moves at every PC/SC wait: refresh it only once per health
        # interval (or with another change), so an idle reader is not reported every second.
        key = (status.state, detail)
        previous_key, previous_at = self._answered
        answered = iso(status.last_answer_at)
        if key == previous_key and previous_at and answered and status.last_answer_at is not None:
            age = (status.last_answer_at - datetime.fromisoformat(previous_at)).total_seconds()
            if age < self.health_interval_s:
                answered = previous_at
        self._answered = (key, answered)
        return {DEVICE_NAME: DeviceHealth("card_reader", status.state.value, detail, answered)}

    # -- card events --------------------------------------------------------------------
    def _on_card_event(self, event: CardEvent) -> None:
        if event.event in SERVER_EVENTS:
            if event.event.value == "inserted":
                self.last_error = event.error  # a UID the reader refused, or None
            self.send("card", event.as_payload(), on_ack=self._acked)
        else:
            self.last_error = event.error
            self.health_changed()
        if self.on_card is not None:
            try:
                self.on_card(event)
            except Exception:
                log.exception("on_card hook failed")

    def _acked(self, answer) -> None:
        self.acks.append(answer if isinstance(answer, dict) else {"answer": answer})
        if not (isinstance(answer, dict) and answer.get("ok")):
            log.warning("server refused a card event: %s", answer)


def start_demo_activation_agent(app, base_url: str, token: str) -> ActivationAgent:
    """Run an activation agent on a simulated card reader inside the demo server's process.

    The reader (:class:`drivers.smartcard.simulator.SimulatedReader`) is stored as
    ``app.extensions["loket_demo_card_reader"]`` (the agent as
    ``"loket_demo_card_reader_agent"``); the demo's ``POST /demo/card-reader`` taps cards
    on it, and each event reaches the server as from a real reader. The agent keeps
    retrying until the server is up.
    """
    from drivers.smartcard.simulator import SimulatedReader

    agent = ActivationAgent(base_url, token, watcher=SimulatedReader)
    app.extensions["loket_demo_card_reader"] = agent.watcher
    app.extensions["loket_demo_card_reader_agent"] = agent
    agent.start()
    return agent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options of ``loket agent activation``."""
    parser = argparse.ArgumentParser(
        prog="loket agent activation",
        description="Activation station agent: reports card taps (UID, ATR) on the PC/SC reader.",
        epilog="Needs pcscd and a PC/SC contactless reader (drivers/smartcard/README.md). "
               "Reads only UID and ATR: KTP-el personal data needs Dukcapil's SAM.")
    parser.add_argument("--server", help="Loket server base URL, e.g. https://antrian.example.go.id")
    parser.add_argument("--token", default=os.environ.get("LOKET_DEVICE_TOKEN"),
                        help="this station's device token (default: $LOKET_DEVICE_TOKEN; keeps it out of `ps`)")
    parser.add_argument("--reader", default=None,
                        help="use only readers whose name contains this text (see --list-readers)")
    parser.add_argument("--list-readers", action="store_true", help="print the PC/SC reader names and exit")
    parser.add_argument("--health-interval", type=float, default=5.0, help="seconds between health reports")
    parser.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = parser.parse_args(argv)
    if not args.list_readers and not args.server:
        parser.error("--server is required")
    if not args.list_readers and not args.token:
        parser.error("--token (or $LOKET_DEVICE_TOKEN) is required")
    return args


def main(argv: list[str] | None = None, stop: threading.Event | None = None) -> int:
    """Run until SIGINT / SIGTERM (or until ``stop`` is set). Returns the exit status:
    0 after a clean stop, 2 when pyscard or PC/SC is missing (``--list-readers``)."""
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(args.log_level)
    try:
        if args.list_readers:
            from drivers.errors import DeviceError
            from drivers.smartcard.reader import list_readers

            try:
                names = list_readers()
            except DeviceError as exc:
                log.error("%s", exc)
                return 2
            print("\n".join(names) if names else "(no reader)")
            return 0
        agent = ActivationAgent(args.server, args.token, reader=args.reader, health_interval_s=args.health_interval)
        stop = stop or threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: stop.set())
        log.info("activation agent: server %s, reader %s", args.server, args.reader or "(any)")
        try:
            agent.start()
        except Exception as exc:  # pyscard missing: the watcher raises DeviceUnavailable with the hint
            log.error("%s", exc)
            agent.stop()
            return 2
        try:
            while not stop.wait(1.0):
                pass
        finally:
            log.info("activation agent stopping (%d card events unsent)", agent.pending())
            agent.stop()
        return 0
    finally:
        root.removeHandler(handler)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
