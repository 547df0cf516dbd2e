"""Configuration classes; production reads everything from the environment."""
from __future__ import annotations

import os
from pathlib import Path


def _data_dir() -> Path:
    return Path(os.environ.get("LOKET_DATA_DIR", "loket-data")).resolve()


class Config:
    """Defaults shared by every configuration.

    Environment: LOKET_DATABASE_URL (default SQLite in LOKET_DATA_DIR), LOKET_REDIS_URL
    (the office event log's stream between workers, rate limits; unset = one process),
    LOKET_SECRET_KEY (required in production), LOKET_DATA_DIR (voice cache, demo.json),
    LOKET_PUBLIC_URL (base URL printed in ticket QR codes).
    """

    TESTING = False
    DATA_DIR: Path = _data_dir()
    SECRET_KEY = os.environ.get("LOKET_SECRET_KEY", "")
    DATABASE_URL = os.environ.get("LOKET_DATABASE_URL", "")
    REDIS_URL = os.environ.get("LOKET_REDIS_URL", "")
    # Pub/sub channel of the Socket.IO queue. Redis channels ignore the database number, so
    # the default names it: two installations on one Redis (different db) never mix events.
    REDIS_CHANNEL = os.environ.get("LOKET_REDIS_CHANNEL", "")
    PUBLIC_URL = os.environ.get("LOKET_PUBLIC_URL", "")
    DB_POOL_SIZE = int(os.environ.get("LOKET_DB_POOL_SIZE", "10"))
    SOCKETIO_ASYNC_MODE = os.environ.get("LOKET_ASYNC_MODE") or None
    # Office streams (server/realtime/delivery.py): a missing position is awaited
    # STREAM_GRACE_S before it is read from the database; every STREAM_POLL_S each worker
    # compares the database heads with what it delivered; the checks run every STREAM_CHECK_S.
    STREAM_GRACE_S = float(os.environ.get("LOKET_STREAM_GRACE_S", "0.3"))
    STREAM_POLL_S = float(os.environ.get("LOKET_STREAM_POLL_S", "1.0"))
    STREAM_CHECK_S = float(os.environ.get("LOKET_STREAM_CHECK_S", "0.1"))
    # Seconds between prunings of the office event log (entries older than 36 h; scheduler).
    STREAM_PRUNE_S = float(os.environ.get("LOKET_STREAM_PRUNE_S", "3600"))
    # Seconds between end-of-day checks (tickets left waiting after closing time).
    DAY_CLOSE_CHECK_S = float(os.environ.get("LOKET_DAY_CLOSE_CHECK_S", "60"))
    # Scheduled work (server/scheduler) runs once per deployment, in `loket worker`. True:
    # this process runs it too, in the background (`loket demo`, one process); never in
    # `loket serve`'s web workers.
    SCHEDULER_IN_PROCESS = False
    # Seconds between a standby scheduler's tries to take the lead (the PostgreSQL advisory
    # lock), and between the leader's checks that it still holds it.
    SCHEDULER_RETRY_S = float(os.environ.get("LOKET_SCHEDULER_RETRY_S", "5"))
    # False: this process serves no screens and starts no per-worker stream tasks
    # (realtime.tasks; `loket worker` sets it).
    STREAM_TASKS = True
    # Notice providers (WhatsApp, SMS, e-mail): a TOML file with one table per channel,
    # e.g. [whatsapp] kind = "http" ... [email] kind = "smtp" ... (see
    # server/services/notices/providers). Unset: notices are not sent (none are queued).
    NOTICE_CONFIG = os.environ.get("LOKET_NOTICE_CONFIG", "")
    NOTICE_PROVIDERS: dict = {}
    NOTICE_DELIVERY_S = float(os.environ.get("LOKET_NOTICE_DELIVERY_S", "5"))
    NOTICE_BATCH = int(os.environ.get("LOKET_NOTICE_BATCH", "20"))
    # Rate limits of the public booking API (server/ratelimit.py; "" disables one): per
    # client IP on booking, confirming and cancelling, and per contact (codes sent to one
    # number or e-mail; not per NIK, issue 13) on booking. Counters live in Redis when
    # LOKET_REDIS_URL is set (all workers share them), else in process memory.
    BOOKING_RATE_LIMIT = os.environ.get("LOKET_BOOKING_RATE_LIMIT", "10/minute;100/hour")
    BOOKING_CONTACT_RATE_LIMIT = os.environ.get("LOKET_BOOKING_CONTACT_RATE_LIMIT", "5/hour")
    # Per-IP limits of the public AKAPELA complaint form and its status look-up (issue 7).
    COMPLAINT_RATE_LIMIT = os.environ.get("LOKET_COMPLAINT_RATE_LIMIT", "5/minute;30/hour")
    COMPLAINT_STATUS_RATE_LIMIT = os.environ.get("LOKET_COMPLAINT_STATUS_RATE_LIMIT", "20/minute;200/hour")
    # Reverse proxies in front of Loket (nginx, a load balancer): with N > 0 the client's
    # address, scheme and host are taken from the last N X-Forwarded-* entries (Werkzeug
    # ProxyFix), so per-IP rate limits see the citizen, not the proxy. 0: no proxy
    # (never trust X-Forwarded-For from the Internet).
    PROXY_COUNT = int(os.environ.get("LOKET_PROXY_COUNT", "0"))
    # Largest request body in bytes (413 beyond it); the picture uploads have their own,
    # larger limits (server/input_limits.py UPLOAD_LIMITS).
    MAX_CONTENT_LENGTH = int(os.environ.get("LOKET_MAX_CONTENT_LENGTH", str(1024 * 1024)))
    # Staff sign-in (server/web/login_throttle.py; "" disables one): FAILED attempts per
    # user name and per client address; reaching either locks it for LOGIN_LOCKOUT_S.
    LOGIN_USER_LIMIT = os.environ.get("LOKET_LOGIN_USER_LIMIT", "5/15 minutes")
    LOGIN_ADDRESS_LIMIT = os.environ.get("LOKET_LOGIN_ADDRESS_LIMIT", "20/15 minutes")
    LOGIN_LOCKOUT_S = int(os.environ.get("LOKET_LOGIN_LOCKOUT_S", "900"))
    # Staff sessions end after this many idle minutes (server/web/sessions.py); an office
    # overrides them in settings["security"]: idle_timeout_min, admin_idle_timeout_min.
    IDLE_TIMEOUT_MIN = float(os.environ.get("LOKET_IDLE_TIMEOUT_MIN", "480"))
    ADMIN_IDLE_TIMEOUT_MIN = float(os.environ.get("LOKET_ADMIN_IDLE_TIMEOUT_MIN", "60"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # a counter console stays open all day
    DEFAULT_LANGUAGE = "id"
    AUTO_MIGRATE = False
    DEMO = False


class ProductionConfig(Config):
    """``loket serve``: everything from the environment; a secret key is mandatory."""

    SESSION_COOKIE_SECURE = os.environ.get("LOKET_INSECURE_COOKIES", "") != "1"


class DemoConfig(Config):
    """``loket demo``: SQLite in the data dir, migrations applied at start, demo office;
    one process, so it runs the scheduled work itself."""

    AUTO_MIGRATE = True
    DEMO = True
    SCHEDULER_IN_PROCESS = True


class TestingConfig(Config):
    """Tests: a database URL is always given explicitly; CSRF kept on (tests send the token)."""

    TESTING = True
    AUTO_MIGRATE = True
    SECRET_KEY = "test-secret-key"
    # One process (LocalBus delivers at once): no bus reader or database checks per app, so
    # the many apps a test session makes leave no loops behind. Tests of them turn it on.
    STREAM_TASKS = False
    # Many bookings from one test client: tests of the limits turn them on explicitly.
    BOOKING_RATE_LIMIT = ""
    BOOKING_CONTACT_RATE_LIMIT = ""
    COMPLAINT_RATE_LIMIT = ""
    COMPLAINT_STATUS_RATE_LIMIT = ""
