"""A simulated card reader watcher for tests and ``loket demo``.

:class:`SimulatedReader` has the interface the activation agent uses from
:class:`~drivers.smartcard.reader.CardWatcher` (``on_event`` / ``reader`` / ``on_status``,
``start``, ``stop``, ``status``, ``cards``, ``matches``) and reports the same
:class:`~drivers.smartcard.events.CardEvent` objects and
:class:`~drivers.smartcard.events.CardReaderStatus` readings, driven by hand:
:meth:`~SimulatedReader.tap` (a card enters the field: ``inserted`` with UID and ATR,
after a ``removed`` of the card lying there), :meth:`~SimulatedReader.lift` (``removed``),
:meth:`~SimulatedReader.unplug` (``removed`` of a card on it, ``reader_removed``, state
``no_reader`` as the real watcher reports a reader gone while pcscd runs) and
:meth:`~SimulatedReader.plug` (``reader_added``, state ``ok``).

What it does NOT simulate: PC/SC itself (no pcscd, no pyscard, no polling delay, no
service going away), APDUs, ATR parsing, mute cards or a card pulled mid-read
(``read_failed``). It stands in for the watcher, not for the card: to test the real PC/SC
path use the test stack (test-only, not installed): ``tests/support/vicc.py`` with
``tests/support/pcsc_stack.py``. Callbacks run on the caller's thread (the real watcher
calls them on its own), one event at a time; every method is thread-safe.
"""
from __future__ import annotations

import logging
import secrets
import threading
from typing import Callable

from .events import CardEvent, CardEventKind, CardReaderState, CardReaderStatus, _now
from .pcsc import NO_READER

__all__ = ["DEFAULT_ATR", "READER_NAME", "SimulatedReader", "random_uid"]

log = logging.getLogger(__name__)

DEFAULT_ATR = "3B8F8001804F0CA000000306030001000000006A"
"""PC/SC part 3 ATR of a contactless ISO 14443 A card (the reader builds it): 3B 8F 80 01
80 4F 0C, RID A0 00 00 03 06, standard 03 (14443 A part 3), card name 00 01, TCK. The
simulated card's ATR, and the test stack's virtual card's (``tests/support/vicc.py``)."""

READER_NAME = "Loket Simulated Reader 00 00"
"""The simulated reader's PC/SC-style name."""


def random_uid() -> str:
    """A random 7-byte ISO 14443 A UID (NXP manufacturer byte 04), upper-case hex."""
    return "04" + secrets.token_hex(6).upper()


def _clean_hex(value: str, what: str) -> str:
    text = "".join(str(value).split()).replace(":", "").upper()
    if not text or len(text) % 2 or len(text) > 64 or any(c not in "0123456789ABCDEF" for c in text):
        raise ValueError(f"{what}: hex bytes expected, got {value!r}")
    return text


class SimulatedReader:
    """One simulated contactless reader, plugged in from the start (``plugged``).

    ``reader``: as for CardWatcher, the name filter; a simulated reader whose ``name`` does
    not match it is never seen (state ``no_reader``), like a real unmatched reader.
    """

    def __init__(self, on_event: Callable[[CardEvent], None], *, reader: str | None = None,
                 on_status: Callable[[CardReaderStatus], None] | None = None,
                 name: str = READER_NAME, plugged: bool = True, **_ignored) -> None:
        self.on_event, self.on_status = on_event, on_status
        self.reader = reader or None
        self.name = name
        self._plugged = plugged
        self._lock = threading.RLock()  # held while emitting: events leave in order
        self._running = False
        self._card: CardEvent | None = None
        self._status = CardReaderStatus(CardReaderState.OFFLINE, detail="belum mulai / not started")

    # -- the CardWatcher interface --------------------------------------------------------
    def start(self) -> None:
        """Start watching: ``reader_added`` and state ok when plugged (idempotent)."""
        with self._lock:
            if self._running:
                return
            self._running = True
            if self._visible():
                self._emit(CardEvent(CardEventKind.READER_ADDED, self.name))
            self._refresh_status()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching (no events); the card is forgotten, state offline."""
        with self._lock:
            self._running = False
            self._card = None
            self._set_status(CardReaderState.OFFLINE, "berhenti / stopped")

    def status(self) -> CardReaderStatus:
        with self._lock:
            return self._status

    def cards(self) -> dict[str, CardEvent]:
        with self._lock:
            return {self.name: self._card} if self._card is not None else {}

    def matches(self, name: str) -> bool:
        return self.reader is None or self.reader.casefold() in name.casefold()

    # -- driving it -----------------------------------------------------------------------
    @property
    def plugged(self) -> bool:
        with self._lock:
            return self._plugged

    def tap(self, uid: str | None = None, atr: str = DEFAULT_ATR) -> CardEvent | None:
        """A card enters the field (a random UID when None). A card already there is
        lifted first (``removed``), as the real watcher reports a swap. Returns the
        ``inserted`` event, or None when the reader is not plugged / not watched."""
        uid = _clean_hex(uid, "uid") if uid else random_uid()
        atr = _clean_hex(atr, "atr")
        with self._lock:
            if not (self._running and self._visible()):
                return None
            self._lift()
            event = CardEvent(CardEventKind.INSERTED, self.name, uid, atr)
            self._card = event
            self._emit(event)
            return event

    def lift(self) -> CardEvent | None:
        """The card leaves the field: its ``removed`` event, or None when there is none."""
        with self._lock:
            return self._lift()

    def unplug(self) -> None:
        """The reader is pulled out: ``removed`` (a card on it), ``reader_removed``, no_reader."""
        with self._lock:
            if not self._plugged:
                return
            visible = self._running and self._visible()
            self._plugged = False
            if visible:
                self._lift()
                self._emit(CardEvent(CardEventKind.READER_REMOVED, self.name))
            self._card = None
            self._refresh_status()

    def plug(self) -> None:
        """The reader is plugged in again: ``reader_added``, state ok."""
        with self._lock:
            if self._plugged:
                return
            self._plugged = True
            if self._running and self._visible():
                self._emit(CardEvent(CardEventKind.READER_ADDED, self.name))
            self._refresh_status()

    # -- helpers (called with the lock held) ----------------------------------------------
    def _visible(self) -> bool:
        return self._plugged and self.matches(self.name)

    def _lift(self) -> CardEvent | None:
        card, self._card = self._card, None
        if card is None:
            return None
        event = CardEvent(CardEventKind.REMOVED, self.name, card.uid, card.atr)
        self._emit(event)
        return event

    def _refresh_status(self) -> None:
        if not self._running:
            return
        if self._visible():
            self._set_status(CardReaderState.OK, "", (self.name,))
        else:
            bound = f" ('{self.reader}')" if self.reader else ""
            self._set_status(CardReaderState.NO_READER, NO_READER + bound)

    def _set_status(self, state: CardReaderState, detail: str, readers: tuple[str, ...] = ()) -> None:
        old = self._status
        self._status = CardReaderStatus(state, readers, detail, _now())
        if (old.state, old.readers, old.detail) != (state, readers, detail) and self.on_status is not None:
            try:
                self.on_status(self._status)
            except Exception:
                log.exception("card reader status callback failed")

    def _emit(self, event: CardEvent) -> None:
        log.info("simulated card event: %s %s uid=%s", event.event.value, event.reader, event.uid)
        try:
            self.on_event(event)
        except Exception:
            log.exception("card event callback failed")
