"""Per-worker delivery of the office event log to this worker's own clients, in log order.

Entries (``services.stream_log.Entry``) reach a worker from three places: its own commits
(published at once), the other workers' commits (through the bus, ``realtime.bus``), and
the database (a gap that stays open). They may come late, twice or out of order;
:class:`Delivery` emits each one exactly once to the local rooms of its stream, strictly in
position order, as the socket message ``entries`` (a list: the entries that became next in
line together, e.g. a commit's, travel in one frame):

- an entry at the next position is emitted, then any held ones that follow it;
- an older one is dropped; a later one is held until the missing ones arrive;
- a gap open longer than its grace is filled from the database, and every ``poll_s`` the
  database heads are compared with what was delivered, so an entry whose live
  publication was lost (Redis down, a worker killed after its commit) is still delivered:
  entries up to a head seen at one look and still missing at a look ``grace_s`` or more
  later are read (not the ones committed since, which a busy office always has in flight).

The grace of a gap is ``grace_s``, or, when the bus closed gaps late in the last
``SLOW_WINDOW_S`` (workers short of CPU deliver each other's entries late, and each early
fill is a query for entries that are on their way), 1.5 times the longest such wait, at
most ``max_grace_s``: an entry whose publication was lost is still read within that.

It also keeps the last ``cache_size`` entries of each stream to answer a reconnecting
screen's ``sync`` without a query (:meth:`Delivery.cached`).

Emitting goes to this process's clients only (``ignore_queue``); every worker runs its own
Delivery. Thread-safe (a lock per process; greenlets under gevent).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from ..services import stream_log
from ..services.stream_log import Entry

log = logging.getLogger(__name__)

#: the one socket message of the office streams: a list of entries ``{"name", "data"}``
#: in position order (``data`` carries ``position`` and ``log``), the entries of one
#: commit (or more) in one frame
MESSAGE = "entries"
#: the Socket.IO rooms (audiences) that receive each stream, per office
STREAM_ROOMS = {"public": ("display", "kiosk", "public", "survey"), "staff": ("counter",)}
#: how long a gap the bus closed late keeps the grace of later gaps longer (s)
SLOW_WINDOW_S = 10.0


def room(office_id: int, audience: str) -> str:
    """The Socket.IO room name of ``audience`` (display, kiosk, public, survey, counter) in an office."""
    return f"o{office_id}:{audience}"


@dataclass
class _Stream:
    """What this worker has delivered of one office stream."""

    log: str
    delivered: int
    held: dict[int, Entry] = field(default_factory=dict)
    gap_since: float | None = None
    behind_since: float | None = None
    behind_upto: int = 0  # the database head when behind_since was set
    recent: deque = field(default_factory=deque)


class Delivery:
    """See the module docstring. ``emit(name, payload, rooms)`` sends to local clients;
    ``db``: the app's Database (gap fills and head checks read it); ``clock``: seconds,
    monotonic (tests pass their own)."""

    def __init__(self, emit, db, *, grace_s: float = 0.3, poll_s: float = 1.0, cache_size: int = 512,
                 max_grace_s: float = 1.0, clock=time.monotonic) -> None:
        self._emit = emit
        self._clock = clock
        self.db = db
        self.grace_s, self.poll_s, self.cache_size = grace_s, poll_s, cache_size
        self.max_grace_s = max(grace_s, max_grace_s)
        self._slow: deque[tuple[float, float]] = deque(maxlen=64)  # (when, how long) gaps the bus closed late
        self._streams: dict[tuple[int, str], _Stream] = {}
        self._lock = threading.RLock()
        self._next_poll = 0.0
        self.delivered_count = 0
        self.filled_count = 0

    # -- entries in ---------------------------------------------------------------------
    def receive(self, entries: list[Entry]) -> None:
        """Take entries from any source, in any order (see the module docstring); the ones
        of a stream that become next in line go out in one frame (a commit's entries, or
        several commits' read together)."""
        with self._lock:
            self._take_all(entries, live=True)

    def _take_all(self, entries: list[Entry], live: bool = False) -> None:
        touched: list[_Stream] = []
        for entry in sorted(entries, key=lambda e: (e.office_id, e.stream, e.position)):
            st = self._hold(entry)
            if st is not None and not any(t is st for t in touched):
                touched.append(st)
        for st in touched:
            self._drain(st, live)

    def _hold(self, entry: Entry) -> _Stream | None:
        """Hold ``entry`` in its stream (None when it was delivered already)."""
        key = (entry.office_id, entry.stream)
        st = self._streams.get(key)
        if st is None or st.log != entry.log:  # first sight, or the log was rebuilt
            st = self._streams[key] = _Stream(entry.log, entry.position - 1, recent=deque(maxlen=self.cache_size))
        if entry.position <= st.delivered:
            return None
        st.held[entry.position] = entry
        return st

    def _drain(self, st: _Stream, live: bool = False) -> None:
        ready = []
        while st.delivered + 1 in st.held:
            nxt = st.held.pop(st.delivered + 1)
            st.delivered = nxt.position
            st.recent.append(nxt)
            ready.append(nxt)
        if not ready:
            st.gap_since = (st.gap_since or self._clock()) if st.held else None
            return
        now = self._clock()
        if live and st.gap_since is not None and now - st.gap_since > self.grace_s / 2:
            self._slow.append((now, now - st.gap_since))  # the bus closed this gap late
        st.gap_since = now if st.held else None  # a gap still open is a later position's: it starts now
        self.delivered_count += len(ready)
        first = ready[0]
        try:  # one frame for the entries next in line (a commit's entries travel together)
            self._emit(MESSAGE, [e.wire() for e in ready], [room(first.office_id, a) for a in STREAM_ROOMS[first.stream]])
        except Exception:  # a broken client must not stop the others' delivery
            log.exception("emitting %s/%s..%s failed", first.office_id, first.position, ready[-1].position)

    # -- the database as the source of truth ---------------------------------------------
    def prime(self) -> None:
        """Start from the database heads (at worker start): only later entries are new."""
        with self.db.session() as s:
            heads = stream_log.heads(s)
        with self._lock:
            for h in heads:
                for stream in STREAM_ROOMS:
                    key = (h.office_id, stream)
                    if key not in self._streams:
                        self._streams[key] = _Stream(h.log, h.position(stream), recent=deque(maxlen=self.cache_size))

    def grace(self, now: float) -> float:
        """How long a gap may stay open before it is filled from the database (see the
        module docstring)."""
        while self._slow and now - self._slow[0][0] > SLOW_WINDOW_S:
            self._slow.popleft()
        worst = max((lag for _at, lag in self._slow), default=0.0)
        return min(max(self.grace_s, 1.5 * worst), self.max_grace_s)

    def check(self, now: float | None = None) -> int:
        """Fill gaps open longer than their grace (:meth:`grace`) and, every ``poll_s``,
        catch up with the database heads; returns the number of entries read from the
        database."""
        now = self._clock() if now is None else now
        wanted: list[tuple[int, str, int, int, str]] = []
        with self._lock:
            grace = self.grace(now)
            for (office_id, stream), st in self._streams.items():
                if st.held and st.gap_since is not None and now - st.gap_since >= grace:
                    wanted.append((office_id, stream, st.delivered, max(st.held), st.log))
        if now >= self._next_poll:
            self._next_poll = now + self.poll_s
            wanted += self._behind(now)
        filled = 0
        for office_id, stream, after, upto, log_id in wanted:
            filled += self._fill(office_id, stream, after, upto, log_id)
        return filled

    def _behind(self, now: float) -> list[tuple[int, str, int, int, str]]:
        with self.db.session() as s:
            heads = stream_log.heads(s)
        out = []
        with self._lock:
            for h in heads:
                for stream in STREAM_ROOMS:
                    key, top = (h.office_id, stream), h.position(stream)
                    st = self._streams.get(key)
                    if st is None or st.log != h.log:
                        self._streams[key] = _Stream(h.log, top, recent=deque(maxlen=self.cache_size))
                        continue
                    if top <= st.delivered:
                        st.behind_since = None
                    elif st.behind_since is None or st.delivered >= st.behind_upto:
                        # behind, or behind only by entries committed since the last look: a live
                        # entry may be on its way (always, while the office is busy): look again
                        st.behind_since, st.behind_upto = now, top
                    elif now - st.behind_since >= self.grace_s:  # what was seen then is still missing
                        out.append((h.office_id, stream, st.delivered, top, h.log))
        return out

    def _fill(self, office_id: int, stream: str, after: int, upto: int, log_id: str) -> int:
        with self.db.session() as s:
            entries = stream_log.entries_after(s, office_id, stream, after, upto, log_id)
        with self._lock:
            st = self._streams.get((office_id, stream))
            if st is None or st.log != log_id:
                return 0
            if entries is None:  # pruned: skip ahead (clients notice the gap and load the full state)
                log.warning("office %s %s: entries %s..%s no longer kept", office_id, stream, after + 1, upto)
                st.delivered = max(st.delivered, min(st.held, default=upto + 1) - 1)
                self._drain(st)
                entries = []
            self._take_all(entries)
            st.behind_since = None
            self.filled_count += len(entries)
        return len(entries)

    # -- replay -------------------------------------------------------------------------
    def cached(self, office_id: int, stream: str, after: int, upto: int, log_id: str) -> list[Entry] | None:
        """Entries ``after`` < position <= ``upto`` from memory, or None when not all there."""
        if upto <= after:
            return []
        with self._lock:
            st = self._streams.get((office_id, stream))
            if st is None or st.log != log_id or not st.recent or st.recent[0].position > after + 1 \
                    or st.delivered < upto:
                return None
            return [e for e in st.recent if after < e.position <= upto]
