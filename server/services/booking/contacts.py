"""The contact a booking is bound to (issue 13, "Booking privacy and brokers").

A booker gives a WhatsApp number and/or an e-mail; the one-time code goes to **one** of
them (:func:`choose`: WhatsApp, SMS, e-mail, the first one the office can send to; the
first one given when no provider is configured yet, so the code waits in the outbox), and
that one is the booking's confirmed contact. Only what delivery needs is kept in clear
(the phone in international form, or the e-mail); matching (one booking per NIK per
contact, the broker limit, no-show penalties, the per-contact rate limit) uses
:func:`contact_hash`, an HMAC keyed by the server's secret: a database copy alone does
not give the numbers back, and the same number written differently ("0812-…", "+62 812…")
is the same contact. Pages and answers show :func:`masked` only.

One-time codes: 6 random digits (:func:`new_code`), stored as :func:`code_hash` (HMAC of
the request's token and the code), compared in constant time.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..notices.outbox import CHANNEL_ORDER, msisdn
from ..notices.providers import NoticeProvider
from ..notices.status import mask_recipient
from ..resi import derive_key

CONTACT_KEY_INFO = b"loket-booking-contact-v1"
CODE_KEY_INFO = b"loket-booking-code-v1"
CODE_DIGITS = 6


@dataclass(frozen=True)
class Contact:
    """A normalised contact: ``channel`` ("whatsapp", "sms" or "email") and ``recipient``
    (msisdn "62812…" or a lower-case e-mail address)."""

    channel: str
    recipient: str

    @property
    def kind(self) -> str:
        """"tel" for WhatsApp and SMS (one number, either channel), "mail" for e-mail."""
        return "mail" if self.channel == "email" else "tel"

    def fields(self) -> tuple[str, str]:
        """(phone, email) for a booking row: only this contact, the other one empty."""
        return ("", self.recipient) if self.kind == "mail" else (self.recipient, "")


def normalise(kind: str, value: str) -> str:
    """The matching form of a contact: msisdn digits for "tel", a stripped lower-case
    address for "mail"; "" for an empty value."""
    value = str(value or "").strip()
    return value.lower() if kind == "mail" else (msisdn(value) if value else "")


def choose(phone: str | None, email: str | None, providers: dict[str, NoticeProvider]) -> Contact:
    """The contact the code goes to (see the module docstring). ``phone``/``email`` are
    already validated (``applications.intake.clean_contact``: at least one is given).
    Raises ValueError when both are empty."""
    values = {"tel": normalise("tel", phone or ""), "mail": normalise("mail", email or "")}
    for channel in CHANNEL_ORDER:
        kind = "mail" if channel == "email" else "tel"
        if channel in providers and values[kind]:
            return Contact(channel, values[kind])
    if values["tel"]:
        return Contact("whatsapp", values["tel"])
    if values["mail"]:
        return Contact("email", values["mail"])
    raise ValueError("no contact given")


def contact_key(secret_key: str) -> bytes:
    """The HMAC key of contact hashes, derived from the app's SECRET_KEY."""
    return derive_key(secret_key, CONTACT_KEY_INFO)


def contact_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 (hex, 64 characters) of the normalised contact "<kind>:<value>"."""
    return hmac.new(key, f"{kind}:{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()


def hash_of(key: bytes, contact: Contact) -> str:
    """:func:`contact_hash` of a chosen :class:`Contact`."""
    return contact_hash(key, contact.kind, contact.recipient)


def masked(contact: Contact) -> str:
    """The contact as a page may show it: "0812****7890", "b***@example.id"."""
    return mask_recipient(contact.channel, contact.recipient)


def new_code() -> str:
    """A one-time code: 6 random decimal digits (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(secret_key: str, token: str, code: str) -> str:
    """HMAC-SHA256 (hex) of "<request token>:<code>" with a key derived from SECRET_KEY."""
    key = derive_key(secret_key, CODE_KEY_INFO)
    return hmac.new(key, f"{token}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(secret_key: str, token: str, code: str, stored: str) -> bool:
    """Whether the typed ``code`` (spaces ignored) is the request's, in constant time."""
    typed = "".join(ch for ch in str(code or "") if not ch.isspace())
    if len(typed) != CODE_DIGITS or not typed.isdigit():
        return False
    return hmac.compare_digest(code_hash(secret_key, token, typed), stored)
