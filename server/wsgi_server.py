"""Production serving: gunicorn with gevent workers on one port.

Each worker builds its own app (after gevent has patched it); Socket.IO clients use the
websocket transport only, so a connection lives in one worker from start to end and no
sticky sessions are needed; Redis (LOKET_REDIS_URL) carries events between workers.
"""
from __future__ import annotations

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        return create_app()


def run_gunicorn(host: str, port: int, workers: int) -> None:
    """Serve ``create_app()`` on host:port with ``workers`` gevent workers (blocks)."""
    _Gunicorn({
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gevent",
        "worker_connections": 2000,
        "timeout": 60,
        "graceful_timeout": 20,
        # idle keep-alive connections stay open this long (s): a console calls every few
        # seconds to minutes, and with 5 s a request sent as the server closed its idle
        # connection was reset (seen under load); nginx's own default is 75 s
        "keepalive": 75,
        "accesslog": None,
        # gunicorn's control socket sits at one path per user ($HOME/.gunicorn/gunicorn.ctl):
        # two servers on one host (a hot standby, tests, benchmarks) would take it from each
        # other, and Loket does not use gunicornc
        "control_socket_disable": True,
    }).run()


def app():  # pragma: no cover - for `gunicorn 'server.wsgi_server:app()'`
    """WSGI app factory for running gunicorn by hand; refuses to build (RuntimeError) what
    ``loket serve`` refuses to start (``server.startup_checks``)."""
    import os

    from . import create_app
    from .startup_checks import serve_problems

    app_ = create_app()
    problems = serve_problems(os.environ.get("LOKET_SECRET_KEY", ""), app_.config["DATABASE_URL"])
    if problems:
        raise RuntimeError("Loket refuses to start:\n- " + "\n- ".join(problems))
    return app_
