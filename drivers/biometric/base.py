"""The biometric-verifier interface of the activation counter (issue 5).

**Loket does not match fingerprints.** Matching is done by Dukcapil's certified reader with
its SAM; Loket never receives a template, an image or a score. This interface only carries
the *outcome* of one verification attempt ("match", "no_match", ...), either as the officer
read it on the certified reader's screen and confirmed it (``source="officer"``, see
:mod:`.officer`), or as a vendor SDK reported it (``source="device"``).

A vendor SDK plugs in by subclassing :class:`BiometricVerifier` and translating its
errors into :mod:`drivers.errors`. Counting failed attempts (4 failures block the
activation until a section head releases it) is the server's rule, not the driver's.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ..errors import DeviceError

#: What one attempt can end with.
OUTCOMES = frozenset({"match", "no_match", "cancelled", "error"})
#: Who reported the outcome: the officer (read the certified reader's screen) or a vendor SDK.
SOURCES = frozenset({"officer", "device"})
#: Finger names a result may carry.
FINGERS = frozenset(f"{side}_{name}" for side in ("left", "right")
                    for name in ("thumb", "index", "middle", "ring", "little"))


def _now() -> datetime:
    return datetime.now(timezone.utc)


class NotSupported(DeviceError):
    """This verifier cannot do what was asked (e.g. no vendor SDK to call the device)."""


class VerifierState(enum.Enum):
    """What the verifier can do right now."""

    OK = "ok"
    """The certified reader answers: :meth:`BiometricVerifier.verify` can be called."""

    OFFLINE = "offline"
    """The certified reader is not connected / does not answer: ``verify`` raises DeviceUnavailable."""

    ERROR = "error"
    """The reader answers but reports a fault; ``detail`` says which."""

    MANUAL = "manual"
    """No device link (no vendor SDK): the officer confirms the outcome on the page."""


@dataclass(frozen=True)
class VerificationResult:
    """The outcome of one verification attempt, never biometric data.

    ``outcome``: one of :data:`OUTCOMES`; ``source``: one of :data:`SOURCES`; ``detail``: a
    short text for staff and the audit log; ``at``: when it was answered (timezone-aware,
    stored in UTC); ``finger``: which finger, one of :data:`FINGERS`, if known;
    ``vendor_ref``: the certified reader's transaction id, if it gives one.
    There is deliberately no score, template or image field.
    """

    outcome: str
    source: str
    detail: str = ""
    at: datetime = field(default_factory=_now)
    finger: str | None = None
    vendor_ref: str | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; expected one of {sorted(OUTCOMES)}")
        if self.source not in SOURCES:
            raise ValueError(f"unknown source {self.source!r}; expected one of {sorted(SOURCES)}")
        if self.finger is not None and self.finger not in FINGERS:
            raise ValueError(f"unknown finger {self.finger!r}; expected one of {sorted(FINGERS)}")
        if not isinstance(self.at, datetime) or self.at.utcoffset() is None:
            raise ValueError("'at' must be a timezone-aware datetime")
        if self.at.utcoffset() != timedelta(0):
            object.__setattr__(self, "at", self.at.astimezone(timezone.utc))

    @property
    def matched(self) -> bool:
        """True when the certified reader reported a match."""
        return self.outcome == "match"

    def as_payload(self) -> dict:
        """The result as a JSON-able dict (``at`` in ISO 8601)."""
        return {"outcome": self.outcome, "source": self.source, "detail": self.detail,
                "at": self.at.isoformat(), "finger": self.finger, "vendor_ref": self.vendor_ref}


class BiometricVerifier(ABC):
    """A link to Dukcapil's certified fingerprint reader.

    Loket does not match fingerprints: the certified reader (with Dukcapil's SAM) does, and
    an implementation only passes on its outcome as a :class:`VerificationResult`.
    """

    #: Short name for health reports and logs.
    name: str = "biometric"

    @abstractmethod
    def verify(self, nik: str, *, timeout_s: float) -> VerificationResult:
        """Ask the certified reader to verify the holder of ``nik``; block until it answers.

        Returns the outcome. Raises DeviceUnavailable when the reader is not connected or
        does not answer within ``timeout_s``; DeviceError (e.g. :class:`NotSupported`) when
        this verifier cannot ask the device at all.
        """

    @abstractmethod
    def status(self) -> tuple[VerifierState, str]:
        """The state now and a short reason ("" when OK). Never raises."""

    def close(self) -> None:
        """Release the link to the reader (no-op by default)."""
