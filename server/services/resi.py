"""Resi (receipt) numbers and the signed QR payload printed on the resi.

Source: issue 4, "The resi": a resi number, and a QR the server signs over the resi id and
office with no personal data in it, so that a forged or altered QR is refused at pickup.

Payload format, version 1 (all ASCII, URL-safe, no padding)::

    LKT1.<office_code>.<resi_number>.<resi_id>.<sig>

``sig`` = the first 16 bytes of HMAC-SHA256(key, "LKT1.<office_code>.<resi_number>.<resi_id>"),
RFC 4648 base32 without padding (26 characters, A-Z2-7). With an upper-case office code the
whole payload stays in the QR "alphanumeric" character set, the densest mode for text.
The fields cannot contain ".", so the signed text is unambiguous. A QR may also hold a
status URL ``http(s)://<host>/.../<payload>``; ``verify`` takes the last path segment.

Resi number format (``resi_number``): ``<OFFICE>-<L>-<YYYYMMDD>-<NNNN>``, e.g.
``DEMO-A-20261121-0042``: the office code, the service's ticket letter (1-2 capitals), the
office-local day of registration and a per-office, per-day sequence of at least 4 digits.
Only capitals, digits and dashes, so it can be read over the phone group by group.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import unquote, urlsplit

from .errors import ValidationError

VERSION = "LKT1"
SIG_BYTES = 16
KEY_INFO = b"loket-resi-v1"
MAX_INPUT = 2048
_OFFICE = re.compile(r"[A-Za-z0-9_-]{1,32}")
_NUMBER = re.compile(r"[A-Za-z0-9-]{1,64}")
_ID = re.compile(r"[1-9][0-9]{0,17}")
_SIG = re.compile(r"[A-Za-z2-7]{26}")
_RESI_NUMBER = re.compile(r"([A-Z0-9]+(?:-[A-Z0-9]+)*)-([A-Z]{1,2})-([0-9]{8})-([0-9]{4,})")


class ResiError(ValidationError):
    """A scanned or typed resi payload was refused; ``reason`` is the stable kind."""

    code = "resi_invalid"
    reason = "invalid"

    def __init__(self, id_text: str, en_text: str = "", **details) -> None:
        message = f"{id_text} / {en_text}" if en_text else id_text
        super().__init__(message, field="payload", reason=self.reason, **details)


class ResiMalformed(ResiError):
    """Not a well-formed Loket payload: wrong shape, truncated, unsupported version."""

    code = "resi_malformed"
    reason = "malformed"


class ResiForeign(ResiMalformed):
    """Not a Loket payload at all: random QR text, another system's URL."""

    code = "resi_foreign"
    reason = "foreign"


class ResiForged(ResiError):
    """Well-formed but the signature does not match: forged or altered."""

    code = "resi_forged"
    reason = "forged"


class ResiWrongOffice(ResiError):
    """A genuine resi of another office."""

    code = "resi_wrong_office"
    reason = "wrong_office"


@dataclass(frozen=True)
class ResiRef:
    """What a verified payload names: the office code, the resi number and the resi row id."""

    office_code: str
    resi_number: str
    resi_id: int


def derive_key(secret_key: str, info: bytes = KEY_INFO) -> bytes:
    """The 32-byte signing key: HMAC-SHA256(secret_key as UTF-8, ``info``), by default
    b"loket-resi-v1" (resi); booking codes use b"loket-booking-v1" (issue 6).

    A single-step HKDF-style derivation, so the app's SECRET_KEY is never used directly
    for QR signatures and rotating it changes every key. Raises ValueError when empty.
    """
    if not secret_key:
        raise ValueError("secret_key is empty")
    return hmac.new(secret_key.encode("utf-8"), info, hashlib.sha256).digest()


def _unwrap(text: str) -> str:
    """The payload inside ``text``: stripped, and the last path segment of an http(s) URL."""
    if not isinstance(text, str) or len(text) > MAX_INPUT:
        raise ResiForeign("bukan QR resi Loket", "not a Loket resi QR")
    text = text.strip()
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        segments = [s for s in urlsplit(text).path.split("/") if s]
        return unquote(segments[-1]).strip() if segments else ""
    return text


