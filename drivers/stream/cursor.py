"""Which office-stream messages a client applies, in which order, and when it must ask.

The server numbers every message of an office stream (``position`` 1, 2, 3 … in commit
order, plus ``log``, the identity of that numbering; ``server.services.stream_log``). A
client keeps the last position it applied; it asks ``sync`` when it connects (with
``{"after": position, "log": log}`` once it has one, else ``{}``), and the server answers
either the entries after that position (``{"log", "position", "entries": [{"name",
"data"}]}``) or, when they are gone or the log is another, the full state (``{"log",
"position", "state"}``). Live entries (the socket message ``entries``, a list of
``{"name", "data"}``: feed them to :meth:`StreamCursor.event` one by one, in order) are
applied when they are next in line; an older one
is dropped (already applied); a later one is held, and when the missing position has not
come within ``grace_ms`` the cursor asks for the entries after its position. A ``resync``
message asks for the full state. Nothing is ever applied twice or out of order.

The cursor does no I/O and keeps no clock: every input returns the actions to take, in
order, and the caller gives the time (ms, any monotonic origin):

- ``["sync", args]``: emit ``sync`` with ``args`` and pass the answer to :meth:`answer`;
- ``["state", state]``: replace everything shown with the full state;
- ``["event", name, data]``: apply one message;
- ``["retry"]``: the sync failed; call :meth:`retry` a little later.

The JavaScript twin in ``server/static/js/stream_logic.js`` is the same machine, line for
line; both run the cases in ``tests/realtime/stream_cases.json``.
"""
from __future__ import annotations

RESYNC = "resync"


def _position(data) -> int | None:
    value = data.get("position") if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class StreamCursor:
    """The client side of one office stream; see the module docstring.

    ``grace_ms``: how long a missing position may be awaited before asking for it.
    ``position``, ``log``: the last applied message (None before the first state).
    ``syncs``: sync requests made (for status badges and tests).
    """

    def __init__(self, grace_ms: float = 300.0) -> None:
        self.grace_ms = grace_ms
        self.position: int | None = None
        self.log: str | None = None
        self.syncing = False
        self.syncs = 0
        self._held: dict[int, tuple[str, dict]] = {}
        self._gap_since: float | None = None

    # -- inputs ---------------------------------------------------------------------------
    def connect(self, now: float) -> list:
        """A (re)connection: ask for what was missed (or the full state the first time)."""
        self.syncing = False
        return self._sync(self._args())

    def disconnect(self) -> list:
        """The connection dropped: an answer in flight is lost; the position is kept."""
        self.syncing = False
        self._held.clear()
        self._gap_since = None
        return []

    def retry(self, now: float) -> list:
        """Ask again after a failed sync."""
        return self._sync(self._args())

    def answer(self, answer, now: float) -> list:
        """The server's answer to ``sync``."""
        self.syncing = False
        if not isinstance(answer, dict) or answer.get("error") or _position(answer) is None:
            return [["retry"]]
        out: list = []
        if answer.get("state") is not None:
            self.position, self.log = answer["position"], answer.get("log")
            out.append(["state", answer["state"]])
        elif answer.get("log") != self.log:
            self.position = None  # cannot happen with a sound server: start over
            return self._sync({})
        else:
            for entry in answer.get("entries") or []:
                if isinstance(entry, dict) and isinstance(entry.get("data"), dict):
                    self._take(str(entry.get("name")), entry["data"], now, out)
                    if self.syncing:
                        return out
        self._drain(now, out)
        return out

    def event(self, name: str, data, now: float) -> list:
        """A live message ``name`` with ``data`` (which carries its position and log)."""
        if _position(data) is None:
            return []
        if self.position is None or self.syncing:
            self._held[data["position"]] = (name, data)
            return []
        if data.get("log") != self.log:
            self._held[data["position"]] = (name, data)
            return self._sync(self._args())
        out: list = []
        self._take(name, data, now, out)
        if not self.syncing:
            self._drain(now, out)
        return out

    def tick(self, now: float) -> list:
        """Called every ~100 ms: asks for a position awaited longer than ``grace_ms``."""
        if not self.syncing and self._gap_since is not None and now - self._gap_since >= self.grace_ms:
            return self._sync(self._args())
        return []

    # -- internals ------------------------------------------------------------------------
    def _args(self) -> dict:
        return {} if self.position is None else {"after": self.position, "log": self.log}

    def _sync(self, args: dict) -> list:
        if self.syncing:
            return []
        self.syncing = True
        self.syncs += 1
        self._gap_since = None
        return [["sync", args]]

    def _take(self, name: str, data: dict, now: float, out: list) -> None:
        position = _position(data)
        if position is None or data.get("log") != self.log:
            return
        # entries are taken only after a state: event() holds them until then, and a sound
        # server answers a first sync ({}) with the state, never with entries
        assert self.position is not None, "an entry taken before the first state"
        if position <= self.position:
            return
        if position != self.position + 1:
            self._held[position] = (name, data)
            return
        self.position = position
        out.append(["event", name, data])
        if name == RESYNC:
            out.extend(self._sync({}))

    def _drain(self, now: float, out: list) -> None:
        for position in sorted(self._held):
            name, data = self._held[position]
            assert self.position is not None, "held entries drained before the first state"
            if data.get("log") != self.log or position <= self.position:
                del self._held[position]
            elif position == self.position + 1:
                del self._held[position]
                self._take(name, data, now, out)
                if self.syncing:
                    return
            else:
                break
        if self._held:
            if self._gap_since is None:
                self._gap_since = now
        else:
            self._gap_since = None
