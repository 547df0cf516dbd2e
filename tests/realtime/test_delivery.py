"""The per-worker delivery of the office event log (server/realtime/delivery.py) and the
``sync`` answers (server/realtime/replay.py) on a real database, SQLite and PostgreSQL:
entries out of order, twice, lost on the way, pruned; replay from memory and from the
database; the full state when a replay cannot be made."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from server.models import StreamEntry
from server.realtime import replay
from server.realtime.delivery import Delivery
from server.services import events, stream_log
from server.services.actors import PUBLIC, SYSTEM
from server.services.catalog import DEMO_CATALOG, load_catalog_file
from server.services.queue import issue_ticket
from tests.conftest import wib

T0 = wib(8, 0)


class Screens:
    """What the local clients received: (name, position) per stream, in emit order."""

    def __init__(self) -> None:
        self.got: dict[str, list[tuple[str, int]]] = {"public": [], "staff": []}
        self.frames: list[tuple[str, list[int]]] = []  # one per emit: the positions it carried

    def emit(self, message: str, entries: list[dict], rooms: list[str]) -> None:
        assert message == "entries"
        stream = "staff" if rooms[0].endswith(":counter") else "public"
        self.frames.append((stream, [e["data"]["position"] for e in entries]))
        self.got[stream] += [(e["name"], e["data"]["position"]) for e in entries]

    def positions(self, stream: str = "public") -> list[int]:
        return [p for _n, p in self.got[stream]]


@pytest.fixture
def logged(database):
    """(office id, entries published so far): every commit's entries are collected."""
    entries: list = []
    events.install(database.Session, lambda _evs, new: entries.extend(new))
    with database.session() as s:
        office_id = load_catalog_file(s, DEMO_CATALOG, actor=SYSTEM).id
    return office_id, entries


def _issue(database, office_id, n: int = 1) -> None:
    for i in range(n):
        with database.session() as s:
            from server.models import Office

            issue_ticket(s, s.get(Office, office_id), "ktp_el", actor=PUBLIC, now=T0 + timedelta(seconds=i))


def test_entries_out_of_order_and_twice_are_emitted_once_in_order(database, logged):
    office_id, entries = logged
    _issue(database, office_id, 4)
    public = [e for e in entries if e.stream == "public"]
    assert [e.position for e in public] == [1, 2, 3, 4, 5]  # the catalog's resync, then 4 tickets
    screens = Screens()
    delivery = Delivery(screens.emit, database, grace_s=10)
    delivery.prime()  # a worker that starts now: these entries are old news
    assert screens.positions() == []
    delivery = Delivery(screens.emit, database, grace_s=10)
    delivery.receive([public[0]])
    delivery.receive([public[3], public[2]])  # two ahead of a gap, swapped
    assert screens.positions() == [1]
    delivery.receive([public[1], public[1], public[0]])
    delivery.receive([public[4], public[2]])
    assert screens.positions() == [1, 2, 3, 4, 5]
    assert screens.frames == [("public", [1]), ("public", [2, 3, 4]), ("public", [5])], \
        "the entries that become next in line together go out in one frame"
    assert [n for n, _p in screens.got["public"]] == ["resync", "ticket", "ticket", "ticket", "ticket"]


def test_a_lost_entry_is_read_from_the_database_after_the_grace(database, logged):
    office_id, entries = logged
    _issue(database, office_id, 3)
    public = [e for e in entries if e.stream == "public"]
    screens, clock = Screens(), [100.0]
    delivery = Delivery(screens.emit, database, grace_s=0.3, poll_s=60, clock=lambda: clock[0])
    delivery.receive([public[0], public[1]])
    delivery.receive([public[3]])  # position 3 never arrives (Redis down, its worker killed)
    clock[0] = 100.25
    assert delivery.check() == 0, "a young gap: the entry may still be on its way"
    assert screens.positions() == [1, 2]
    clock[0] = 100.5
    assert delivery.check() == 2  # 3 and 4 read from the database (4 then dropped as delivered)
    assert screens.positions() == [1, 2, 3, 4]


def test_a_worker_behind_the_database_heads_catches_up(database, logged):
    office_id, entries = logged
    screens = Screens()
    delivery = Delivery(screens.emit, database, grace_s=0.0, poll_s=0.0)
    delivery.prime()
    _issue(database, office_id, 2)  # committed, never published to this worker
    delivery.check(now=1.0)  # sees the heads ahead: waits one look for a live entry on its way
    assert screens.positions() == []
    delivery.check(now=2.0)
    assert screens.positions() == [2, 3] and screens.positions("staff") == [2, 3]


def test_pruned_entries_are_skipped_and_the_rest_goes_on(database, logged):
    office_id, entries = logged
    _issue(database, office_id, 3)
    public = [e for e in entries if e.stream == "public"]
    screens = Screens()
    delivery = Delivery(screens.emit, database, grace_s=0.0, poll_s=60)
    delivery.receive([public[0]])
    with database.session() as s:  # 2 and 3 are older than the retention: gone
        s.execute(update(StreamEntry).where(StreamEntry.position.in_([2, 3])).values(at=T0 - timedelta(days=3)))
        assert stream_log.prune(s, now=T0) == 4
    delivery.receive([public[3]])
    delivery.check(now=10**9)
    assert screens.positions() == [1, 4], "the gap is skipped; clients see it and load the full state"


def test_sync_answers_the_missed_entries_or_the_full_state(database, logged):
    office_id, entries = logged
    _issue(database, office_id, 3)
    log = entries[0].log
    screens = Screens()
    delivery = Delivery(screens.emit, database)
    with database.session() as s:
        first = replay.sync_answer(s, delivery, office_id, "display", None, {})
        assert first["position"] == 4 and first["log"] == log and "state" in first
        missed = replay.sync_answer(s, delivery, office_id, "display", None, {"after": 1, "log": log})
        assert [(e["name"], e["data"]["position"], e["data"]["log"]) for e in missed["entries"]] == \
            [("ticket", 2, log), ("ticket", 3, log), ("ticket", 4, log)]
        assert replay.sync_answer(s, delivery, office_id, "counter", None, {"after": 4, "log": log})["entries"] == []
        for bad in ({"after": 1, "log": "another"}, {"after": 9, "log": log}, {"after": -1, "log": log},
                    {"after": "1", "log": log}, {"after": True, "log": log}):
            assert "state" in replay.sync_answer(s, delivery, office_id, "display", None, bad), bad
    # from this worker's memory once it has delivered them
    delivery.receive([e for e in entries if e.stream == "public"])
    assert [e.position for e in delivery.cached(office_id, "public", 1, 4, log)] == [2, 3, 4]
    assert delivery.cached(office_id, "public", 1, 5, log) is None


def test_too_many_missed_entries_bring_the_full_state(database, logged, monkeypatch):
    office_id, entries = logged
    _issue(database, office_id, 3)
    monkeypatch.setattr(replay, "REPLAY_MAX", 2)
    with database.session() as s:
        answer = replay.sync_answer(s, None, office_id, "display", None, {"after": 1, "log": entries[0].log})
        assert "state" in answer and answer["position"] == 4
