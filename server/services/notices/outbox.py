"""The notice outbox: queueing notices and delivering them, with retries and backoff.

Queueing (:func:`queue_application_notice`) writes a ``pending`` row in the caller's
transaction, so a notice exists exactly when the change it tells about was committed; the
unique ``dedupe_key`` makes queueing the same notice twice a no-op.

Delivery (:func:`deliver_due`), one notice at a time:

1. **Claim** (a short transaction): the oldest due notice (``FOR UPDATE SKIP LOCKED`` on
   PostgreSQL, so processes never take the same row; SQLite's ``BEGIN IMMEDIATE`` makes
   writers serial) becomes ``sending``, ``attempts`` + 1, and ``next_attempt_at`` = now +
   ``LEASE`` (the attempt's lease).
2. **Send**, outside any transaction: no row lock is held while a provider is slow.
3. **Record** (a short transaction, compare-and-set on status ``sending`` and the attempt
   number): ``sent``; or ``failed`` (ProviderRejected: never tried again); or back to
   ``pending`` at now + ``retry_delay(attempts)`` (30 s, 2 min, 10 min, 30 min, then hourly);
   or ``gave_up`` when that would be more than ``GIVE_UP_AFTER`` (24 h) after queueing.

What staff see of it (delivery state, masked recipients) is in :mod:`.status`.

**At-least-once window.** A notice is sent twice only when the process dies (or the
database stays unreachable through the record's retries) between the provider accepting
it (step 2) and the commit of step 3: milliseconds, one notice at most per process. The
row then stays ``sending`` until its lease runs out and is sent again, its error saying the
previous attempt was interrupted. The e-mail's Message-ID and the gateway's ``{ref}``
placeholder are fixed per notice so receivers and gateways can drop such a copy. Without
a crash a notice is never sent twice: a lease (10 min) is far longer than a provider's
timeouts. When one channel's provider is unavailable, its other notices wait for the next
pass instead of each timing out in turn.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from ...db import is_postgres
from ...models import Application, Notice, NoticeChannel, NoticeStatus, utcnow
from .providers import NoticeProvider, OutgoingNotice, ProviderRejected, ProviderUnavailable
from .texts import application_notice_text

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30))
RETRY_DELAY_AFTER = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)
LEASE = timedelta(minutes=10)
#: Notice kind → the application status the notice is about (a notice whose application
#: left that status before it could be sent is not sent: it would tell something stale).
KIND_STATUS = {"ready": "ready", "returned": "returned", "printed": "in_progress"}
CHANNEL_ORDER = (NoticeChannel.WHATSAPP.value, NoticeChannel.SMS.value, NoticeChannel.EMAIL.value)
_RECORD_TRIES = 3


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt (1-based)."""
    return RETRY_DELAYS[attempts - 1] if 1 <= attempts <= len(RETRY_DELAYS) else RETRY_DELAY_AFTER


