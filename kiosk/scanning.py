"""The kiosk's own QR camera and/or barcode scanner, feeding booking check-in (issue 6).

A :class:`KioskScanning` belongs to one :class:`kiosk.agent.KioskAgent` and runs the
pickup agent's reading pattern (``pickup/agent.py``) on the drivers of ``drivers/qr``:

- camera: :class:`~drivers.qr.sources.FrameSource` → :class:`~drivers.qr.Decoder` →
  :class:`~drivers.qr.Deduplicator`; a live camera is read at its own pace and decoded at
  most ``fps`` times a second, a video file is played at ``fps`` (0: as fast as it decodes);
- scanner: :class:`~drivers.qr.sources.ScannerReader` lines (serial, pty, FIFO, stdin),
  deduplicated the same way.

A code seen again within ``hold_s`` seconds (a scanner in presentation mode, a citizen
scanning twice, every frame of a camera) is reported once. Each new code goes to the
server as ``scan`` ``{"code": text, "source": "camera"|"scanner", "device": name, "at":
ISO 8601}`` through the agent's reliable outbox (acked, resent after a reconnect); the
server answers ``{"ok": true, "scan": {...}}`` with what it made of the code
(``server.services.booking.kiosk_scans``) and shows it on this kiosk's page only. A lost
device shows offline in the agent's health and is reopened with back-off (``retry_s``
doubling up to ``max_retry_s``); a video file that ends stays offline ("end of video").
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.qr.decoders import Decoder, decoder_by_name
from drivers.qr.dedupe import Deduplicator
from drivers.qr.sources import EndOfStream, FrameSource, ScannerReader, SourceState
from drivers.station import DeviceHealth, iso_now

log = logging.getLogger(__name__)

#: Seconds a code must be out of view (or unscanned) before it is reported again.
DEFAULT_HOLD_S = 3.0


class KioskScanning:
    """The camera and/or scanner of one kiosk agent.

    ``agent``: the owning StationAgent (its ``spawn``, ``stopping``, ``send`` and
    ``health_changed`` are used). ``camera``: a FrameSource or None; ``scanner``: a
    ScannerReader or None (at least one). ``decoder``: QR decoder for the camera (default
    zxing-cpp). ``fps``: decodes per second (0: every frame). ``hold_s``: dedupe window (s).
    ``retry_s``/``max_retry_s``: back-off (s) for reopening a lost device.
    """

    def __init__(self, agent, *, camera: FrameSource | None = None, scanner: ScannerReader | None = None,
                 decoder: Decoder | None = None, fps: float = 10.0, hold_s: float = DEFAULT_HOLD_S,
                 retry_s: float = 1.0, max_retry_s: float = 30.0) -> None:
        if camera is None and scanner is None:
            raise ValueError("kiosk scanning needs a camera, a scanner or both")
        self.agent, self.camera, self.scanner = agent, camera, scanner
        self.decoder = decoder if decoder is not None or camera is None else decoder_by_name()
        self.fps, self.retry_s, self.max_retry_s = fps, retry_s, max_retry_s
        self.frames_decoded = 0
        self.reported: list[dict] = []  # every scan queued for the server, in order
        self.answers: list[tuple[dict, object]] = []  # (scan, the server's ack) as they come
        self._dedupe = {"camera": Deduplicator(hold_s), "scanner": Deduplicator(hold_s)}
        self._decoder_error: str | None = None
        self._stamps: dict[str, datetime | None] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the reading loops (as the agent's background tasks)."""
        if self.camera is not None:
            self.agent.spawn(self._camera_loop)
        if self.scanner is not None:
            self.agent.spawn(self._scanner_loop)

    def health(self) -> dict[str, DeviceHealth]:
        """``{"camera": DeviceHealth, "scanner": DeviceHealth}`` for the devices it has."""
        out = {}
        if self.camera is not None:
            st = self.camera.status()
            state, detail = st.state.value, st.detail
            if self._decoder_error and st.state is SourceState.OK:
                state, detail = SourceState.ERROR.value, self._decoder_error
            out["camera"] = DeviceHealth("camera", state, detail, self._stamp("camera", st.last_answer_at))
        if self.scanner is not None:
            st = self.scanner.status()
            out["scanner"] = DeviceHealth("scanner", st.state.value, st.detail,
                                          self._stamp("scanner", st.last_answer_at))
        return out

    def _stamp(self, key: str, at: datetime | None) -> str | None:
        """``at`` in ISO 8601, moved on at most once a health interval (so a camera's
        every frame does not change, and resend, the health report)."""
        prev = self._stamps.get(key)
        if at is not None and (prev is None or (at - prev).total_seconds() >= self.agent.health_interval_s):
            self._stamps[key] = prev = at
        return prev.isoformat() if prev is not None else None

    def close(self) -> None:
        """Release the devices (the loops close them too when they end)."""
        for device in (self.camera, self.scanner):
            if device is not None:
                device.close()

    # -- reporting --------------------------------------------------------------------------
    def handle_codes(self, codes: list[str], source: str, now: float | None = None) -> list[str]:
        """Report the codes of one frame or scan that are new (not seen in the last
        ``hold_s`` s); returns them."""
        fresh = self._dedupe[source].feed(codes, now)
        for code in fresh:
            payload = {"code": code, "source": source, "device": source, "at": iso_now()}
            log.info("%s read a code (%d characters)", source, len(code))  # not the payload: it names a booking
            with self._lock:
                self.reported.append(payload)
            self.agent.send("scan", payload, on_ack=lambda answer, p=payload: self._on_ack(p, answer))
        return fresh

    def _on_ack(self, payload: dict, answer: object) -> None:
        with self._lock:
            self.answers.append((payload, answer))
        if not (isinstance(answer, dict) and answer.get("ok")):
            log.warning("server did not accept a %s scan: %r", payload["source"], answer)

    # -- camera -----------------------------------------------------------------------------
    def _camera_loop(self) -> None:
        camera, retry, stopping = self.camera, self.retry_s, self.agent.stopping
        period = 1.0 / self.fps if self.fps > 0 else 0.0
        next_decode = 0.0
        try:
            while not stopping.is_set():
                if not camera.is_open:
                    try:
                        camera.open()
                    except DeviceUnavailable as exc:
                        log.warning("camera %s: %s (retry in %.0f s)", camera.source, exc, retry)
                        self.agent.health_changed()
                        stopping.wait(retry)
                        retry = min(retry * 2, self.max_retry_s)
                        continue
                    retry = self.retry_s
                    self.agent.health_changed()
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

    # -- scanner ----------------------------------------------------------------------------
    def _scanner_loop(self) -> None:
        scanner, retry, stopping = self.scanner, self.retry_s, self.agent.stopping
        try:
            while not stopping.is_set():
                if not scanner.is_open:
                    try:
                        scanner.open()
                    except DeviceUnavailable as exc:
                        log.warning("scanner %s: %s (retry in %.0f s)", scanner.port, exc, retry)
                        self.agent.health_changed()
                        stopping.wait(retry)
                        retry = min(retry * 2, self.max_retry_s)
                        continue
                    retry = self.retry_s
                    self.agent.health_changed()
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


def demo_scanner(path: str | Path) -> ScannerReader | None:
    """A simulated booking scanner for ``loket demo``: a named pipe at ``path`` read as a
    keyboard-wedge stream, so ``echo LKB1.… > path`` is one scan. A write end is held open
    here (and stays open for the process's life), so the reader never sees the end of the
    stream between two writers. None where named pipes do not exist (Windows)."""
    if not hasattr(os, "mkfifo"):
        return None
    path = Path(path)
    try:
        if path.exists() and not path.is_fifo():
            path.unlink()
        if not path.exists():
            os.mkfifo(path, 0o600)
        os.open(path, os.O_RDWR | os.O_NONBLOCK)  # keeps a writer: no end of stream after each echo
    except OSError as exc:  # a file system without named pipes
        log.warning("demo scanner %s not available: %s", path, exc)
        return None
    return ScannerReader(str(path))
