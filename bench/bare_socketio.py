"""The floor for the call → TV benchmark: a bare Flask-SocketIO app with nothing of Loket.

``gunicorn --worker-class gevent -w 4 'bare_socketio:create()'`` with ``BARE_REDIS_URL``
set: Flask-SocketIO with the same Redis message queue, the same async mode and the same
gunicorn gevent workers as ``loket serve``. Clients connect (websocket) and join the room
``display``; ``POST /call {"number"}`` emits ``call`` to that room through the queue and
answers 200, as a counter's call-next does with a real database transaction and event log
in between. Run by ``bench/call_latency.py``, never in production.
"""
from __future__ import annotations

import os


def create():
    """The bare app (gunicorn's app factory; gevent is patched by the worker)."""
    from flask import Flask, jsonify, request
    from flask_socketio import SocketIO, join_room

    app = Flask(__name__)
    socketio = SocketIO(app, message_queue=os.environ["BARE_REDIS_URL"], channel="bare-floor",
                        cors_allowed_origins=[], async_mode="gevent")

    @socketio.on("connect")
    def connect(auth=None):
        join_room("display")

    @app.post("/call")
    def call():
        data = request.get_json(silent=True) or {}
        socketio.emit("call", {"ticket": {"number": str(data.get("number", ""))}, "call": {"id": data.get("id")}},
                      to="display")
        return jsonify(ok=True)

    @app.get("/health")
    def health():
        return jsonify(ok=True)

    return app