def msisdn(phone: str) -> str:
    """An Indonesian phone number in international form without the plus: 0812.. → 62812..."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if digits.startswith("0"):
        return "62" + digits[1:]
    if digits.startswith("8"):
        return "62" + digits
    return digits


def choose_channel(app: Application, providers: dict[str, NoticeProvider]) -> tuple[str, str] | None:
    """(channel, recipient): the first of WhatsApp, SMS, e-mail for which ``app`` has a
    recipient (phone for the first two) and a provider is configured; None when none is."""
    for channel in CHANNEL_ORDER:
        if channel not in providers:
            continue
        recipient = app.email if channel == NoticeChannel.EMAIL.value else msisdn(app.phone or "")
        if recipient:
            return channel, recipient
    return None


def queue_notice(
    session: Session, *, office_id: int, application_id: int | None, kind: str, channel: str, recipient: str,
    subject: str, body: str, dedupe_key: str, now: datetime | None = None,
) -> Notice:
    """Add a pending notice due at once, unless one with ``dedupe_key`` exists; return the
    row with that key (``INSERT ... ON CONFLICT DO NOTHING``: safe when two transactions
    queue the same notice at once)."""
    now = now or utcnow()
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    session.execute(insert(Notice).values(
        office_id=office_id, application_id=application_id, kind=kind, channel=channel, recipient=recipient,
        subject=subject[:200], body=body, status=NoticeStatus.PENDING.value, attempts=0, next_attempt_at=now,
        created_at=now, dedupe_key=dedupe_key,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return session.scalars(select(Notice).where(Notice.dedupe_key == dedupe_key)).one()


def queue_application_notice(
    session: Session, application: Application, kind: str, *, providers: dict[str, NoticeProvider],
    now: datetime | None = None,
) -> Notice | None:
    """Queue the ``kind`` notice ("ready", "returned" or "printed") about ``application`` on the first
    usable channel (see :func:`choose_channel`), in the caller's transaction.

    The dedupe key is "app<id>:<kind>:<version>": one notice per transition, however often
    it is asked for. Returns the notice (the existing one for a repeat), or None when the
    application has no recipient for any configured channel. Raises ValueError for an
    unknown kind."""
    if kind not in KIND_STATUS:
        raise ValueError(f"unknown notice kind {kind!r}; kinds: {sorted(KIND_STATUS)}")
    choice = choose_channel(application, providers)
    if choice is None:
        log.info("application %s: no channel for a %s notice (phone %s, e-mail %s, providers %s)", application.id,
                 kind, bool(application.phone), bool(application.email), sorted(providers))
        return None
    channel, recipient = choice
    text = application_notice_text(session, application, kind, channel)
    return queue_notice(
        session, office_id=application.office_id, application_id=application.id, kind=kind, channel=channel,
        recipient=recipient, subject=text.subject, body=text.body,
        dedupe_key=f"app{application.id}:{kind}:{application.version}", now=now,
    )


@dataclass(frozen=True)
class _Claim:
    notice: OutgoingNotice | None
    obsolete: bool = False


def _claim(factory: sessionmaker, now: datetime, skip_channels: set[str]) -> _Claim | None:
    """Take the oldest due notice (see the module docstring, step 1); None when none is due."""
    with factory() as session, session.begin():
        stmt = select(Notice).where(
            Notice.status.in_((NoticeStatus.PENDING.value, NoticeStatus.SENDING.value)), Notice.next_attempt_at <= now,
        )
        if skip_channels:
            stmt = stmt.where(Notice.channel.not_in(sorted(skip_channels)))
        stmt = stmt.order_by(Notice.next_attempt_at, Notice.id).limit(1)
        if is_postgres(session):
            stmt = stmt.with_for_update(skip_locked=True)
        notice = session.scalars(stmt).first()
        if notice is None:
            return None
        if notice.status == NoticeStatus.SENDING.value:
            log.warning("notice %s: attempt %s was interrupted; sending again", notice.id, notice.attempts)
            notice.last_error = f"attempt {notice.attempts} interrupted (process stopped); sent again"
        if notice.application_id is not None and notice.kind in KIND_STATUS:
            status = session.scalar(select(Application.status).where(Application.id == notice.application_id))
            if status != KIND_STATUS[notice.kind]:
                notice.status = NoticeStatus.GAVE_UP.value
                notice.last_error = f"not sent: the application is now {status}"
                return _Claim(None, obsolete=True)
        notice.status, notice.attempts, notice.next_attempt_at = NoticeStatus.SENDING.value, notice.attempts + 1, now + LEASE
        return _Claim(OutgoingNotice(
            id=notice.id, channel=notice.channel, recipient=notice.recipient, subject=notice.subject,
            body=notice.body, dedupe_key=notice.dedupe_key, attempt=notice.attempts,
        ))


def _send(provider: NoticeProvider | None, notice: OutgoingNotice) -> tuple[str, str | None]:
    """("sent", message id) or ("rejected" | "unavailable", error text)."""
    if provider is None:
        return "unavailable", f"no provider configured for {notice.channel}"
    try:
        return "sent", provider.send(notice)
    except ProviderRejected as e:
        return "rejected", str(e) or "rejected"
    except ProviderUnavailable as e:
        return "unavailable", str(e) or "unavailable"
    except Exception as e:  # a provider bug: keep the notice, retry later
        log.exception("notice %s: provider %r failed", notice.id, provider)
        return "unavailable", f"{type(e).__name__}: {e}"


def _result(session: Session, notice: OutgoingNotice, outcome: str, detail: str | None, now: datetime) -> tuple[dict, str]:
    """(column values, count name) for the attempt's outcome."""
    if outcome == "sent":
        return {"status": NoticeStatus.SENT.value, "sent_at": now, "provider_message_id": detail}, "sent"
    error = (detail or outcome)[:300]
    if outcome == "rejected":
        return {"status": NoticeStatus.FAILED.value, "last_error": error}, "failed"
    created = session.scalar(select(Notice.created_at).where(Notice.id == notice.id))
    next_at = now + retry_delay(notice.attempt)
    if created is not None and next_at - created > GIVE_UP_AFTER:
        return {"status": NoticeStatus.GAVE_UP.value, "last_error": error}, "gave_up"
    return {"status": NoticeStatus.PENDING.value, "next_attempt_at": next_at, "last_error": error}, "retrying"


