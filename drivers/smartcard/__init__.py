"""Smartcard readers (PC/SC, pyscard): the reader watcher and a simulated reader.

- :mod:`.reader`: :class:`CardWatcher` (readers and cards → :class:`CardEvent`);
  :mod:`.events` the event and reader state types, :mod:`.pcsc` :func:`read_card` (ATR
  and UID) and :func:`list_readers`;
- :mod:`.simulator`: :class:`~.simulator.SimulatedReader`, a stand-in for the watcher
  (tap / lift / unplug / plug by hand, no PC/SC) for tests and ``loket demo``.

The test stack (a private ``pcscd`` with vsmartcard ``vpcd`` readers and a virtual card)
is test-only and not installed: ``tests/support/pcsc_stack.py``, ``tests/support/vicc.py``.

The KTP-el chip is contactless ISO 14443; its personal data needs the SAM only Dukcapil
issues, so Loket reads only the card's UID and ATR. The UID proves "this card", never who
holds it.
"""
from .reader import (
    SERVER_EVENTS, CardEvent, CardEventKind, CardRead, CardReaderState, CardReaderStatus, CardWatcher, list_readers,
    read_card,
)

__all__ = [
    "SERVER_EVENTS", "CardEvent", "CardEventKind", "CardRead", "CardReaderState", "CardReaderStatus", "CardWatcher",
    "list_readers", "read_card",
]
