"""Socket.IO checks the Origin of every connection (server/realtime/origins.py): a real
server on a port, real websocket handshakes (websocket-client, python-socketio)."""
from __future__ import annotations

import pytest
import socketio
import websocket

from server.realtime.origins import origin_checker


def _handshake(live_server, **options) -> str:
    """The first engine.io packet of a raw websocket handshake (raises when refused)."""
    url = live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=5, **options)
    try:
        return ws.recv()
    finally:
        ws.close()


def test_a_foreign_origin_is_refused(live_server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        _handshake(live_server, origin="http://evil.example")
    assert refused.value.status_code == 400
    with pytest.raises(websocket.WebSocketBadStatusException):
        _handshake(live_server, origin="null")


def test_same_origin_and_no_origin_are_accepted(live_server):
    assert _handshake(live_server, origin=live_server.url).startswith("0{")  # engine.io "open"
    assert _handshake(live_server).startswith("0{")  # websocket-client's own Origin (its target)
    assert _handshake(live_server, suppress_origin=True).startswith("0{")  # a non-browser client


def test_long_polling_is_not_offered(live_server):
    import requests

    r = requests.get(f"{live_server.url}/socket.io/?EIO=4&transport=polling", timeout=5)
    assert r.status_code == 400


def test_python_agents_still_connect(live_server):
    sio = socketio.Client(reconnection=False)
    sio.connect(live_server.url, auth={"token": live_server.tokens["display"]}, transports=["websocket"],
                wait_timeout=5)
    try:
        assert sio.connected
    finally:
        sio.disconnect()
    foreign = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        foreign.connect(live_server.url, auth={"token": live_server.tokens["display"]}, transports=["websocket"],
                        headers={"Origin": "http://evil.example"}, wait_timeout=5)


def test_public_url_and_forwarded_host():
    check = origin_checker("https://antrian.example.go.id/", proxy_count=1)
    env = {"HTTP_HOST": "10.0.0.5:8000"}
    assert check("https://antrian.example.go.id", env)
    assert check("HTTPS://ANTRIAN.EXAMPLE.GO.ID", env)
    assert check("http://10.0.0.5:8000", env)
    assert not check("https://evil.example", env)
    assert not check("https://antrian.example.go.id.evil.example", env)
    assert check("https://front.example", {**env, "HTTP_X_FORWARDED_HOST": "spoofed, front.example"})
    assert not check("https://spoofed", {**env, "HTTP_X_FORWARDED_HOST": "spoofed, front.example"})
    assert check(None, env) and check("", env)
    no_proxy = origin_checker("", 0)
    assert not no_proxy("https://front.example", {**env, "HTTP_X_FORWARDED_HOST": "front.example"})
