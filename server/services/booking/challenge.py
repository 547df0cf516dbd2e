"""An optional challenge against booking bots (issue 6: "an optional challenge against
bots"): a proof of work, so no third-party service and no citizen data leave the office.

Off unless the office sets ``office.settings["booking"]["challenge_bits"]`` (e.g. 14).
Then a booking needs a fresh challenge from :func:`issue` and a ``solution`` such that
SHA-256 of ``"<challenge>:<nik>:<solution>"`` (UTF-8) starts with ``bits`` zero bits:
about 2^bits hashes for the booking page (2^14 ≈ 16,000: well under a second on a phone),
one hash for the server. A bot booking thousands of places pays that for every one.

The challenge is ``"<issued at, epoch s>.<16 random hex>.<HMAC>"``, signed with a key
derived from SECRET_KEY, so the server keeps no state; it is valid for ``TTL_S`` seconds.
Binding the solution to the NIK makes it useless for another NIK, and a NIK books a
service once a day anyway.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from ..errors import ValidationError
from ..resi import derive_key

KEY_INFO = b"loket-booking-challenge-v1"
TTL_S = 600
MAX_BITS = 24


def _sig(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def issue(secret_key: str, now: float | None = None) -> str:
    """A new signed challenge string."""
    body = f"{int(now if now is not None else time.time())}.{secrets.token_hex(8)}"
    return f"{body}.{_sig(derive_key(secret_key, KEY_INFO), body)}"


def leading_zero_bits(digest: bytes) -> int:
    """How many zero bits ``digest`` starts with."""
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + (8 - byte.bit_length())
    return bits


def solve(challenge: str, nik: str, bits: int) -> str:
    """A solution (the smallest decimal counter); what the booking page computes. For tests
    and tools."""
    n = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{nik}:{n}".encode()).digest()) < bits:
        n += 1
    return str(n)


def verify(secret_key: str, challenge: str, nik: str, solution: str, bits: int, now: float | None = None) -> None:
    """Check a challenge and its solution for ``nik``; raises ValidationError (field
    "challenge") when missing, forged, expired or not solved."""
    if bits <= 0:
        return
    now = now if now is not None else time.time()
    parts = str(challenge or "").split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(str(solution or "")) > 32:
        raise ValidationError(key="error.booking.challenge_required", field="challenge")
    body = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _sig(derive_key(secret_key, KEY_INFO), body)):
        raise ValidationError(key="error.booking.challenge_invalid", field="challenge")
    if not 0 <= now - int(parts[0]) <= TTL_S:
        raise ValidationError(key="error.booking.challenge_expired", field="challenge")
    digest = hashlib.sha256(f"{challenge}:{nik}:{solution}".encode()).digest()
    if leading_zero_bits(digest) < bits:
        raise ValidationError(key="error.booking.challenge_unsolved", field="challenge")


def office_bits(office_settings: dict | None) -> int:
    """The office's ``booking.challenge_bits`` (0: off), at most MAX_BITS."""
    value = int(((office_settings or {}).get("booking") or {}).get("challenge_bits") or 0)
    return max(0, min(MAX_BITS, value))
