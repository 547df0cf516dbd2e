"""Card insert → UID event latency on a real PC/SC stack (private pcscd + vpcd + virtual card).

    .venv/bin/python bench/card_latency.py [--inserts 30] [--no-server]

Each tap: the virtual card process is told to insert (t_tap, just before the command);
the CardWatcher's SCardGetStatusChange returns with the card present (``event.at``:
PC/SC's own detection); the watcher connects, reads ATR and UID and calls back (t_event).
Reported: detection = at − tap (pcscd's polling: vpcd has no card-event support, so up to
one ~400 ms poll), ours = t_event − at (connect, GET DATA, disconnect, callback), total.
Then the same through the activation agent to a Loket server in this process (SQLite,
threading mode): ack = the server's answer to the ``card`` event arrives − at.
Between taps the card is removed and a random 0-400 ms pause (fixed seed) spreads the
taps over pcscd's poll phase. TEST MACHINES ONLY (vpcd listens on all interfaces).
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import percentile  # noqa: E402
from drivers.smartcard import CardEvent, CardEventKind, CardWatcher  # noqa: E402
from tests.support.pcsc_stack import PcscStack  # noqa: E402
from tests.support.vicc import VirtualCard  # noqa: E402


class Recorder:
    """Watcher callback: remembers (event, time.time() at the callback) and wakes waiters."""

    def __init__(self) -> None:
        self.items: list[tuple[CardEvent, float]] = []
        self.cond = threading.Condition()

    def __call__(self, event: CardEvent) -> None:
        now = time.time()
        with self.cond:
            self.items.append((event, now))
            self.cond.notify_all()

    def wait(self, kind: CardEventKind, after: int, timeout: float = 10.0) -> tuple[CardEvent, float]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event, at in self.items[after:]:
                    if event.event is kind:
                        return event, at
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {kind.value} within {timeout} s")
                self.cond.wait(left)


def figures(name: str, values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"{name:<34} p50 {percentile(ms, 50):7.1f} ms   p99 {percentile(ms, 99):7.1f} ms   "
            f"min {min(ms):6.1f}   max {max(ms):7.1f}")


def taps(card: VirtualCard, recorder: Recorder, inserts: int, rng: random.Random, after_insert=None):
    """Insert/remove ``inserts`` times; yields (t_tap, inserted event, t_event)."""
    for _ in range(inserts):
        time.sleep(rng.uniform(0, 0.4))
        mark = len(recorder.items)
        t_tap = time.time()
        card.insert()
        event, t_event = recorder.wait(CardEventKind.INSERTED, mark)
        extra = after_insert(event) if after_insert else None
        yield t_tap, event, t_event, extra
        mark = len(recorder.items)
        card.remove()
        recorder.wait(CardEventKind.REMOVED, mark)


def bench_watcher(stack: PcscStack, inserts: int, rng: random.Random) -> None:
    reader = stack.reader("Loket Bench 00 00")
    recorder = Recorder()
    watcher = CardWatcher(recorder, reader=reader.name)
    watcher.start()
    detection, ours, total = [], [], []
    try:
        recorder.wait(CardEventKind.READER_ADDED, 0)
        with VirtualCard(reader.port) as card:
            for t_tap, event, t_event, _ in taps(card, recorder, inserts, rng):
                at = event.at.timestamp()
                detection.append(at - t_tap)
                ours.append(t_event - at)
                total.append(t_event - t_tap)
    finally:
        watcher.stop()
    print(f"card_latency: watcher, {inserts} inserts on {reader.name!r}")
    print("  " + figures("PC/SC detection (tap → status)", detection))
    print("  " + figures("ours (status → UID event)", ours))
    print("  " + figures("total (tap → UID event)", total))


def bench_agent(stack: PcscStack, inserts: int, rng: random.Random) -> None:
    from sqlalchemy import select

    from activation.agent import ActivationAgent
    from server import create_app
    from server.config import TestingConfig
    from server.demo import seed_demo
    from server.migrations import upgrade
    from server.models import Office
    from server.services.accounts import create_device
    from server.services.actors import SYSTEM
    from werkzeug.serving import make_server

    from bench.servers import free_port

    tmp = Path(tempfile.mkdtemp(prefix="loket-bench-card-"))
    url = f"sqlite:///{tmp / 'loket.db'}"
    upgrade(url)
    app = create_app(TestingConfig, DATABASE_URL=url, DATA_DIR=tmp, SOCKETIO_ASYNC_MODE="threading")
    db = app.extensions["loket"].db
    seed_demo(db, tmp)
    with db.session() as s:
        office_id = s.scalar(select(Office.id).where(Office.code == "DEMO"))
        _device, token = create_device(s, office_id, "activation", "Bench activation", actor=SYSTEM)
    port = free_port()
    http = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    reader = stack.reader("Loket Bench 00 01")
    recorder = Recorder()
    acked: dict[str, float] = {}
    refused: list = []  # every refusal (the agent's own ``acks`` keeps only the latest answers)
    ack_cond = threading.Condition()

    agent = ActivationAgent(f"http://127.0.0.1:{port}", token, reader=reader.name, on_card=recorder)
    original_send = agent.send

    def send(event, payload, on_ack=None):  # stamp the ack of each inserted event
        def stamped(answer):
            with ack_cond:
                acked[payload["at"]] = time.time()
                ack_cond.notify_all()
            if not (isinstance(answer, dict) and answer.get("ok")):
                refused.append(answer)
            if on_ack:
                on_ack(answer)
        original_send(event, payload, stamped)

    agent.send = send
    agent.start()
    beyond, total = [], []

    def wait_ack(event: CardEvent) -> float:
        with ack_cond:
            if not ack_cond.wait_for(lambda: event.at.isoformat() in acked, 10):
                raise TimeoutError("no ack from the server")
            return acked[event.at.isoformat()]

    try:
        while not agent.connected:
            time.sleep(0.05)
        recorder.wait(CardEventKind.READER_ADDED, 0)
        with VirtualCard(reader.port) as card:
            for t_tap, event, _t_event, t_ack in taps(card, recorder, inserts, rng, wait_ack):
                beyond.append(t_ack - event.at.timestamp())
                total.append(t_ack - t_tap)
    finally:
        agent.stop()
        http.shutdown()
        http.server_close()
        db.dispose()
    print(f"card_latency: activation agent → Loket server ack, {inserts} inserts on {reader.name!r}")
    print("  " + figures("beyond PC/SC (status → server ack)", beyond))
    print("  " + figures("total (tap → server ack)", total))
    print(f"  server refusals: {len(refused)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inserts", type=int, default=30)
    parser.add_argument("--no-server", action="store_true", help="skip the agent → server leg")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per socket.io request otherwise
    rng = random.Random(args.seed)
    with PcscStack(["Loket Bench"]) as stack:
        bench_watcher(stack, args.inserts, rng)
        if not args.no_server:
            bench_agent(stack, args.inserts, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
