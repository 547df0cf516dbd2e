"""What the card reader watcher reports: the reader states, the event kinds (and which the
server accepts), one :class:`CardEvent` per reader or card change, and status readings."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timezone


def iso(moment: datetime | None) -> str | None:
    """``moment`` in ISO 8601, or None."""
    return moment.isoformat() if moment else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


class CardReaderState(enum.Enum):
    """What the station's card reader can do right now."""

    OK = "ok"
    """PC/SC runs and the (bound) reader is connected: taps are read."""

    NO_READER = "no_reader"
    """PC/SC runs but no reader (matching the bound name) is connected: plug one in."""

    OFFLINE = "offline"
    """The PC/SC service (pcscd) does not answer: the watcher retries until it does."""

    ERROR = "error"
    """PC/SC answered with an unexpected error; ``detail`` says which. The watcher retries."""


class CardEventKind(str, enum.Enum):
    """What happened at a reader. The first four are sent to the server as ``card``."""

    INSERTED = "inserted"
    """A card entered the field and was read: ``uid`` (None if the reader refused GET
    DATA, then ``error`` says why) and ``atr``."""

    REMOVED = "removed"
    """The card reported by the last ``inserted`` left the field (or its reader went away)."""

    READER_ADDED = "reader_added"
    READER_REMOVED = "reader_removed"

    READ_FAILED = "read_failed"
    """A card was seen but could not be read (pulled mid-read, mute): ``error`` says why.
    No ``inserted`` was emitted for it, so no ``removed`` follows."""


SERVER_EVENTS = frozenset({CardEventKind.INSERTED, CardEventKind.REMOVED, CardEventKind.READER_ADDED,
                           CardEventKind.READER_REMOVED})
"""The kinds the server's ``card`` handler accepts."""


@dataclass(frozen=True)
class CardEvent:
    """One reader or card event.

    ``uid``/``atr``: upper-case hex without spaces (None when not known); ``at``: when
    PC/SC reported it (UTC); ``error``: a short bilingual reason for staff, or None.
    """

    event: CardEventKind
    reader: str
    uid: str | None = None
    atr: str | None = None
    at: datetime = field(default_factory=_now)
    error: str | None = None

    def as_payload(self) -> dict:
        """The ``card`` message the activation agent sends to the server."""
        return {"event": self.event.value, "reader": self.reader, "uid": self.uid, "atr": self.atr,
                "at": self.at.isoformat()}


@dataclass(frozen=True)
class CardReaderStatus:
    """One reading of the watcher's state.

    ``readers``: the reader names watched now; ``detail``: a short reason ("" when OK);
    ``last_answer_at``: when PC/SC last answered (UTC), None if never.
    """

    state: CardReaderState
    readers: tuple[str, ...] = ()
    detail: str = ""
    last_answer_at: datetime | None = None
