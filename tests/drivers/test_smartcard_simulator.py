"""SimulatedReader: the same CardEvents and CardReaderStatus readings as the PC/SC
CardWatcher, driven by tap / lift / unplug / plug (no PC/SC involved)."""
from __future__ import annotations

import threading

import pytest

from drivers.smartcard.events import CardEventKind as K
from drivers.smartcard.events import CardReaderState
from drivers.smartcard.pcsc import NO_READER
from drivers.smartcard.simulator import DEFAULT_ATR, READER_NAME, SimulatedReader, random_uid

UID = "04A1B2C3D4E5F6"


class Recorder:
    def __init__(self) -> None:
        self.events, self.statuses = [], []

    def kinds(self) -> list[str]:
        return [e.event.value for e in self.events]


@pytest.fixture
def rec():
    return Recorder()


@pytest.fixture
def reader(rec):
    sim = SimulatedReader(rec.events.append, on_status=rec.statuses.append)
    yield sim
    sim.stop()


def test_not_started_is_offline_and_silent(rec):
    sim = SimulatedReader(rec.events.append)
    assert sim.status().state is CardReaderState.OFFLINE
    assert sim.tap(UID) is None and sim.lift() is None
    assert rec.events == [] and sim.cards() == {}


def test_start_tap_lift(reader, rec):
    reader.start()
    reader.start()  # idempotent
    assert rec.kinds() == ["reader_added"] and rec.events[0].reader == READER_NAME
    status = reader.status()
    assert (status.state, status.readers, status.detail) == (CardReaderState.OK, (READER_NAME,), "")
    assert status.last_answer_at is not None
    assert [s.state for s in rec.statuses] == [CardReaderState.OK]

    inserted = reader.tap("04 a1 b2 c3 d4 e5 f6")
    assert (inserted.event, inserted.reader, inserted.uid, inserted.atr) == (K.INSERTED, READER_NAME, UID, DEFAULT_ATR)
    assert inserted.at is not None and inserted.error is None
    assert inserted.as_payload()["event"] == "inserted"
    assert reader.cards() == {READER_NAME: inserted}

    removed = reader.lift()
    assert (removed.event, removed.uid, removed.atr) == (K.REMOVED, UID, DEFAULT_ATR)
    assert reader.cards() == {} and reader.lift() is None
    assert rec.kinds() == ["reader_added", "inserted", "removed"]


def test_a_second_tap_lifts_the_first_card(reader, rec):
    reader.start()
    reader.tap(UID)
    other = reader.tap()  # a random new card
    assert other.uid != UID and other.uid.startswith("04") and len(other.uid) == 14
    assert rec.kinds() == ["reader_added", "inserted", "removed", "inserted"]
    assert rec.events[2].uid == UID and reader.cards()[READER_NAME].uid == other.uid


def test_unplug_and_plug_like_the_real_watcher(reader, rec):
    reader.start()
    reader.tap(UID)
    reader.unplug()
    assert rec.kinds() == ["reader_added", "inserted", "removed", "reader_removed"]
    status = reader.status()
    assert (status.state, status.readers, status.detail) == (CardReaderState.NO_READER, (), NO_READER)
    assert not reader.plugged and reader.cards() == {}
    assert reader.tap(UID) is None  # no reader, no tap
    reader.unplug()  # already out: nothing
    reader.plug()
    assert rec.kinds()[-1] == "reader_added" and reader.status().state is CardReaderState.OK
    assert [s.state for s in rec.statuses] == [CardReaderState.OK, CardReaderState.NO_READER, CardReaderState.OK]
    reader.stop()
    assert reader.status().state is CardReaderState.OFFLINE and rec.kinds()[-1] == "reader_added"


def test_reader_filter_and_bad_input(rec):
    sim = SimulatedReader(rec.events.append, reader="ACS ACR122")
    sim.start()
    assert rec.events == [] and sim.status().state is CardReaderState.NO_READER
    assert sim.status().detail == NO_READER + " ('ACS ACR122')"
    assert sim.tap(UID) is None
    ok = SimulatedReader(rec.events.append, reader="simulated")
    ok.start()
    assert ok.matches(READER_NAME) and ok.status().state is CardReaderState.OK
    with pytest.raises(ValueError):
        ok.tap("not hex")
    with pytest.raises(ValueError):
        ok.tap("ABC")  # odd length


def test_callback_errors_are_contained(caplog):
    def boom(_event):
        raise RuntimeError("boom")

    sim = SimulatedReader(boom, on_status=boom)
    sim.start()
    assert sim.tap(UID).uid == UID and "card event callback failed" in caplog.text


def test_random_uid():
    uids = {random_uid() for _ in range(50)}
    assert len(uids) == 50 and all(u.startswith("04") and len(u) == 14 and u == u.upper() for u in uids)


def test_taps_from_many_threads_stay_paired(reader, rec):
    """Concurrent taps and lifts: every inserted is followed by its own removed, never two
    cards at once, and the events are delivered one at a time."""
    inside = threading.Semaphore(1)
    overlaps = []

    def on_event(event):
        if not inside.acquire(blocking=False):
            overlaps.append(event)
            return
        rec.events.append(event)
        inside.release()

    reader.on_event = on_event
    reader.start()

    def worker():
        for _ in range(50):
            reader.tap()
            reader.lift()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert overlaps == []
    on_card = None
    for event in rec.events[1:]:
        if event.event is K.INSERTED:
            assert on_card is None
            on_card = event.uid
        else:
            assert event.event is K.REMOVED and event.uid == on_card
            on_card = None
    assert on_card is None and reader.cards() == {}
    assert rec.kinds().count("inserted") == 400 and rec.kinds().count("removed") == 400
