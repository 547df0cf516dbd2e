"""Which calls a waiting-room TV speaks: every call once, whatever way it arrives.

A call (``{"id", "number", "counter_number", "kind", "at": ISO 8601}``; a recall is a call
of its own with its own id) reaches a TV live, in a replay after a reconnect or a gap, or
inside a full state. The announcer remembers every call id it has decided on: a new one
is spoken when it is fresh (made at most ``window_s`` seconds ago, by the server's clock)
and only shown otherwise; a known one is never spoken again. So after a short outage the
missed calls are spoken in order, and after a long one only the last ``window_s`` seconds
of them are (the rest are shown in the list of last calls).

The memory keeps the last ``memory`` ids (a TV page also stores them, so a reload does not
speak the same calls again). The JavaScript twin is in ``server/static/js/stream_logic.js``;
both run the cases in ``tests/realtime/stream_cases.json``.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from typing import Iterable

DEFAULT_WINDOW_S = 120.0


def call_time_ms(call: dict) -> float | None:
    """A call's ``at`` as epoch milliseconds (None when missing or malformed)."""
    try:
        return datetime.fromisoformat(str(call["at"]).replace("Z", "+00:00")).timestamp() * 1000.0
    except (KeyError, TypeError, ValueError):
        return None


class CallAnnouncer:
    """Decides which calls to speak; see the module docstring.

    ``window_s``: calls older than this (seconds, server time) are shown, not spoken.
    ``known``: call ids already decided (e.g. restored after a reload). ``memory``: ids kept.
    """

    def __init__(self, window_s: float = DEFAULT_WINDOW_S, known: Iterable[int] = (), memory: int = 500) -> None:
        self.window_s = window_s
        self.memory = memory
        self._known: OrderedDict[int, None] = OrderedDict((int(i), None) for i in known)

    def live(self, call: dict, now_ms: float) -> bool:
        """A call arriving as a message (live or replayed): True when it must be spoken."""
        if not isinstance(call, dict) or call.get("id") is None or call["id"] in self._known:
            return False
        self._remember(call["id"])
        return self._fresh(call, now_ms)

    def state(self, calls: Iterable[dict], now_ms: float) -> list[dict]:
        """Calls arriving in a full state (any order): the ones to speak, oldest first."""
        ordered = sorted((c for c in calls if isinstance(c, dict) and c.get("id") is not None),
                         key=lambda c: (call_time_ms(c) or 0.0, c["id"]))
        return [c for c in ordered if self.live(c, now_ms)]

    def known(self) -> list[int]:
        """The remembered call ids, oldest first (what a page stores)."""
        return list(self._known)

    def _fresh(self, call: dict, now_ms: float) -> bool:
        at = call_time_ms(call)
        return at is not None and now_ms - at <= self.window_s * 1000.0

    def _remember(self, call_id: int) -> None:
        self._known[call_id] = None
        while len(self._known) > self.memory:
            self._known.popitem(last=False)
