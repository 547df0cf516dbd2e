"""Per-worker delivery of the office event log to this worker's own clients, in log order.

Entries (``services.stream_log.Entry``) reach a worker from three places: its own commits
(published at once), the other workers' commits (through the bus, ``realtime.bus``), and
the database (a gap that stays open). They may come late, twice or out of order;
:class:`Delivery` emits each one exactly once to the local rooms of its stream, strictly in
position order, as the socket message ``entries`` (a list: the entries that became next in
line together, e.g. a commit's, travel in one frame):

- an entry at the next position is emitted, then any held ones that follow it;
- an older one is dropped; a later one is held until the missing ones arrive;
- a gap open longer than ``grace_s`` is filled from the database, and every ``poll_s``
  the database heads are compared with what was delivered, so an entry whose live
  publication was lost (Redis down, a worker killed after its commit) is still delivered.

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
    recent: deque = field(default_factory=deque)


class Delivery:
    """See the module docstring. ``emit(name, payload, rooms)`` sends to local clients;
    ``db``: the app's Database (gap fills and head checks read it); ``clock``: seconds,
    monotonic (tests pass their own)."""

    def __init__(self, emit, db, *, grace_s: float = 0.3, poll_s: float = 1.0, cache_size: int = 512,
                 clock=time.monotonic) -> None:
        self._emit = emit
        self._clock = clock
        self.db = db
        self.grace_s, self.poll_s, self.cache_size = grace_s, poll_s, cache_size
        self._streams: dict[tuple[int, str], _Stream] = {}
        self._lock = threading.RLock()
        self._next_poll = 0.0
        self.delivered_count = 0
        self.filled_count = 0

    # -- entries in ---------------------------------------------------------------------
    def receive(self, entries: list[Entry]) -> None:
        """Take entries from any source, in any order (see the module docstring)."""
        with self._lock:
            for entry in sorted(entries, key=lambda e: (e.office_id, e.stream, e.position)):
                self._take(entry)

    def _take(self, entry: Entry) -> None:
        key = (entry.office_id, entry.stream)
        st = self._streams.get(key)
        if st is None or st.log != entry.log:  # first sight, or the log was rebuilt
            st = self._streams[key] = _Stream(entry.log, entry.position - 1, recent=deque(maxlen=self.cache_size))
        if entry.position <= st.delivered:
            return
        st.held[entry.position] = entry
        self._drain(st)

    def _drain(self, st: _Stream) -> None:
        ready = []
        while st.delivered + 1 in st.held:
            nxt = st.held.pop(st.delivered + 1)
            st.delivered = nxt.position
            st.recent.append(nxt)
            ready.append(nxt)
        st.gap_since = (st.gap_since or self._clock()) if st.held else None
        if not ready:
            return
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

    def check(self, now: float | None = None) -> int:
        """Fill gaps open longer than ``grace_s`` and, every ``poll_s``, catch up with the
        database heads; returns the number of entries read from the database."""
        now = self._clock() if now is None else now
        wanted: list[tuple[int, str, int, int, str]] = []
        with self._lock:
            for (office_id, stream), st in self._streams.items():
                if st.held and st.gap_since is not None and now - st.gap_since >= self.grace_s:
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
                    elif st.behind_since is None:
                        st.behind_since = now  # a live entry may be on its way: look again next time
                    elif now - st.behind_since >= self.grace_s:
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
            for entry in entries:
                self._take(entry)
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