class ResiSigner:
    """Signs and verifies resi payloads with one key (``derive_key``; >= 16 bytes).

    ``version``: the payload's first field, "LKT1" for a resi; a booking confirmation
    (issue 6) signs with its own key and "LKB1", so neither passes for the other (a booking
    QR at a resi scanner is "not a Loket resi QR", and the reverse).
    """

    def __init__(self, key: bytes, version: str = VERSION) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValueError("resi key must be at least 16 bytes")
        if not re.fullmatch(r"LK[A-Z][0-9]+", version):
            raise ValueError(f"version {version!r} must look like LKT1")
        self._key = key
        self.version = version
        self._versioned = re.compile(re.escape(version[:3]) + r"[0-9]+", re.IGNORECASE)

    def _sig(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()[:SIG_BYTES]
        return base64.b32encode(mac).decode("ascii").rstrip("=")

    def make_payload(self, resi_id: int, office_code: str, resi_number: str) -> str:
        """The signed QR text ``LKT1.<office>.<number>.<id>.<sig>``.

        ``resi_id``: positive integer row id; ``office_code``: 1-32 of [A-Za-z0-9_-];
        ``resi_number``: 1-64 of [A-Za-z0-9-]. Raises ValueError otherwise (caller bug).
        Holds no personal data: only these three values and the signature.
        """
        if isinstance(resi_id, bool) or not isinstance(resi_id, int) or not _ID.fullmatch(str(resi_id)):
            raise ValueError(f"resi_id must be a positive integer, got {resi_id!r}")
        if not _OFFICE.fullmatch(office_code or ""):
            raise ValueError(f"office code {office_code!r} must be 1-32 of A-Z a-z 0-9 _ -")
        if not _NUMBER.fullmatch(resi_number or ""):
            raise ValueError(f"resi number {resi_number!r} must be 1-64 of A-Z a-z 0-9 -")
        body = f"{self.version}.{office_code}.{resi_number}.{resi_id}"
        return f"{body}.{self._sig(body)}"

    def verify(self, payload: str, expected_office: str | None = None) -> ResiRef:
        """Check a scanned or typed payload and return what it names.

        ``payload``: the QR text, surrounding whitespace and an http(s) URL wrapper allowed.
        ``expected_office``: the code of the office scanning it (None: any office).
        Raises ``ResiForeign`` (not ours), ``ResiMalformed`` (wrong shape, truncated,
        unknown version), ``ResiForged`` (signature mismatch, compared in constant time),
        ``ResiWrongOffice`` (genuine, other office); all are ``ResiError``/``ValidationError``.
        """
        text = _unwrap(payload)
        parts = text.split(".")
        if not self._versioned.fullmatch(parts[0]):
            raise ResiForeign("bukan QR resi Loket", "not a Loket resi QR")
        if parts[0].upper() != self.version:
            raise ResiMalformed(f"versi QR {parts[0]!r} tidak didukung", f"unsupported QR version {parts[0]!r}")
        if len(parts) != 5:
            raise ResiMalformed("QR resi tidak lengkap atau rusak", "resi QR is truncated or damaged")
        _, office, number, rid, sig = parts
        if not (_OFFICE.fullmatch(office) and _NUMBER.fullmatch(number) and _ID.fullmatch(rid)
                and _SIG.fullmatch(sig)):
            raise ResiMalformed("QR resi tidak lengkap atau rusak", "resi QR is truncated or damaged")
        body = f"{self.version}.{office}.{number}.{rid}"
        if not hmac.compare_digest(sig.upper().encode("ascii"), self._sig(body).encode("ascii")):
            raise ResiForged("QR resi palsu atau telah diubah", "resi QR is forged or altered")
        if expected_office is not None and office != expected_office:
            raise ResiWrongOffice(f"resi ini milik kantor {office}, bukan {expected_office}",
                                  f"this resi belongs to office {office}, not {expected_office}",
                                  office_code=office)
        return ResiRef(office, number, int(rid))


def resi_number(office_code: str, service_letter: str, day: date, seq: int) -> str:
    """A resi number ``<OFFICE>-<L>-<YYYYMMDD>-<NNNN>``, e.g. "DEMO-A-20261121-0042".

    ``office_code``: letters/digits, dash-separated groups allowed, upper-cased;
    ``service_letter``: the service's 1-2 capital ticket letter; ``day``: the office-local
    registration day; ``seq``: 1-based sequence of that office and day, zero-padded to 4
    digits (wider past 9999). Raises ValueError for anything else.
    """
    office = (office_code or "").upper()
    if not re.fullmatch(r"[A-Z0-9]+(?:-[A-Z0-9]+)*", office) or len(office) > 32:
        raise ValueError(f"office code {office_code!r} cannot go in a resi number")
    if not re.fullmatch(r"[A-Z]{1,2}", service_letter or ""):
        raise ValueError(f"service letter {service_letter!r} must be 1-2 capitals")
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValueError("day must be a date")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ValueError(f"seq must be a positive integer, got {seq!r}")
    return f"{office}-{service_letter}-{day:%Y%m%d}-{seq:04d}"


def normalize_resi_number(text: str) -> str:
    """A typed resi number in canonical form (pickup counter without a scanner).

    Case, surrounding whitespace, and spaces/underscores/dots used instead of dashes are
    forgiven; the sequence is re-padded to 4 digits ("demo a 20261121 42" ->
    "DEMO-A-20261121-0042"). Raises ``ValidationError`` (field "resi_number") when the
    text is not ``<OFFICE>-<L>-<YYYYMMDD>-<N>`` with a real date.
    """
    canon = re.sub(r"[\s_.\-]+", "-", (text or "").strip().upper()).strip("-")
    match = _RESI_NUMBER.fullmatch(re.sub(r"-(\d{1,3})$", lambda m: "-" + m[1].zfill(4), canon))
    error = ValidationError("nomor resi tidak valid (contoh DEMO-A-20261121-0042) / "
                            "invalid resi number (e.g. DEMO-A-20261121-0042)", field="resi_number")
    if not match:
        raise error
    office, letter, ymd, seq = match.groups()
    try:
        day = date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
    except ValueError:
        raise error from None
    if int(seq) < 1:
        raise error
    return resi_number(office, letter, day, int(seq))
