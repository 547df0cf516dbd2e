"""The app factory (CTFd-style: bind extensions, migrate, register areas).

Nothing here opens a database, socket or device at import time: ``create_app`` does.
"""
from __future__ import annotations

import logging

from flask import Flask
from flask_login import LoginManager
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFProtect

from .config import Config, ProductionConfig
from .db import Database

log = logging.getLogger(__name__)


class Loket:
    """Per-app objects, stored as ``app.extensions["loket"]``."""

    def __init__(self, db: Database, socketio: SocketIO, emitter, delivery=None) -> None:
        self.db = db
        self.socketio = socketio
        self.emitter = emitter
        self.delivery = delivery  # this process's office-stream delivery (realtime.delivery)


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    """Build the Flask app with its database, Socket.IO server, login, CSRF and blueprints.

    ``config``: a class from ``server.config`` (default ProductionConfig); ``overrides``:
    config keys to replace (e.g. DATABASE_URL). Raises RuntimeError when production runs
    without LOKET_SECRET_KEY. Returns the app; its SocketIO is ``app.extensions["loket"].socketio``.
    """
    from . import api, web
    from .api_errors import init_api_errors
    from .headers import init_headers
    from .input_limits import init_input_limits
    from .i18n import init_i18n
    from .migrations import upgrade
    from .ratelimit import init_ratelimit
    from .realtime import emitter as emitter_mod
    from .realtime import handlers, streams, tasks
    from .realtime.origins import TRANSPORTS as SOCKET_TRANSPORTS
    from .realtime.origins import origin_checker
    from .security import init_security
    from .services import events

    app = Flask(__name__)
    app.config.from_object(config or ProductionConfig)
    app.config.update(overrides)
    init_headers(app)  # security headers and the CSP nonce (issue 13); first, so every answer has them
    init_input_limits(app)  # body size, JSON depth, control characters, bounded <int:> ids (issue 13)
    init_api_errors(app)  # JSON error answers under /api/, no 500 with details (issue 13)
    if app.config.get("PROXY_COUNT"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    data_dir = app.config["DATA_DIR"]
    data_dir.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{data_dir / 'loket.db'}"
    if not app.config["SECRET_KEY"]:
        if not (app.config["DEMO"] or app.config["TESTING"]):
            raise RuntimeError("LOKET_SECRET_KEY must be set in production")
        app.config["SECRET_KEY"] = _demo_secret(data_dir)

    if app.config["AUTO_MIGRATE"]:
        upgrade(app.config["DATABASE_URL"])
    db = Database(app.config["DATABASE_URL"], pool_size=app.config["DB_POOL_SIZE"])

    # No Socket.IO message queue: every emit goes to this process's clients only, and the
    # other workers learn of an event from the log stream (server.realtime.bus, on the same
    # Redis channel name), so Flask-SocketIO's Redis manager would only hold an idle
    # connection and a listener per worker.
    socketio = SocketIO(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        cors_allowed_origins=origin_checker(app.config.get("PUBLIC_URL") or "", int(app.config.get("PROXY_COUNT") or 0)),
        transports=SOCKET_TRANSPORTS,  # every client connects over websocket (realtime/origins.py)
        logger=False,
        engineio_logger=False,
    )
    emitter = emitter_mod.Emitter(socketio)
    delivery = streams.build(app, db, socketio, emitter, redis_channel(app.config))
    events.install(db.Session, emitter.publish)
    from .services.survey.links import install_notice_links  # survey links in notices (issue 7)

    install_notice_links(db.Session, app.config["SECRET_KEY"], lambda: app.config.get("PUBLIC_URL"))
    app.extensions["loket"] = Loket(db, socketio, emitter, delivery)
    app.extensions["loket_notice_providers"] = _notice_providers(app.config)

    from .web.user_cache import UserCache

    app.extensions["loket_user_cache"] = UserCache(db.Session)  # Flask-Login's loader reads it
    login = LoginManager(app)
    login.login_view = "web.login"
    login.user_loader(lambda uid: web.auth.load_user(app, uid))
    web.sessions.init_sessions(app)  # idle limits per office (issue 13)
    init_security(app, CSRFProtect(app))
    init_i18n(app)
    api.register(app)
    web.register(app)
    init_ratelimit(app)
    handlers.register(socketio, app)
    streams.start(app)
    tasks.start_background_tasks(app)
    return app


def _notice_providers(config) -> dict:
    """{channel: provider} from NOTICE_PROVIDERS, or from the TOML file NOTICE_CONFIG.
    A bad configuration stops the start (NoticeConfigError) rather than losing notices."""
    import tomllib

    from .services.notices.providers import providers_from_config

    raw = config.get("NOTICE_PROVIDERS") or {}
    if not raw and config.get("NOTICE_CONFIG"):
        with open(config["NOTICE_CONFIG"], "rb") as fh:
            raw = tomllib.load(fh)
    return providers_from_config(raw)


def redis_channel(config) -> str:
    """The Socket.IO pub/sub channel: LOKET_REDIS_CHANNEL, else "loket-db<N>" from the URL."""
    if config.get("REDIS_CHANNEL"):
        return config["REDIS_CHANNEL"]
    from urllib.parse import urlparse

    db = urlparse(config.get("REDIS_URL") or "").path.strip("/") or "0"
    return f"loket-db{db}"


def _demo_secret(data_dir) -> str:
    """A random secret kept in the data dir, so demo sessions survive a restart."""
    import secrets

    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
