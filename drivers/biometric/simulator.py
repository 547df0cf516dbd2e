"""A simulated certified reader for tests and ``loket demo``: scripted outcomes, no matching.

It answers outcomes from a script, in order (then ``default``), can be taken offline, and
records the NIKs it was asked about. It never holds anything biometric.
"""
from __future__ import annotations

import threading
import time

from ..errors import DeviceError, DeviceUnavailable
from .base import OUTCOMES, BiometricVerifier, VerificationResult, VerifierState

OFFLINE_MESSAGE = "pembaca sidik jari tidak terhubung / fingerprint reader not connected"
TIMEOUT_MESSAGE = "pembaca sidik jari tidak menjawab / fingerprint reader did not answer"
CLOSED_MESSAGE = "pembaca sidik jari sudah ditutup / fingerprint reader closed"


class SimulatedVerifier(BiometricVerifier):
    """``script``: outcomes answered in order, e.g. ``["no_match", "match"]``; once used up
    (or None) every answer is ``default`` ("match"). ``delay_s``: how long each answer
    takes; longer than ``timeout_s`` raises DeviceUnavailable after ``timeout_s``."""

    name = "simulator"

    def __init__(self, script: list[str] | None = None, delay_s: float = 0.0, *,
                 default: str = "match") -> None:
        for outcome in [*(script or []), default]:
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOMES)}")
        self._script = list(script or [])
        self.default = default
        self.delay_s = delay_s
        self.requests: list[str] = []  # NIKs asked about, for tests
        self._online = True
        self._closed = False
        self._lock = threading.Lock()

    def set_offline(self) -> None:
        """Unplug the reader: ``verify`` raises DeviceUnavailable until :meth:`set_online`."""
        self._online = False

    def set_online(self) -> None:
        self._online = True

    @property
    def remaining(self) -> list[str]:
        """The scripted outcomes not answered yet."""
        with self._lock:
            return list(self._script)

    def verify(self, nik: str, *, timeout_s: float) -> VerificationResult:
        if self._closed:
            raise DeviceError(CLOSED_MESSAGE)
        if not self._online:
            raise DeviceUnavailable(OFFLINE_MESSAGE)
        with self._lock:
            self.requests.append(nik)
        if self.delay_s > timeout_s:
            time.sleep(max(timeout_s, 0.0))
            raise DeviceUnavailable(TIMEOUT_MESSAGE)
        if self.delay_s > 0:
            time.sleep(self.delay_s)
        if not self._online:
            raise DeviceUnavailable(OFFLINE_MESSAGE)
        with self._lock:
            outcome = self._script.pop(0) if self._script else self.default
        return VerificationResult(outcome=outcome, source="device", detail="simulator",
                                  vendor_ref=f"SIM-{len(self.requests)}")

    def status(self) -> tuple[VerifierState, str]:
        if self._closed or not self._online:
            return VerifierState.OFFLINE, CLOSED_MESSAGE if self._closed else OFFLINE_MESSAGE
        return VerifierState.OK, ""

    def close(self) -> None:
        self._closed = True
