"""Reading the office streams in tests: the server sends ``entries`` messages, each a list of
``{"name", "data"}`` in position order (server/realtime/delivery.py)."""
from __future__ import annotations


def stream_entries(received: list[dict]) -> list[tuple[str, dict]]:
    """(name, data) of every office-stream entry in a Flask-SocketIO test client's
    ``get_received()`` list, in the order received."""
    return [(e["name"], e["data"]) for m in received if m["name"] == "entries" for e in m["args"][0]]