def _record(factory: sessionmaker, notice: OutgoingNotice, outcome: str, detail: str | None, now: datetime) -> str:
    """Write the attempt's result (step 3), trying a few times when the database fails;
    returns the count it belongs to."""
    for attempt in range(1, _RECORD_TRIES + 1):
        try:
            with factory() as session, session.begin():
                values, result = _result(session, notice, outcome, detail, now)
                done = session.execute(update(Notice).where(
                    Notice.id == notice.id, Notice.status == NoticeStatus.SENDING.value,
                    Notice.attempts == notice.attempt,
                ).values(**values).execution_options(synchronize_session=False)).rowcount
        except Exception:
            if attempt == _RECORD_TRIES:
                log.exception("notice %s: recording %s failed; it is sent again when its lease ends", notice.id, outcome)
                raise
            time.sleep(0.2 * attempt)
            continue
        if done != 1:
            log.warning("notice %s: attempt %s outlived its lease; its result (%s) was not recorded",
                        notice.id, notice.attempt, result)
        return result
    raise AssertionError("unreachable")


def deliver_due(
    session_factory: sessionmaker, providers: dict[str, NoticeProvider], now: datetime | None = None, batch: int = 20,
) -> dict[str, int]:
    """Deliver up to ``batch`` due notices (see the module docstring); safe to run in
    several processes at once. ``session_factory``: a sessionmaker (``Database.Session``);
    ``now``: the time of every step (default: the clock, read per notice).

    Returns counts: {"sent", "retrying", "failed", "gave_up"} (``gave_up`` includes notices
    not sent because their application moved on before they could be)."""
    counts = dict.fromkeys(("sent", "retrying", "failed", "gave_up"), 0)
    down: set[str] = set()
    for _ in range(batch):
        claim = _claim(session_factory, now or utcnow(), down)
        if claim is None:
            break
        notice = claim.notice
        if claim.obsolete or notice is None:  # an obsolete claim carries no notice
            counts["gave_up"] += 1
            continue
        outcome, detail = _send(providers.get(notice.channel), notice)
        if outcome == "unavailable":
            down.add(notice.channel)
            log.warning("notice %s via %s: %s (attempt %s)", notice.id, notice.channel, detail, notice.attempt)
        elif outcome == "rejected":
            log.warning("notice %s via %s rejected: %s", notice.id, notice.channel, detail)
        counts[_record(session_factory, notice, outcome, detail, now or utcnow())] += 1
    return counts

