"""Numbering of the public stream as the display agent hears it: which events arrived,
whether one is missing, and when a ``sync`` is due (see :mod:`display.station`)."""
from __future__ import annotations

import time


class StreamOrder:
    """Tracks the public stream's numbering to notice lost messages (:mod:`display.station`)."""

    def __init__(self) -> None:
        self.epoch: str | None = None
        self.contiguous = 0
        self._seen: set[int] = set()
        self._hole_since: float | None = None

    def reset(self, seq: int, epoch: str | None) -> None:
        """After a sync answered (seq, epoch): everything up to ``seq`` is known."""
        if epoch != self.epoch:
            self._seen.clear()
        self.epoch, self.contiguous = epoch, seq
        self._seen = {s for s in self._seen if s > seq}
        self._advance()

    def saw(self, seq, epoch) -> bool:
        """Record an event's number; True when a sync is needed now (another epoch)."""
        if not isinstance(seq, int):
            return False
        if epoch != self.epoch:
            return True
        if seq > self.contiguous:
            self._seen.add(seq)
            self._advance()
        return False

    def heard(self, seq, epoch) -> bool:
        """Record a heartbeat's current number; True when a sync is needed now."""
        if not isinstance(seq, int):
            return False
        if epoch != self.epoch:
            return True
        if seq > self.contiguous and self._hole_since is None:
            self._hole_since = time.monotonic()
        return False

    def overdue(self, grace_s: float) -> bool:
        """True when a missing number has not arrived for ``grace_s`` seconds."""
        return self._hole_since is not None and time.monotonic() - self._hole_since > grace_s

    def _advance(self) -> None:
        while self.contiguous + 1 in self._seen:
            self.contiguous += 1
            self._seen.discard(self.contiguous)
        if self._seen:
            self._hole_since = self._hole_since or time.monotonic()
        else:
            self._hole_since = None
