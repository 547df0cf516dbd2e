"""The office stream as a client hears it: the same logic as the pages' JavaScript
(``server/static/js/stream_logic.js``), tested with the same cases
(``tests/realtime/stream_cases.json``).

- :mod:`.cursor`: ``StreamCursor``, which messages to apply and when to ask the server
  for the entries after the last position (or the full state);
- :mod:`.announcer`: ``CallAnnouncer``, which calls a TV speaks (each once, only fresh ones);
- :mod:`.client`: ``OfficeStreamClient``, the cursor on a python-socketio ``Client``
  (display agents, tests, benchmarks).
"""
from .announcer import CallAnnouncer
from .cursor import StreamCursor

__all__ = ["CallAnnouncer", "StreamCursor"]
