"""The kiosk's own QR camera and/or barcode scanner, feeding booking check-in (issue 6).

A :class:`KioskScanning` belongs to one :class:`kiosk.agent.KioskAgent`: the camera and
scanner loops of :class:`drivers.qr.reading.CodeReading` (shared with the Drive-Thru pickup
agent) with the kiosk's report of each code.

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
from collections import deque
from pathlib import Path

from drivers.qr.decoders import Decoder
from drivers.qr.reading import CodeReading
from drivers.qr.sources import FrameSource, ScannerReader
from drivers.station import iso_now

log = logging.getLogger(__name__)

#: Seconds a code must be out of view (or unscanned) before it is reported again.
DEFAULT_HOLD_S = 3.0
#: Scans kept in :attr:`KioskScanning.reported` and :attr:`KioskScanning.answers` (the last
#: ones, a count): diagnostics and tests only; the server keeps the record of every scan.
SCAN_HISTORY = 1000


class KioskScanning(CodeReading):
    """The camera and/or scanner of one kiosk agent, reporting each new code as ``scan``.

    ``agent``: the owning StationAgent (its ``spawn``, ``stopping``, ``send``,
    ``health_changed`` and ``health_interval_s`` are used). ``camera``: a FrameSource or
    None; ``scanner``: a ScannerReader or None (at least one, else ValueError).
    ``decoder``: QR decoder for the camera (default zxing-cpp). ``fps``: decodes per second
    (0: every frame). ``hold_s``: dedupe window (s). ``retry_s``/``max_retry_s``: back-off
    (s) for reopening a lost device. Health keys are "camera" and "scanner".

    ``reported`` (scan payloads queued for the server) and ``answers`` ((scan, the server's
    ack) as they come) hold the last ``history`` of each (a count of scans, default
    :data:`SCAN_HISTORY`; older ones are forgotten), so memory stays bounded however
    long the agent runs.
    """

    def __init__(self, agent, *, camera: FrameSource | None = None, scanner: ScannerReader | None = None,
                 decoder: Decoder | None = None, fps: float = 10.0, hold_s: float = DEFAULT_HOLD_S,
                 retry_s: float = 1.0, max_retry_s: float = 30.0, history: int = SCAN_HISTORY) -> None:
        super().__init__(agent, self._report, camera=camera, scanner=scanner, decoder=decoder, fps=fps,
                         hold_s=hold_s, retry_s=retry_s, max_retry_s=max_retry_s)
        self.reported: deque[dict] = deque(maxlen=history)  # the last scans queued for the server, in order
        self.answers: deque[tuple[dict, object]] = deque(maxlen=history)  # (scan, the server's ack) as they come
        self._lock = threading.Lock()

    def _report(self, code: str, source: str, device: str) -> None:
        payload = {"code": code, "source": source, "device": device, "at": iso_now()}
        log.info("%s read a code (%d characters)", source, len(code))  # not the payload: it names a booking
        with self._lock:
            self.reported.append(payload)
        self.agent.send("scan", payload, on_ack=lambda answer, p=payload: self._on_ack(p, answer))

    def _on_ack(self, payload: dict, answer: object) -> None:
        with self._lock:
            self.answers.append((payload, answer))
        if not (isinstance(answer, dict) and answer.get("ok")):
            log.warning("server did not accept a %s scan: %r", payload["source"], answer)


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
