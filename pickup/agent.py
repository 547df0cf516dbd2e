"""The Drive-Thru pickup agent: reads ticket QR codes from a camera and/or a barcode scanner
and reports each code once to the server.

Protocol (on top of :class:`drivers.station.StationAgent`): each new code is sent as
``scan`` ``{"code": text, "source": "camera"|"scanner", "device": name, "at": ISO 8601}``
through the reliable outbox (acked ``{"ok": true}``; kept and resent while the server is
away); ``health`` reports the camera and the scanner.

The camera and scanner loops are :class:`drivers.qr.reading.CodeReading` (shared with the
kiosk agent's booking scanner): a live camera is decoded at most ``fps`` times a second, a
video file is played at ``fps``; a code still in view (or re-read by a scanner in
presentation mode) is reported once; a lost device shows as offline and is reopened with
back-off (``retry_s`` doubling up to ``max_retry_s``); a video file that ends stays
offline ("end of video").
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections import deque

from drivers.errors import DeviceError
from drivers.qr.decoders import Decoder
from drivers.qr.reading import CodeReading, add_reading_options, devices_from_args
from drivers.qr.sources import FrameSource, ScannerReader
from drivers.station import DeviceHealth, StationAgent, iso_now

log = logging.getLogger(__name__)

#: Scans kept in each of :attr:`PickupAgent.reported`, ``acked`` and ``rejected`` (the last
#: ones, a count): diagnostics and tests only; the server keeps the record of every scan.
SCAN_HISTORY = 1000


class PickupAgent(StationAgent):
    """Station agent of a Drive-Thru pickup lane.

    ``camera``: a FrameSource (or None); ``scanner``: a ScannerReader (or None); at least
    one. ``decoder``: the QR decoder (default: :data:`~drivers.qr.DEFAULT_DECODER`).
    ``fps``: decodes per second (0 = every frame, as fast as possible). ``hold_s``: seconds
    a code must be out of view before it is reported again. ``retry_s``/``max_retry_s``:
    back-off for reopening a lost device. ``camera_name``/``scanner_name``: device names in
    health reports and ``scan`` events. The reading loops are
    :class:`drivers.qr.reading.CodeReading` (``self.reading``). ``history``: scans kept in
    each of ``reported`` (payloads queued for the server), ``acked`` (those the server
    accepted) and ``rejected`` ((payload, answer) of those it did not): the last
    ``history`` (a count of scans, default :data:`SCAN_HISTORY`), older ones forgotten, so
    memory stays bounded however long the lane runs. Other keyword arguments go to
    StationAgent.
    """

    name = "pickup"

    def __init__(self, server_url: str, token: str, *, camera: FrameSource | None = None,
                 scanner: ScannerReader | None = None, decoder: Decoder | None = None, fps: float = 10.0,
                 hold_s: float = 2.0, retry_s: float = 1.0, max_retry_s: float = 30.0,
                 camera_name: str = "camera", scanner_name: str = "scanner", history: int = SCAN_HISTORY,
                 **kwargs) -> None:
        if camera is None and scanner is None:
            raise ValueError("a pickup agent needs a camera, a scanner or both")
        super().__init__(server_url, token, **kwargs)
        self.reading = CodeReading(self, self._report, camera=camera, scanner=scanner, decoder=decoder, fps=fps,
                                   hold_s=hold_s, retry_s=retry_s, max_retry_s=max_retry_s,
                                   camera_name=camera_name, scanner_name=scanner_name)
        self.reported: deque[dict] = deque(maxlen=history)  # the last scans queued for the server, in order
        self.acked: deque[dict] = deque(maxlen=history)  # the last scans the server acknowledged with ok
        self.rejected: deque[tuple[dict, object]] = deque(maxlen=history)  # the last scans answered without ok
        self._report_lock = threading.Lock()

    @property
    def camera(self) -> FrameSource | None:
        return self.reading.camera

    @property
    def scanner(self) -> ScannerReader | None:
        return self.reading.scanner

    @property
    def decoder(self) -> Decoder | None:
        return self.reading.decoder

    @property
    def frames_decoded(self) -> int:
        """Camera frames decoded so far."""
        return self.reading.frames_decoded

    # -- StationAgent hooks ---------------------------------------------------------------
    def started(self) -> None:
        self.reading.start()

    def health(self) -> dict[str, DeviceHealth]:
        return self.reading.health()

    # -- reporting --------------------------------------------------------------------------
    def _report(self, code: str, source: str, device: str) -> None:
        payload = {"code": code, "source": source, "device": device, "at": iso_now()}
        log.info("%s %s read %r", source, device, code)
        with self._report_lock:
            self.reported.append(payload)
        self.send("scan", payload, on_ack=lambda answer, p=payload: self._on_ack(p, answer))

    def _on_ack(self, payload: dict, answer: object) -> None:
        with self._report_lock:
            if isinstance(answer, dict) and answer.get("ok"):
                self.acked.append(payload)
            else:
                log.warning("server did not accept scan %r: %r", payload["code"], answer)
                self.rejected.append((payload, answer))

    def handle_codes(self, codes: list[str], source: str, now: float | None = None) -> list[str]:
        """Report the codes of one frame or scan that are new (not still in view)."""
        return self.reading.handle_codes(codes, source, now)

    def _camera_loop(self) -> None:
        """The camera loop in the calling thread (runs until the agent stops or a video ends)."""
        self.reading.camera_loop()


def start_demo_agent(app, base_url: str, token: str, *, period_s: float = 60.0) -> PickupAgent:
    """Run a pickup agent on a simulated camera inside the demo server's process.

    The camera shows an empty lane, and once every ``period_s`` seconds a driver holding up
    a ticket QR for ``period_s / 12`` seconds: one ``scan`` per period. The agent is stored
    as ``app.extensions["loket_demo_pickup_agent"]``; it keeps retrying until the server is up.
    """
    from drivers.qr.simulator import SimulatedCamera, code_in_view

    frames = code_in_view(f"{base_url.rstrip('/')}/t/DEMO-DRIVE-THRU", 1, before=11, after=0)
    agent = PickupAgent(base_url, token, camera=SimulatedCamera(frames, loop=True), fps=12 / period_s,
                        hold_s=min(2.0, period_s / 3))
    app.extensions["loket_demo_pickup_agent"] = agent
    agent.start()
    return agent


def main(argv: list[str] | None = None) -> int:
    """``loket agent pickup --server URL --token T [--camera ...] [--scanner ...]``."""
    parser = argparse.ArgumentParser(
        prog="loket agent pickup",
        description="Drive-Thru pickup station: reads ticket QR codes from a camera and/or a barcode "
                    "scanner and reports each code once to the Loket server.")
    parser.add_argument("--server", required=True, help="Loket server base URL, e.g. http://loket.local:8080")
    parser.add_argument("--token", default=os.environ.get("LOKET_DEVICE_TOKEN"),
                        help="device token of this pickup station (default: $LOKET_DEVICE_TOKEN)")
    add_reading_options(parser, what="ticket QR", hold_s=2.0)
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or LOKET_DEVICE_TOKEN) is required")
    if not args.camera and not args.scanner:
        parser.error("give --camera, --scanner or both")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    try:
        camera, scanner, decoder = devices_from_args(args)
    except DeviceError as exc:
        parser.exit(2, f"loket agent pickup: {exc}\n")
    agent = PickupAgent(args.server, args.token, camera=camera, scanner=scanner, decoder=decoder,
                        fps=args.fps, hold_s=args.hold)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    agent.start()
    log.info("pickup agent running (camera=%s, scanner=%s, decoder=%s)", args.camera, args.scanner,
             decoder.name if decoder else "-")
    while not stop.wait(1.0):
        pass
    agent.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
