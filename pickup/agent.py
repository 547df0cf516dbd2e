"""The Drive-Thru pickup agent: reads ticket QR codes from a camera and/or a barcode scanner
and reports each code once to the server.

Protocol (on top of :class:`drivers.station.StationAgent`): each new code is sent as
``scan`` ``{"code": text, "source": "camera"|"scanner", "device": name, "at": ISO 8601}``
through the reliable outbox (acked ``{"ok": true}``; kept and resent while the server is
away); ``health`` reports the camera and the scanner.

Camera loop: :class:`~drivers.qr.sources.FrameSource` → :class:`~drivers.qr.Decoder` →
:class:`~drivers.qr.Deduplicator`. A live camera is read at its own pace and decoded at
most ``fps`` times a second; a video file is played at ``fps`` (0: as fast as it decodes).
A lost camera shows as offline and is reopened with back-off (``retry_s`` doubling up to
``max_retry_s``); a video file that ends stays offline ("end of video"). Scanner loop:
:class:`~drivers.qr.sources.ScannerReader` lines, deduplicated the same way (a scanner in
presentation mode reads a held ticket over and over).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from datetime import datetime

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.qr.decoders import DECODERS, DEFAULT_DECODER, Decoder, decoder_by_name
from drivers.qr.dedupe import Deduplicator
from drivers.qr.sources import EndOfStream, FrameSource, ScannerReader, SourceState
from drivers.station import DeviceHealth, StationAgent, iso_now

log = logging.getLogger(__name__)


class PickupAgent(StationAgent):
    """Station agent of a Drive-Thru pickup lane.

    ``camera``: a FrameSource (or None); ``scanner``: a ScannerReader (or None); at least
    one. ``decoder``: the QR decoder (default: :data:`~drivers.qr.DEFAULT_DECODER`).
    ``fps``: decodes per second (0 = every frame, as fast as possible). ``hold_s``: seconds
    a code must be out of view before it is reported again. ``retry_s``/``max_retry_s``:
    back-off for reopening a lost device. ``camera_name``/``scanner_name``: device names in
    health reports and ``scan`` events. Other keyword arguments go to StationAgent.
    """

    name = "pickup"

    def __init__(self, server_url: str, token: str, *, camera: FrameSource | None = None,
                 scanner: ScannerReader | None = None, decoder: Decoder | None = None, fps: float = 10.0,
                 hold_s: float = 2.0, retry_s: float = 1.0, max_retry_s: float = 30.0,
                 camera_name: str = "camera", scanner_name: str = "scanner", **kwargs) -> None:
        if camera is None and scanner is None:
            raise ValueError("a pickup agent needs a camera, a scanner or both")
        super().__init__(server_url, token, **kwargs)
        self.camera, self.scanner = camera, scanner
        self.decoder = decoder if decoder is not None or camera is None else decoder_by_name()
        self.fps, self.retry_s, self.max_retry_s = fps, retry_s, max_retry_s
        self.camera_name, self.scanner_name = camera_name, scanner_name
        self.frames_decoded = 0
        self.reported: list[dict] = []  # every scan queued for the server, in order
        self.acked: list[dict] = []  # scans the server acknowledged with ok
        self.rejected: list[tuple[dict, object]] = []  # scans answered without ok
        self._dedupe = {"camera": Deduplicator(hold_s), "scanner": Deduplicator(hold_s)}
        self._decoder_error: str | None = None
        self._stamps: dict[str, datetime | None] = {}
        self._report_lock = threading.Lock()

    # -- StationAgent hooks ---------------------------------------------------------------
    def started(self) -> None:
        if self.camera is not None:
            self.spawn(self._camera_loop)
        if self.scanner is not None:
            self.spawn(self._scanner_loop)

    def health(self) -> dict[str, DeviceHealth]:
        out = {}
        if self.camera is not None:
            st = self.camera.status()
            state, detail = st.state.value, st.detail
            if self._decoder_error and st.state is SourceState.OK:
                state, detail = SourceState.ERROR.value, self._decoder_error
            out[self.camera_name] = DeviceHealth("camera", state, detail, self._stamp("camera", st.last_answer_at))
        if self.scanner is not None:
            st = self.scanner.status()
            out[self.scanner_name] = DeviceHealth("scanner", st.state.value, st.detail,
                                                  self._stamp("scanner", st.last_answer_at))
        return out

    def _stamp(self, key: str, at: datetime | None) -> str | None:
        """``at`` in ISO 8601, moved on at most once a health interval (a camera answers
        every frame; the report should not change, and be resent, at every frame)."""
        prev = self._stamps.get(key)
        if at is not None and (prev is None or (at - prev).total_seconds() >= self.health_interval_s):
            self._stamps[key] = prev = at
        return prev.isoformat() if prev is not None else None

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
        fresh = self._dedupe[source].feed(codes, now)
        device = self.camera_name if source == "camera" else self.scanner_name
        for code in fresh:
            self._report(code, source, device)
        return fresh

    # -- camera -----------------------------------------------------------------------------
    def _camera_loop(self) -> None:
        camera, retry = self.camera, self.retry_s
        period = 1.0 / self.fps if self.fps > 0 else 0.0
        next_decode = 0.0
        try:
            while not self.stopping.is_set():
                if not camera.is_open:
                    try:
                        camera.open()
                    except DeviceUnavailable as exc:
                        log.warning("camera %s: %s (retry in %.0f s)", camera.source, exc, retry)
                        self.health_changed()
                        self.stopping.wait(retry)
                        retry = min(retry * 2, self.max_retry_s)
                        continue
                    log.info("camera %s open", camera.source)
                    retry = self.retry_s
                    self.health_changed()
                started = time.monotonic()
                try:
                    frame = camera.read()
                except EndOfStream:
                    log.info("camera %s: end of video", camera.source)
                    self.health_changed()
                    return
                except DeviceUnavailable as exc:
                    log.warning("camera %s lost: %s", camera.source, exc)
                    self.health_changed()
                    self.stopping.wait(retry)
                    continue
                if camera.live and started < next_decode:
                    continue  # keep the stream drained; decode at most fps times a second
                next_decode = started + period
                self._decode(frame)
                if not camera.live and period:
                    self.stopping.wait(max(0.0, period - (time.monotonic() - started)))
        finally:
            camera.close()

    def _decode(self, frame) -> None:
        try:
            found = self.decoder.decode(frame)
        except DeviceError as exc:
            if self._decoder_error != str(exc):
                log.error("QR decoder failed: %s", exc)
                self._decoder_error = str(exc)
                self.health_changed()
            return
        if self._decoder_error is not None:
            self._decoder_error = None
            self.health_changed()
        self.frames_decoded += 1
        self.handle_codes([d.text for d in found], "camera")

    # -- scanner ----------------------------------------------------------------------------
    def _scanner_loop(self) -> None:
        scanner, retry = self.scanner, self.retry_s
        try:
            while not self.stopping.is_set():
                if not scanner.is_open:
                    try:
                        scanner.open()
                    except DeviceUnavailable as exc:
                        log.warning("scanner %s: %s (retry in %.0f s)", scanner.port, exc, retry)
                        self.health_changed()
                        self.stopping.wait(retry)
                        retry = min(retry * 2, self.max_retry_s)
                        continue
                    retry = self.retry_s
                    self.health_changed()
                try:
                    line = scanner.read_line(0.5)
                except DeviceUnavailable as exc:
                    log.warning("scanner %s lost: %s", scanner.port, exc)
                    self.health_changed()
                    if not scanner.reopenable:
                        return  # stdin ended: it does not come back
                    self.stopping.wait(retry)
                    continue
                if line:
                    self.handle_codes([line], "scanner")
        finally:
            scanner.close()


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
    parser.add_argument("--camera", help="camera index (0), /dev/videoN, rtsp:// or http:// URL, or a video file")
    parser.add_argument("--scanner", help="serial port of the scanner (/dev/ttyACM0, a pyserial URL) or 'stdin' "
                                          "for a keyboard-wedge scanner")
    parser.add_argument("--decoder", choices=sorted(DECODERS), default=DEFAULT_DECODER,
                        help=f"QR decoder (default {DEFAULT_DECODER})")
    parser.add_argument("--fps", type=float, default=10.0, help="QR decodes per second (default 10; 0 = every frame)")
    parser.add_argument("--hold", type=float, default=2.0,
                        help="seconds a code must be out of view before it is reported again (default 2)")
    parser.add_argument("--width", type=int, help="camera frame width to ask for (e.g. 1280)")
    parser.add_argument("--height", type=int, help="camera frame height to ask for (e.g. 720)")
    parser.add_argument("--loop", action="store_true", help="play a video file in a loop (demos)")
    parser.add_argument("--baudrate", type=int, default=9600, help="scanner serial speed (default 9600)")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or LOKET_DEVICE_TOKEN) is required")
    if not args.camera and not args.scanner:
        parser.error("give --camera, --scanner or both")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    camera = scanner = decoder = None
    try:
        if args.camera:
            camera = FrameSource(args.camera, width=args.width, height=args.height, loop=args.loop)
            decoder = decoder_by_name(args.decoder)
        if args.scanner:
            scanner = ScannerReader(args.scanner, baudrate=args.baudrate)
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
