"""Socket.IO test clients bound to one namespace (server/realtime/handlers.py): "/" for
screens, "/staff" for staff sessions, "/agents" for station agents. Flask-SocketIO's test
client takes the namespace on every call; :class:`NamespaceClient` fills it in."""
from __future__ import annotations

SCREENS, STAFF, AGENTS = "/", "/staff", "/agents"


class NamespaceClient:
    """A Flask-SocketIO test client connected to ``namespace`` only; ``emit``,
    ``get_received``, ``is_connected`` and ``disconnect`` act in that namespace."""

    def __init__(self, app, namespace: str, **kwargs) -> None:
        self.namespace = namespace
        self.client = app.extensions["loket"].socketio.test_client(app, namespace=namespace, **kwargs)

    def emit(self, event: str, *args, **kwargs):
        return self.client.emit(event, *args, namespace=self.namespace, **kwargs)

    def get_received(self) -> list[dict]:
        return self.client.get_received(self.namespace)

    def is_connected(self) -> bool:
        return self.client.is_connected(self.namespace)

    def disconnect(self) -> None:
        self.client.disconnect(self.namespace)


def screen_socket(app, **kwargs) -> NamespaceClient:
    """A screen's connection ("/"): ``auth={"token"}``, ``{"ticket"}`` or ``{"token", "lane": True}``."""
    return NamespaceClient(app, SCREENS, **kwargs)


def staff_socket(app, flask_test_client=None, **kwargs) -> NamespaceClient:
    """A staff page's connection ("/staff") with the session of ``flask_test_client``."""
    return NamespaceClient(app, STAFF, flask_test_client=flask_test_client, **kwargs)


def agent_socket(app, token: str, **kwargs) -> NamespaceClient:
    """A station agent's connection ("/agents") with its device ``token``."""
    return NamespaceClient(app, AGENTS, auth={"token": token}, **kwargs)
