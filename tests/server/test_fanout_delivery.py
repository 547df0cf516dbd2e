"""The per-worker delivery (server/realtime/delivery.py) on a busy office: entries next in
line together go out in one frame, entries always in flight between workers are not read
from the database, and a bus that closes gaps late makes the grace longer, within a bound,
while a lost entry is still read. SQLite and PostgreSQL."""
from __future__ import annotations

from server.realtime.delivery import SLOW_WINDOW_S, Delivery
from tests.realtime.test_delivery import Screens, _issue, logged  # noqa: F401  (logged: fixture)


def test_a_commits_entries_and_entries_read_together_go_out_in_one_frame(database, logged):
    office_id, entries = logged
    _issue(database, office_id, 4)
    public = [e for e in entries if e.stream == "public"]
    screens = Screens()
    delivery = Delivery(screens.emit, database)
    delivery.receive(public[:2])
    delivery.receive(public[2:])
    assert screens.frames == [("public", [1, 2]), ("public", [3, 4, 5])]
    assert screens.positions() == [1, 2, 3, 4, 5]


def test_entries_in_flight_at_every_look_are_not_read_from_the_database(database, logged):
    office_id, entries = logged
    screens = Screens()
    delivery = Delivery(screens.emit, database, grace_s=0.3, poll_s=1.0, clock=lambda: 0.0)
    delivery.prime()  # position 1 of each stream (the catalog's resync) delivered
    _issue(database, office_id, 3)
    first = list(entries[2:])  # each ticket's public and staff entries, positions 2, 3, 4
    delivery.receive(first[:2])
    assert delivery.check(now=1.0) == 0  # the heads are ahead: maybe on their way
    delivery.receive(first[2:])  # they were
    _issue(database, office_id, 2)  # and two more are in flight at the next look
    assert delivery.check(now=2.0) == 0, "what the last look saw arrived: nothing to read"
    assert delivery.check(now=3.0) == 4, "what this look saw is still missing a look later: read"
    assert screens.positions() == [2, 3, 4, 5, 6] and screens.positions("staff") == [2, 3, 4, 5, 6]
    assert delivery.filled_count == 4

def test_a_bus_closing_gaps_late_lengthens_the_grace_within_its_bound(database, logged):
    office_id, entries = logged
    _issue(database, office_id, 6)
    public = [e for e in entries if e.stream == "public"]  # positions 1..7
    screens, clock = Screens(), [0.0]
    delivery = Delivery(screens.emit, database, grace_s=0.3, poll_s=1000, max_grace_s=1.0, clock=lambda: clock[0])
    delivery.receive([public[0]])
    delivery.receive([public[2]])  # position 2 on its way
    clock[0] = 0.6
    delivery.receive([public[1]])  # closed by the bus after 0.6 s
    assert screens.positions() == [1, 2, 3]
    assert delivery.grace(0.6) == 0.6 * 1.5
    delivery.receive([public[4]])  # position 4 lost
    clock[0] = 1.3
    assert delivery.check(now=1.3) == 0, "0.7 s: within the longer grace"
    clock[0] = 1.6
    assert delivery.check(now=1.6) == 2, "read after 0.9 s"
    assert screens.positions() == [1, 2, 3, 4, 5]
    # slower still: the grace stops at max_grace_s; and it is back to grace_s once the bus is quick again
    delivery.receive([public[6]])  # position 6 on its way for 3 s
    clock[0] = 4.6
    delivery.receive([public[5]])
    assert delivery.grace(4.6) == 1.0
    assert delivery.grace(4.6 + SLOW_WINDOW_S + 0.1) == 0.3
    assert screens.positions() == [1, 2, 3, 4, 5, 6, 7] and delivery.filled_count == 2
