"""Delivery state of notices for staff (issue 4: "delivery state visible to staff").

- :func:`notice_status`: every notice of an application, in full (recipient and text), for
  support and tests;
- :func:`application_notices`: the same notices for the kartu kendali page, with the
  recipient masked and without the message text;
- :func:`latest_notices`: the newest notice of each of several applications (a worklist
  badge);
- :func:`mask_recipient`: a phone number or e-mail address shown only in part.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...models import Notice, NoticeStatus
from ..queue.presenters import iso

STATUS_LABELS = {
    "pending": ("menunggu dikirim", "waiting to be sent"), "sending": ("sedang dikirim", "sending"),
    "sent": ("terkirim", "sent"), "failed": ("ditolak penyedia", "refused by the provider"),
    "gave_up": ("tidak terkirim", "given up"),
}
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "email": "E-mail"}
_WAITING = (NoticeStatus.PENDING.value, NoticeStatus.SENDING.value)


def mask_phone(phone: str) -> str:
    """A phone number in national form with its middle hidden: "6281234567890" or
    "081234567890" → "0812****7890". Short numbers keep 2 digits at each end."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    elif digits.startswith("8"):
        digits = "0" + digits
    if not digits:
        return ""
    keep = 4 if len(digits) >= 10 else 2 if len(digits) >= 6 else 0
    if keep == 0:
        return "*" * len(digits)
    return digits[:keep] + "*" * (len(digits) - 2 * keep) + digits[-keep:]


def mask_email(address: str) -> str:
    """An e-mail address with its local part hidden but the first character:
    "budi.santoso@example.com" → "b***@example.com"."""
    local, at, domain = (address or "").strip().rpartition("@")
    if not at:  # not an address: hide all but the first character
        return (domain[:1] + "***") if domain else ""
    return (local[:1] or "") + "***@" + domain


def mask_recipient(channel: str, recipient: str) -> str:
    """The recipient of a notice as staff may see it: :func:`mask_email` for e-mail,
    :func:`mask_phone` for WhatsApp and SMS."""
    return mask_email(recipient) if channel == "email" else mask_phone(recipient)


def _state(n: Notice) -> dict:
    """The delivery state of one notice (shared by the full and the masked view)."""
    label_id, label_en = STATUS_LABELS.get(n.status, (n.status, n.status))
    return {
        "id": n.id, "kind": n.kind, "channel": n.channel, "channel_label": CHANNEL_LABELS.get(n.channel, n.channel),
        "status": n.status, "status_label_id": label_id, "status_label_en": label_en, "attempts": n.attempts,
        "next_attempt_at": iso(n.next_attempt_at) if n.status in _WAITING else None, "last_error": n.last_error,
        "created_at": iso(n.created_at), "sent_at": iso(n.sent_at),
    }


def _of_application(session: Session, application_id: int) -> Iterable[Notice]:
    return session.scalars(select(Notice).where(Notice.application_id == application_id)
                           .order_by(Notice.created_at, Notice.id))


def notice_status(session: Session, application_id: int) -> list[dict]:
    """The notices of one application, oldest first, in full: what was sent where, and its
    delivery state (``status`` with Indonesian/English labels, attempts, the next attempt
    while it is still to be tried, the last error).

    Each: {"id", "kind", "channel", "channel_label", "status", "status_label_id",
    "status_label_en", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at",
    "recipient", "subject", "body", "provider_message_id"} (times ISO 8601, UTC)."""
    return [
        {**_state(n), "recipient": n.recipient, "subject": n.subject, "body": n.body,
         "provider_message_id": n.provider_message_id}
        for n in _of_application(session, application_id)
    ]


def application_notices(session: Session, application_id: int) -> list[dict]:
    """The notices of one application for the kartu kendali, oldest first: the delivery
    state of :func:`notice_status` with the recipient masked and no message text.

    Each: {"id", "kind" ("ready" | "returned" | "printed"), "channel" ("whatsapp" | "sms" | "email"),
    "channel_label", "recipient_masked" ("0812****7890", "b***@example.com"), "status"
    ("pending" | "sending" | "sent" | "failed" | "gave_up"), "status_label_id",
    "status_label_en", "attempts", "next_attempt_at" (null unless still to be tried),
    "last_error", "created_at", "sent_at"}."""
    return [{**_state(n), "recipient_masked": mask_recipient(n.channel, n.recipient)}
            for n in _of_application(session, application_id)]


def latest_notices(session: Session, application_ids: Iterable[int]) -> dict[int, dict]:
    """{application id: the delivery state of its newest notice} (the shape of
    :func:`application_notices` without the recipient); applications without a notice are
    left out. One query whatever the number of applications."""
    ids = sorted(set(application_ids))
    if not ids:
        return {}
    newest = (select(func.max(Notice.id)).where(Notice.application_id.in_(ids))
              .group_by(Notice.application_id).scalar_subquery())
    return {n.application_id: _state(n) for n in session.scalars(select(Notice).where(Notice.id.in_(newest)))
            if n.application_id is not None}  # always: newest is of these applications' notices
