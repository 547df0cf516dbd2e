"""Fingerprint verification at the activation counter: outcomes only, never biometric data.

Loket does not match fingerprints; Dukcapil's certified reader (with its SAM) does.

- :mod:`.base`: :class:`BiometricVerifier`, :class:`VerificationResult`, :class:`VerifierState`;
- :mod:`.officer`: :class:`OfficerConfirmedVerifier` (default, no SDK) and :func:`officer_result`;
- :mod:`.simulator`: :class:`SimulatedVerifier` for tests and the demo.

See ``drivers/biometric/README.md``.
"""
from .base import (FINGERS, OUTCOMES, SOURCES, BiometricVerifier, NotSupported, VerificationResult,
                   VerifierState)
from .officer import OFFICER_OUTCOMES, OfficerConfirmedVerifier, officer_result
from .simulator import SimulatedVerifier

__all__ = [
    "FINGERS", "OFFICER_OUTCOMES", "OUTCOMES", "SOURCES", "BiometricVerifier", "NotSupported",
    "OfficerConfirmedVerifier", "SimulatedVerifier", "VerificationResult", "VerifierState", "officer_result",
]
