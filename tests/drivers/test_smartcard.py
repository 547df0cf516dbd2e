"""Smartcard driver against a real PC/SC stack: a private pcscd with the vpcd driver
(tests.support.pcsc_stack), the virtual card in its own process (tests.support.vicc),
pyscard in this process."""
from __future__ import annotations

import threading
import time

import pytest

from drivers.errors import DeviceError, DeviceUnavailable
from drivers.smartcard import CardEvent, CardEventKind, CardReaderState, CardWatcher, list_readers, read_card
from tests.support.pcsc_stack import PcscStack
from drivers.smartcard.reader import CARD_REMOVED, READER_GONE
from tests.support.vicc import DEFAULT_ATR, VirtualCard, answer_apdu
from tests.live import wait_for

READERS = ["Loket Test A", "Loket Test B"]
KTP_UID = "04A1B2C3D4E5F6"
OTHER_UID = "04112233445566"


class Events:
    """Collects watcher events; ``wait`` blocks until one of a kind arrives."""

    def __init__(self) -> None:
        self.items: list[CardEvent] = []
        self._cond = threading.Condition()

    def __call__(self, event: CardEvent) -> None:
        with self._cond:
            self.items.append(event)
            self._cond.notify_all()

    def wait(self, kind: CardEventKind, after: int = 0, timeout: float = 10.0) -> CardEvent:
        """The first ``kind`` event at index ≥ ``after``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.items[after:]:
                    if event.event is kind:
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    got = [(e.event.value, e.error) for e in self.items]
                    pytest.fail(f"no {kind.value} event within {timeout} s; got {got}")
                self._cond.wait(left)

    def kinds(self, after: int = 0) -> list[str]:
        with self._cond:
            return [e.event.value for e in self.items[after:]]

    def __len__(self) -> int:
        with self._cond:
            return len(self.items)


@pytest.fixture(scope="module")
def pcsc():
    """A private pcscd with two vpcd entries: readers 'Loket Test A 00 00/01', 'Loket Test B 00 00/01'."""
    stack = PcscStack(READERS).start()
    yield stack
    stack.close()


@pytest.fixture
def card_a(pcsc):
    """The virtual card for 'Loket Test A 00 00', off the reader; gone from PC/SC afterwards."""
    with VirtualCard(pcsc.reader("Loket Test A 00 00").port, uid=KTP_UID) as card:
        yield card
    # pcscd notices a card gone at its next poll: let it, so the next test starts clean
    wait_for(lambda: pcsc.proc is None or not present("Loket Test A 00 00"), what="card gone from PC/SC")


@pytest.fixture
def watcher(pcsc):
    """A watcher bound to 'Loket Test A 00 00' and its event list."""
    events = Events()
    w = CardWatcher(events, reader="Loket Test A 00 00", wait_ms=500, retry_s=0.2)
    w.start()
    events.wait(CardEventKind.READER_ADDED)
    yield w, events
    w.stop()


def present(reader: str) -> bool:
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        hr, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
        return hr == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(ctx)


# -- the virtual card's APDU answers (no PC/SC needed) -----------------------------------
def test_virtual_card_answers_like_a_contactless_reader():
    uid = bytes.fromhex(KTP_UID)
    assert answer_apdu(bytes.fromhex("FFCA000000"), uid) == uid + b"\x90\x00"
    assert answer_apdu(bytes.fromhex("FFCA000007"), uid) == uid + b"\x90\x00"
    assert answer_apdu(bytes.fromhex("FFCA000004"), uid) == b"\x6c\x07"  # wrong Le: here is the right one
    assert answer_apdu(bytes.fromhex("FFCA010000"), uid) == b"\x6a\x81"  # ATS: not supported
    assert answer_apdu(bytes.fromhex("00A4040007A0000000031010"), uid) == b"\x6a\x82"  # SELECT: no such file
    assert answer_apdu(bytes.fromhex("00B0000000"), uid) == b"\x6d\x00"


# -- through pcscd ------------------------------------------------------------------------
def test_stack_lists_its_readers(pcsc):
    names = list_readers()
    assert names == [r.name for r in pcsc.readers]
    assert names == ["Loket Test A 00 00", "Loket Test A 00 01", "Loket Test B 00 00", "Loket Test B 00 01"]


def test_read_card_gives_uid_and_atr(pcsc, card_a):
    from smartcard import scard

    card_a.insert()
    wait_for(lambda: present("Loket Test A 00 00"), what="card present in PC/SC")
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        read = read_card(ctx, "Loket Test A 00 00")
    finally:
        scard.SCardReleaseContext(ctx)
    assert (read.uid, read.atr, read.problem) == (KTP_UID, DEFAULT_ATR, None)


def test_card_pulled_mid_read_raises_device_error(pcsc, card_a):
    from smartcard import scard

    card_a.insert()
    wait_for(lambda: present("Loket Test A 00 00"), what="card present in PC/SC")
    card_a.arm_pull()  # the GET DATA finds the card gone
    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        with pytest.raises(DeviceUnavailable) as caught:
            read_card(ctx, "Loket Test A 00 00")
        assert str(caught.value) == CARD_REMOVED
        card_a.expect("pulled")
        with pytest.raises(DeviceError) as caught:  # and the reader now says: no card
            read_card(ctx, "Loket Test A 00 00")
        assert isinstance(caught.value, DeviceUnavailable)
        with pytest.raises(DeviceUnavailable) as caught:
            read_card(ctx, "No Such Reader 00 00")
        assert str(caught.value) == READER_GONE
    finally:
        scard.SCardReleaseContext(ctx)


def test_insert_then_remove_gives_events(watcher, card_a):
    w, events = watcher
    assert w.status().state is CardReaderState.OK and w.status().readers == ("Loket Test A 00 00",)
    mark = len(events)
    card_a.insert()
    inserted = events.wait(CardEventKind.INSERTED, mark)
    assert (inserted.reader, inserted.uid, inserted.atr, inserted.error) == ("Loket Test A 00 00", KTP_UID,
                                                                             DEFAULT_ATR, None)
    assert inserted.as_payload() == {"event": "inserted", "reader": "Loket Test A 00 00", "uid": KTP_UID,
                                     "atr": DEFAULT_ATR, "at": inserted.at.isoformat()}
    assert w.cards()["Loket Test A 00 00"] == inserted
    card_a.remove()
    removed = events.wait(CardEventKind.REMOVED, mark)
    assert (removed.reader, removed.uid, removed.atr) == ("Loket Test A 00 00", KTP_UID, DEFAULT_ATR)
    assert w.cards() == {}
    assert events.kinds(mark) == ["inserted", "removed"]


def test_card_already_on_the_reader_is_reported_at_start(pcsc, card_a):
    card_a.insert()
    wait_for(lambda: present("Loket Test A 00 00"), what="card present in PC/SC")
    events = Events()
    w = CardWatcher(events, reader="Test A 00 00", wait_ms=500)
    w.start()
    try:
        assert events.wait(CardEventKind.INSERTED).uid == KTP_UID
        assert events.kinds() == ["reader_added", "inserted"]
    finally:
        w.stop()
    assert w.status().state is CardReaderState.OFFLINE  # stopped


def test_card_pulled_mid_read_gives_a_clean_event_then_reads_again(watcher, card_a):
    w, events = watcher
    mark = len(events)
    card_a.arm_pull()
    card_a.insert()
    failed = events.wait(CardEventKind.READ_FAILED, mark)
    assert (failed.reader, failed.uid, failed.error) == ("Loket Test A 00 00", None, CARD_REMOVED)
    assert failed.atr == DEFAULT_ATR  # PC/SC had the ATR before the GET DATA
    card_a.expect("pulled")
    time.sleep(1.0)  # pcscd sees the card gone at its next poll: no "removed" for a card never reported
    assert events.kinds(mark) == ["read_failed"] and w.cards() == {}
    assert w.status().state is CardReaderState.OK
    card_a.insert()  # tapped again
    assert events.wait(CardEventKind.INSERTED, mark).uid == KTP_UID


def test_swapped_card_gives_removed_then_inserted(watcher, card_a):
    w, events = watcher
    mark = len(events)
    card_a.insert()
    events.wait(CardEventKind.INSERTED, mark)
    card_a.remove()
    card_a.set_uid(OTHER_UID)
    card_a.insert()
    second = wait_for(lambda: [e for e in events.items[mark:] if e.event is CardEventKind.INSERTED][1:],
                      what="second card")[0]
    assert second.uid == OTHER_UID
    assert events.kinds(mark) == ["inserted", "removed", "inserted"]
    assert events.items[mark + 1].uid == KTP_UID


def test_card_replaced_before_pcscd_polls_is_read(pcsc):
    """One card leaves and another arrives before pcscd's next poll: PC/SC may still say
    "present" and a first connect meet the card that left; the watcher retries and reports
    the new card, never the old one."""
    reader = pcsc.reader("Loket Test A 00 01")
    with VirtualCard(reader.port, uid=KTP_UID) as first:
        first.insert()
        wait_for(lambda: present(reader.name), what="first card present")
    with VirtualCard(reader.port, uid=OTHER_UID) as second:
        second.insert()
        events = Events()
        w = CardWatcher(events, reader=reader.name, wait_ms=500)
        w.start()
        try:
            assert events.wait(CardEventKind.INSERTED).uid == OTHER_UID
            assert KTP_UID not in [e.uid for e in events.items]
        finally:
            w.stop()
    wait_for(lambda: not present(reader.name), what="card gone")


def test_watcher_bound_by_name_ignores_other_readers(pcsc):
    events = Events()
    w = CardWatcher(events, reader="loket test b 00 01", wait_ms=500)  # case-insensitive part of the name
    w.start()
    try:
        assert events.wait(CardEventKind.READER_ADDED).reader == "Loket Test B 00 01"
        with VirtualCard(pcsc.reader("Loket Test A 00 00").port, uid=KTP_UID) as on_a, \
                VirtualCard(pcsc.reader("Loket Test B 00 01").port, uid=OTHER_UID) as on_b:
            on_a.insert()
            wait_for(lambda: present("Loket Test A 00 00"), what="card on A")
            on_b.insert()
            inserted = events.wait(CardEventKind.INSERTED)
            assert (inserted.reader, inserted.uid) == ("Loket Test B 00 01", OTHER_UID)
            time.sleep(0.5)
            assert events.kinds() == ["reader_added", "inserted"]
            assert w.status().readers == ("Loket Test B 00 01",)
    finally:
        w.stop()
    wait_for(lambda: not present("Loket Test A 00 00"), what="card gone from A")


def test_reader_gone_and_back(pcsc, watcher, card_a):
    """pcscd stops (reader gone), comes back without our reader, then with it."""
    w, events = watcher
    card_a.insert()
    events.wait(CardEventKind.INSERTED)
    mark = len(events)
    try:
        pcsc.stop()
        events.wait(CardEventKind.READER_REMOVED, mark)
        assert events.kinds(mark) == ["removed", "reader_removed"]
        status = wait_for(lambda: (lambda s: s if s.state is CardReaderState.OFFLINE else None)(w.status()),
                          what="offline")
        assert "pcscd" in status.detail and status.readers == ()

        pcsc.start(["Loket Test B"])  # another reader only
        status = wait_for(lambda: (lambda s: s if s.state is CardReaderState.NO_READER else None)(w.status()),
                          what="no_reader")
        assert "Loket Test A 00 00" in status.detail
        assert events.kinds(mark) == ["removed", "reader_removed"]

        pcsc.restart(READERS)  # our reader is back, with the card still lying on it
        events.wait(CardEventKind.READER_ADDED, mark)
        assert events.wait(CardEventKind.INSERTED, mark).uid == KTP_UID
        assert events.kinds(mark) == ["removed", "reader_removed", "reader_added", "inserted"]
        assert w.status().state is CardReaderState.OK
    finally:
        if pcsc.proc is None or pcsc.names != READERS:
            pcsc.restart(READERS)


def test_no_pyscard_exception_escapes_when_the_service_is_down(pcsc):
    """Without pcscd: listing raises DeviceUnavailable and a watcher waits in OFFLINE."""
    pcsc.stop()
    try:
        with pytest.raises(DeviceUnavailable) as caught:
            list_readers()
        assert "pcscd" in str(caught.value)
        events = Events()
        w = CardWatcher(events, wait_ms=300, retry_s=0.2)
        w.start()
        try:
            time.sleep(0.5)
            assert w.status().state is CardReaderState.OFFLINE and events.kinds() == []
            pcsc.start(READERS)
            wait_for(lambda: w.status().state is CardReaderState.OK, what="watcher ok after pcscd started")
            wait_for(lambda: len(events) == 4, what="four readers added")
            assert events.kinds() == ["reader_added"] * 4
        finally:
            w.stop()
    finally:
        if pcsc.proc is None:
            pcsc.start(READERS)
