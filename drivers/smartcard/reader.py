"""PC/SC card readers on pyscard: watch readers come and go and cards being tapped.

What Loket reads, and why only that: the KTP-el chip is a contactless ISO 14443 card.
Reading the holder's personal data (and verifying the fingerprint) needs the SAM that
only Dukcapil issues, so Loket reads only what any PC/SC contactless reader gives without
it: the **UID** (PC/SC GET DATA ``FF CA 00 00 00``) and the **ATR** (which a contactless
reader builds from the card type). The UID proves "this is the same card", never who
holds it: a UID says which card was printed for which application, never the identity of
the person at the counter.

:class:`CardWatcher` runs one thread blocked in ``SCardGetStatusChange`` (readers plus
the PnP notification pseudo-reader) and turns what PC/SC reports into :class:`CardEvent`
objects: ``reader_added``, ``reader_removed``, ``inserted`` (with UID and ATR),
``removed`` and ``read_failed`` (a card pulled mid-read, a mute card). Every pyscard
error becomes a :class:`~drivers.errors.DeviceError` or
:class:`~drivers.errors.DeviceUnavailable` with a short bilingual reason; nothing raw
escapes, and the thread survives the PC/SC service going away (it reconnects).

PC/SC facts this relies on (pcsc-lite 1.9): pcscd polls each reader for a card (every
~400 ms for drivers without card events, such as vpcd), so a tap is seen up to that
late; the high 16 bits of a reader's event state count card insertions and removals,
which lets us notice a card swapped between two polls; ``SCardCancel`` from another
thread wakes a blocked ``SCardGetStatusChange``. The client library reads
``PCSCLITE_CSOCK_NAME`` (the daemon's socket) once per process, at the first call.

The PC/SC calls (:func:`read_card`, :func:`list_readers`, result codes to errors) are in
:mod:`.pcsc`, the event and state types in :mod:`.events`; their names are importable
from here as well.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Callable

from drivers.errors import DeviceError, DeviceUnavailable

from .events import SERVER_EVENTS, CardEvent, CardEventKind, CardReaderState, CardReaderStatus, _now, iso
from .pcsc import (
    CARD_MUTE, CARD_REMOVED, GET_UID_APDU, NO_READER, NO_SERVICE, PNP_NOTIFICATION, READER_BUSY, READER_GONE, CardRead,
    _code, _scard, list_readers, pcsc_message, read_card,
)

__all__ = [
    "CARD_MUTE", "CARD_REMOVED", "GET_UID_APDU", "NO_READER", "NO_SERVICE", "PNP_NOTIFICATION", "READER_BUSY",
    "READER_GONE", "SERVER_EVENTS", "CardEvent", "CardEventKind", "CardRead", "CardReaderState", "CardReaderStatus",
    "CardWatcher", "iso", "list_readers", "pcsc_message", "read_card",
]

log = logging.getLogger(__name__)


class _ServiceGone(Exception):
    """Internal: our PC/SC context is unusable; drop it and reconnect."""


class CardWatcher:
    """Watches PC/SC readers and cards in a thread; calls ``on_event(CardEvent)``.

    ``reader``: watch only readers whose name contains this text (case-insensitive; an
    exact name works too), None for all. ``on_status(CardReaderStatus)`` is called when
    the state changes. ``wait_ms``: longest single wait in PC/SC (stop wakes it at once
    anyway); ``retry_s``: pause before reconnecting to a PC/SC service that went away;
    ``read_attempts``/``read_retry_s``: reads of one tap while PC/SC still reports the card.
    Callbacks run on the watcher thread; their exceptions are logged, never raised.
    The wait blocks in C: run the watcher in a process without gevent's monkey patch.
    """

    def __init__(self, on_event: Callable[[CardEvent], None], *, reader: str | None = None,
                 on_status: Callable[[CardReaderStatus], None] | None = None,
                 wait_ms: int = 1000, retry_s: float = 1.0, read_attempts: int = 3,
                 read_retry_s: float = 0.2) -> None:
        self.on_event, self.on_status = on_event, on_status
        self.reader = reader or None
        self.wait_ms, self.retry_s = wait_ms, retry_s
        self.read_attempts, self.read_retry_s = max(1, read_attempts), read_retry_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._context: int | None = None
        self._states: dict[str, int] = {}  # watched reader -> last event state we saw
        self._cards: dict[str, CardEvent] = {}  # reader -> the inserted event of its card
        self._pnp_state = 0
        self._status = CardReaderStatus(CardReaderState.OFFLINE, detail="belum mulai / not started")

    # -- public -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the watcher thread (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        _scard()  # raise the install hint here, not on the thread
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="card-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (wakes a blocked PC/SC wait) and release the context."""
        self._stop.set()
        with self._lock:
            context = self._context
        if context is not None:
            try:
                _scard().SCardCancel(context)
            except Exception as exc:  # the wait ends within wait_ms anyway
                log.debug("SCardCancel: %s", exc)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def status(self) -> CardReaderStatus:
        """The current state (thread-safe snapshot)."""
        with self._lock:
            return self._status

    def cards(self) -> dict[str, CardEvent]:
        """Reader name → the ``inserted`` event of the card on it now."""
        with self._lock:
            return dict(self._cards)

    def matches(self, name: str) -> bool:
        """True when ``name`` is a reader this watcher is bound to."""
        return self.reader is None or self.reader.casefold() in name.casefold()

    # -- the thread ---------------------------------------------------------------------
    def _run(self) -> None:
        scard = _scard()
        while not self._stop.is_set():
            try:
                if self._context is None and not self._establish(scard):
                    self._stop.wait(self.retry_s)
                    continue
                self._refresh_readers(scard)
                self._wait_once(scard)
            except _ServiceGone as exc:
                self._lose_service(scard, CardReaderState.OFFLINE, f"{NO_SERVICE}: {exc}")
                self._stop.wait(self.retry_s)
            except Exception as exc:  # the thread must outlive anything PC/SC does
                log.exception("card watcher")
                self._lose_service(scard, CardReaderState.ERROR, f"PC/SC: {exc}")
                self._stop.wait(self.retry_s)
        self._lose_service(scard, CardReaderState.OFFLINE, "berhenti / stopped", emit=False)

    def _establish(self, scard) -> bool:
        hr, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hr != scard.SCARD_S_SUCCESS:
            self._set_status(CardReaderState.OFFLINE, f"{NO_SERVICE}: {pcsc_message(hr)}")
            return False
        with self._lock:
            self._context = context
        self._pnp_state = scard.SCARD_STATE_UNAWARE
        return True

    def _refresh_readers(self, scard) -> None:
        hr, names = scard.SCardListReaders(self._context, [])
        if _code(hr) == _code(scard.SCARD_E_NO_READERS_AVAILABLE):
            names = []
        elif hr != scard.SCARD_S_SUCCESS:
            raise _ServiceGone(pcsc_message(hr))
        present = [n for n in names if self.matches(n)]
        for name in [n for n in self._states if n not in present]:
            self._drop_reader(name)
        for name in present:
            if name not in self._states:
                self._states[name] = scard.SCARD_STATE_UNAWARE
                self._emit(CardEvent(CardEventKind.READER_ADDED, name))
        if present:
            self._set_status(CardReaderState.OK, "", answered=True)
        else:
            bound = f" ('{self.reader}')" if self.reader else ""
            self._set_status(CardReaderState.NO_READER, NO_READER + bound, answered=True)

    def _wait_once(self, scard) -> None:
        watched = list(self._states)
        request = [(name, self._states[name]) for name in watched] + [(PNP_NOTIFICATION, self._pnp_state)]
        hr, result = scard.SCardGetStatusChange(self._context, self.wait_ms, request)
        code = _code(hr)
        if code in (_code(scard.SCARD_E_TIMEOUT), _code(scard.SCARD_E_CANCELLED)):
            self._set_status(self._status.state, self._status.detail, answered=True)
            return
        if code == _code(scard.SCARD_E_UNKNOWN_READER):
            return  # a reader left between the listing and the wait: list again
        if hr != scard.SCARD_S_SUCCESS:
            raise _ServiceGone(pcsc_message(hr))
        detected = _now()
        gone_bits = scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_IGNORE
        for name, event_state, atr in result:
            if name == PNP_NOTIFICATION:
                self._pnp_state = event_state & ~scard.SCARD_STATE_CHANGED
                continue
            if name not in self._states or event_state & gone_bits:
                continue  # the listing at the top of the next round drops it
            if event_state & scard.SCARD_STATE_CHANGED:
                self._reader_changed(scard, name, self._states[name], event_state, atr, detected)
                self._states[name] = event_state & ~scard.SCARD_STATE_CHANGED
        self._set_status(self._status.state, self._status.detail, answered=True)

    def _reader_changed(self, scard, name: str, old: int, new: int, atr: list, detected: datetime) -> None:
        present = bool(new & scard.SCARD_STATE_PRESENT)
        # pcsc-lite counts insertions and removals in the high 16 bits: 2+ steps while a
        # card is present on both sides means it was swapped between two polls.
        steps = ((new >> 16) - (old >> 16)) & 0xFFFF
        swapped = present and old != scard.SCARD_STATE_UNAWARE and steps >= 2
        if name in self._cards and (not present or swapped):
            gone = self._cards[name]
            with self._lock:
                del self._cards[name]
            self._emit(CardEvent(CardEventKind.REMOVED, name, gone.uid, gone.atr, detected))
        if not present or name in self._cards:
            return
        atr_hex = bytes(atr).hex().upper() or None
        if new & scard.SCARD_STATE_MUTE:
            self._emit(CardEvent(CardEventKind.READ_FAILED, name, None, atr_hex, detected, CARD_MUTE))
            return
        context = self._context
        assert context is not None  # the thread waits on an established context (_run)
        card: CardRead | None = None
        for attempt in range(self.read_attempts):
            try:
                card = read_card(context, name)
                break
            except DeviceError as exc:
                log.info("card on %s not read (attempt %d): %s", name, attempt + 1, exc)
                error = str(exc)
                # A card swapped faster than pcscd polls looks "present" all along, while
                # the first connect meets the card that left: try again while PC/SC still
                # says present. A card really pulled is soon reported absent.
                if not isinstance(exc, DeviceUnavailable) or not self._still_present(scard, name):
                    break
                self._stop.wait(self.read_retry_s)
        if card is None:
            self._emit(CardEvent(CardEventKind.READ_FAILED, name, None, atr_hex, detected, error))
            return
        event = CardEvent(CardEventKind.INSERTED, name, card.uid, card.atr, detected, card.problem)
        with self._lock:
            self._cards[name] = event
        self._emit(event)

    def _still_present(self, scard, name: str) -> bool:
        hr, result = scard.SCardGetStatusChange(self._context, 0, [(name, scard.SCARD_STATE_UNAWARE)])
        return hr == scard.SCARD_S_SUCCESS and bool(result[0][1] & scard.SCARD_STATE_PRESENT)

    def _drop_reader(self, name: str, emit: bool = True) -> None:
        self._states.pop(name, None)
        with self._lock:
            card = self._cards.pop(name, None)
        if emit:
            if card is not None:
                self._emit(CardEvent(CardEventKind.REMOVED, name, card.uid, card.atr))
            self._emit(CardEvent(CardEventKind.READER_REMOVED, name))

    def _lose_service(self, scard, state: CardReaderState, detail: str, emit: bool = True) -> None:
        for name in list(self._states):
            self._drop_reader(name, emit)
        with self._lock:
            context, self._context = self._context, None
        if context is not None:
            try:
                scard.SCardReleaseContext(context)
            except Exception as exc:
                log.debug("SCardReleaseContext: %s", exc)
        self._set_status(state, detail)

    # -- helpers ------------------------------------------------------------------------
    def _set_status(self, state: CardReaderState, detail: str, answered: bool = False) -> None:
        with self._lock:
            old = self._status
            self._status = CardReaderStatus(state, tuple(self._states), detail,
                                            _now() if answered else old.last_answer_at)
            changed = (old.state, old.readers, old.detail) != (state, self._status.readers, detail)
            status = self._status
        if changed:
            log.info("card reader: %s %s", state.value, detail)
            if self.on_status is not None:
                try:
                    self.on_status(status)
                except Exception:
                    log.exception("card reader status callback failed")

    def _emit(self, event: CardEvent) -> None:
        log.info("card event: %s %s uid=%s", event.event.value, event.reader, event.uid)
        try:
            self.on_event(event)
        except Exception:
            log.exception("card event callback failed")
