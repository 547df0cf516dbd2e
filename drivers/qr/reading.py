"""Reading QR codes for a station agent: the camera loop and the scanner loop shared by the
Drive-Thru pickup agent (``pickup/agent.py``, ticket and resi QR) and the kiosk agent
(``kiosk/scanning.py``, booking QR).

- camera: :class:`~drivers.qr.sources.FrameSource` → :class:`~drivers.qr.Decoder` →
  :class:`~drivers.qr.Deduplicator`; a live camera is read at its own pace and decoded at
  most ``fps`` times a second, a video file is played at ``fps`` (0: as fast as it decodes);
- scanner: :class:`~drivers.qr.sources.ScannerReader` lines (serial, pty, FIFO, stdin),
  deduplicated the same way.

A code seen again within ``hold_s`` seconds (every frame of a camera, a scanner in
presentation mode, a citizen scanning twice) is handed on once, to the agent's
``on_code(code, source, device)``. A lost device shows offline in the agent's health and
is reopened with back-off (``retry_s`` doubling up to ``max_retry_s``); a video file that
ends stays offline ("end of video"); stdin that ends is not reopened.

:func:`add_reading_options` and :func:`devices_from_args` give both agents' command lines
the same ``--camera``/``--scanner`` options.
"""
from __future__ import annotations

import argparse
import logging
import time
from datetime import datetime
from typing import Callable

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.qr.decoders import DECODERS, DEFAULT_DECODER, Decoder, decoder_by_name
from drivers.qr.dedupe import Deduplicator
from drivers.qr.sources import EndOfStream, FrameSource, ScannerReader, SourceState
from drivers.station import DeviceHealth

log = logging.getLogger(__name__)

#: ``on_code(code, source, device)``: ``source`` is "camera" or "scanner", ``device`` the
#: device's name (its key in the health report).
OnCode = Callable[[str, str, str], None]


class CodeReading:
    """The QR camera and/or barcode scanner of one station agent.

    ``agent``: the owning :class:`~drivers.station.StationAgent` (its ``spawn``,
    ``stopping``, ``health_changed`` and ``health_interval_s`` are used). ``on_code``: called
    once for each new code (see :data:`OnCode`), from the reading loop's task.
    ``camera``: a FrameSource or None; ``scanner``: a ScannerReader or None (at least one,
    else ValueError). ``decoder``: QR decoder for the camera (default
    :data:`~drivers.qr.decoders.DEFAULT_DECODER`). ``fps``: decodes per second (0: every
    frame). ``hold_s``: dedupe window (s). ``retry_s``/``max_retry_s``: back-off (s) for
    reopening a lost device. ``camera_name``/``scanner_name``: the devices' keys in
    :meth:`health` and the ``device`` given to ``on_code``.
    """

    def __init__(self, agent, on_code: OnCode, *, camera: FrameSource | None = None,
                 scanner: ScannerReader | None = None, decoder: Decoder | None = None, fps: float = 10.0,
                 hold_s: float = 2.0, retry_s: float = 1.0, max_retry_s: float = 30.0,
                 camera_name: str = "camera", scanner_name: str = "scanner") -> None:
        if camera is None and scanner is None:
            raise ValueError("QR reading needs a camera, a scanner or both")
        self.agent, self.on_code, self.camera, self.scanner = agent, on_code, camera, scanner
        self.decoder = decoder if decoder is not None or camera is None else decoder_by_name()
        self.fps, self.retry_s, self.max_retry_s = fps, retry_s, max_retry_s
        self.names = {"camera": camera_name, "scanner": scanner_name}
        self.frames_decoded = 0
        self._dedupe = {"camera": Deduplicator(hold_s), "scanner": Deduplicator(hold_s)}
        self._decoder_error: str | None = None
        self._stamps: dict[str, datetime | None] = {}

    def start(self) -> None:
        """Start the reading loops (as the agent's background tasks)."""
        if self.camera is not None:
            self.agent.spawn(self.camera_loop)
        if self.scanner is not None:
            self.agent.spawn(self.scanner_loop)

    def health(self) -> dict[str, DeviceHealth]:
        """``{camera_name: DeviceHealth, scanner_name: DeviceHealth}`` for the devices it has
        (kinds "camera" and "scanner"; a failing decoder shows as the camera's error)."""
        out = {}
        if self.camera is not None:
            st = self.camera.status()
            state, detail = st.state.value, st.detail
            if self._decoder_error and st.state is SourceState.OK:
                state, detail = SourceState.ERROR.value, self._decoder_error
            out[self.names["camera"]] = DeviceHealth("camera", state, detail, self._stamp("camera", st.last_answer_at))
        if self.scanner is not None:
            st = self.scanner.status()
            out[self.names["scanner"]] = DeviceHealth("scanner", st.state.value, st.detail,
                                                      self._stamp("scanner", st.last_answer_at))
        return out

    def _stamp(self, key: str, at: datetime | None) -> str | None:
        """``at`` in ISO 8601, moved on at most once a health interval (a camera answers
        every frame; the report should not change, and be resent, at every frame)."""
        prev = self._stamps.get(key)
        if at is not None and (prev is None or (at - prev).total_seconds() >= self.agent.health_interval_s):
            self._stamps[key] = prev = at
        return prev.isoformat() if prev is not None else None

    def close(self) -> None:
        """Release the devices (the loops close them too when they end)."""
        for device in (self.camera, self.scanner):
            if device is not None:
                device.close()

    def handle_codes(self, codes: list[str], source: str, now: float | None = None) -> list[str]:
        """Hand on the codes of one frame or scan (``source`` "camera" or "scanner") that
        are new (not seen in the last ``hold_s`` s, ``now`` in monotonic seconds); returns them."""
        fresh = self._dedupe[source].feed(codes, now)
        for code in fresh:
            self.on_code(code, source, self.names[source])
        return fresh

    # -- loops ------------------------------------------------------------------------------
    def _opened(self, device, kind: str, where, retry: float) -> tuple[bool, float]:
        """Open ``device`` if it is closed. Returns (open now, back-off for the next try);
        when it will not open, waits ``retry`` seconds (or until the agent stops) first."""
        if device.is_open:
            return True, retry
        try:
            device.open()
        except DeviceUnavailable as exc:
            log.warning("%s %s: %s (retry in %.0f s)", kind, where, exc, retry)
            self.agent.health_changed()
            self.agent.stopping.wait(retry)
            return False, min(retry * 2, self.max_retry_s)
        log.info("%s %s open", kind, where)
        self.agent.health_changed()
        return True, self.retry_s

    def camera_loop(self) -> None:
        """Read, decode and hand on camera frames until the agent stops or a video file ends."""
        camera, retry, stopping = self.camera, self.retry_s, self.agent.stopping
        if camera is None:
            raise ValueError("QR reading has no camera")
        period = 1.0 / self.fps if self.fps > 0 else 0.0
        next_decode = 0.0
        try:
            while not stopping.is_set():
                is_open, retry = self._opened(camera, "camera", camera.source, retry)
                if not is_open:
                    continue
                started = time.monotonic()
                try:
                    frame = camera.read()
                except EndOfStream:
                    log.info("camera %s: end of video", camera.source)
                    self.agent.health_changed()
                    return
                except DeviceUnavailable as exc:
                    log.warning("camera %s lost: %s", camera.source, exc)
                    self.agent.health_changed()
                    stopping.wait(retry)
                    continue
                if camera.live and started < next_decode:
                    continue  # keep the stream drained; decode at most fps times a second
                next_decode = started + period
                self._decode(frame)
                if not camera.live and period:
                    stopping.wait(max(0.0, period - (time.monotonic() - started)))
        finally:
            camera.close()

    def _decode(self, frame) -> None:
        assert self.decoder is not None  # there is one whenever there is a camera (__init__)
        try:
            found = self.decoder.decode(frame)
        except DeviceError as exc:
            if self._decoder_error != str(exc):
                log.error("QR decoder failed: %s", exc)
                self._decoder_error = str(exc)
                self.agent.health_changed()
            return
        if self._decoder_error is not None:
            self._decoder_error = None
            self.agent.health_changed()
        self.frames_decoded += 1
        self.handle_codes([d.text for d in found], "camera")

    def scanner_loop(self) -> None:
        """Read and hand on scanner lines until the agent stops or stdin ends."""
        scanner, retry, stopping = self.scanner, self.retry_s, self.agent.stopping
        if scanner is None:
            raise ValueError("QR reading has no scanner")
        try:
            while not stopping.is_set():
                is_open, retry = self._opened(scanner, "scanner", scanner.port, retry)
                if not is_open:
                    continue
                try:
                    line = scanner.read_line(0.5)
                except DeviceUnavailable as exc:
                    log.warning("scanner %s lost: %s", scanner.port, exc)
                    self.agent.health_changed()
                    if not scanner.reopenable:
                        return  # stdin ended: it does not come back
                    stopping.wait(retry)
                    continue
                if line:
                    self.handle_codes([line], "scanner")
        finally:
            scanner.close()


