"""Report each code once while it stays in view.

A camera sees the same ticket in every frame while the citizen holds it up (and a scanner
in presentation mode reads it again and again). The :class:`Deduplicator` lets a code
through the first time it is seen, then holds it back for as long as it keeps being seen;
only once it has been absent for ``hold_s`` seconds may it be reported again. A few frames
in which the decoder misses a code that is still in view (blur, glare) are therefore
harmless as long as the gap stays under ``hold_s``.

Memory is bounded: only codes seen within the last ``hold_s`` seconds are remembered, and
never more than ``max_codes`` of them (the one seen longest ago is forgotten first), so a
long-running agent's deduplicator does not grow with the number of codes it has read.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

#: Default bound of :class:`Deduplicator` (codes remembered at once). A camera or scanner
#: has a handful of codes in view; this many within one ``hold_s`` never happens at a station.
MAX_CODES = 256


class Deduplicator:
    """Lets each code through once per appearance.

    ``hold_s``: seconds a code must be absent before it counts as new again. ``clock``:
    the time source (seconds, monotonic) used when :meth:`feed` gets no ``now``.
    ``max_codes``: most codes remembered at once (a count, >= 1); beyond it the code seen
    longest ago is forgotten (and would count as new if seen again), so de-duplication
    within ``hold_s`` holds for up to ``max_codes`` different codes in view at once.
    """

    def __init__(self, hold_s: float = 2.0, clock: Callable[[], float] = time.monotonic,
                 max_codes: int = MAX_CODES) -> None:
        if hold_s < 0:
            raise ValueError("hold_s must be >= 0")
        if max_codes < 1:
            raise ValueError("max_codes must be >= 1")
        self.hold_s = hold_s
        self.max_codes = max_codes
        self._clock = clock
        self._last_seen: OrderedDict[str, float] = OrderedDict()  # code -> last seen, seen longest ago first

    def __len__(self) -> int:
        """Number of codes remembered now (at most ``max_codes``)."""
        return len(self._last_seen)

    def feed(self, codes: Iterable[str], now: float | None = None) -> list[str]:
        """Record the codes seen in one frame (or one scan) at ``now``; return those that
        are new, in order, each once."""
        now = self._clock() if now is None else now
        self._forget(now)
        fresh = []
        for code in codes:
            if code not in self._last_seen and code not in fresh:
                fresh.append(code)
            self._last_seen[code] = now
            self._last_seen.move_to_end(code)
            while len(self._last_seen) > self.max_codes:
                self._last_seen.popitem(last=False)
        return fresh

    def in_view(self, now: float | None = None) -> list[str]:
        """Codes seen within the last ``hold_s`` seconds (held back if seen again)."""
        now = self._clock() if now is None else now
        self._forget(now)
        return list(self._last_seen)

    def reset(self) -> None:
        """Forget every code (e.g. after the camera was lost and reopened)."""
        self._last_seen.clear()

    def _forget(self, now: float) -> None:
        gone = [code for code, seen in self._last_seen.items() if now - seen >= self.hold_s]
        for code in gone:
            del self._last_seen[code]
