"""The default verifier when no vendor SDK is installed: the officer confirms.

The officer watches the certified reader (Dukcapil's SAM inside) match the fingerprint and
clicks its outcome on the page; the server records that with :func:`officer_result`.
Loket itself cannot call the device here, so :meth:`OfficerConfirmedVerifier.verify` raises.
"""
from __future__ import annotations

from .base import BiometricVerifier, NotSupported, VerificationResult, VerifierState

#: Outcomes an officer can confirm from the certified reader's screen.
OFFICER_OUTCOMES = frozenset({"match", "no_match"})

NOT_SUPPORTED_MESSAGE = ("tidak ada SDK pembaca sidik jari; petugas mengonfirmasi hasil di halaman / "
                         "no fingerprint reader SDK; the officer confirms the result on the page")
CONFIRMED_DETAIL = "dikonfirmasi petugas / confirmed by officer"


def officer_result(outcome: str, *, finger: str | None = None, detail: str = "") -> VerificationResult:
    """The record of what the officer confirmed: ``outcome`` "match" or "no_match"
    (ValueError otherwise), ``source="officer"``, stamped now (UTC)."""
    if outcome not in OFFICER_OUTCOMES:
        raise ValueError(f"officer outcome must be one of {sorted(OFFICER_OUTCOMES)}, not {outcome!r}")
    return VerificationResult(outcome=outcome, source="officer", detail=detail or CONFIRMED_DETAIL, finger=finger)


class OfficerConfirmedVerifier(BiometricVerifier):
    """No device link: every outcome comes from the officer (see :func:`officer_result`)."""

    name = "officer"

    def verify(self, nik: str, *, timeout_s: float) -> VerificationResult:
        """Always raises :class:`NotSupported`: the officer confirms the result on the page."""
        raise NotSupported(NOT_SUPPORTED_MESSAGE)

    def status(self) -> tuple[VerifierState, str]:
        return VerifierState.MANUAL, "petugas mengonfirmasi / officer confirms"