# -- command line ---------------------------------------------------------------------------
def add_reading_options(parser: argparse.ArgumentParser, *, what: str, hold_s: float) -> None:
    """Add ``--camera``, ``--scanner``, ``--baudrate``, ``--decoder``, ``--fps``, ``--hold``,
    ``--width``, ``--height`` and ``--loop`` to ``parser``; ``what`` names the codes in the
    help ("ticket QR"), ``hold_s`` is the default of ``--hold`` (s)."""
    parser.add_argument("--camera", help=f"{what} camera: index (0), /dev/videoN, rtsp:// or http:// URL, "
                                         "or a video file")
    parser.add_argument("--scanner", help=f"{what} scanner: serial port (/dev/ttyACM0, a pyserial URL), a FIFO, "
                                          "or 'stdin' for a keyboard-wedge scanner")
    parser.add_argument("--baudrate", type=int, default=9600, help="scanner serial speed (default 9600)")
    parser.add_argument("--decoder", choices=sorted(DECODERS), default=DEFAULT_DECODER,
                        help=f"QR decoder for the camera (default {DEFAULT_DECODER})")
    parser.add_argument("--fps", type=float, default=10.0,
                        help="camera QR decodes per second (default 10; 0 = every frame)")
    parser.add_argument("--hold", type=float, default=hold_s,
                        help=f"seconds a code must be out of view before it is reported again (default {hold_s:g})")
    parser.add_argument("--width", type=int, help="camera frame width to ask for (e.g. 1280)")
    parser.add_argument("--height", type=int, help="camera frame height to ask for (e.g. 720)")
    parser.add_argument("--loop", action="store_true", help="play a video file in a loop (demos)")


def devices_from_args(args: argparse.Namespace) -> tuple[FrameSource | None, ScannerReader | None, Decoder | None]:
    """``(camera, scanner, decoder)`` for options added by :func:`add_reading_options`
    (None for what was not asked for; no decoder without a camera). Nothing is opened yet.
    Raises DeviceError when the decoder's library is missing."""
    camera = scanner = decoder = None
    if args.camera:
        camera = FrameSource(args.camera, width=args.width, height=args.height, loop=args.loop)
        decoder = decoder_by_name(args.decoder)
    if args.scanner:
        scanner = ScannerReader(args.scanner, baudrate=args.baudrate)
    return camera, scanner, decoder
