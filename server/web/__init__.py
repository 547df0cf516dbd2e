"""Staff and public pages. Each page is thin HTML; its script uses the REST API and the
Socket.IO stream (``static/js/loket.js``) like any other client."""
from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("web", __name__)

from . import applications_pages, auth, devices, pages, resi_page  # noqa: E402,F401  (routes attach to bp)
from . import activation_pages, demo_devices, pickup_pages, reports_pages  # noqa: E402,F401
from . import booking_pages  # noqa: E402,F401
from . import complaint_pages, complaint_public  # noqa: E402,F401  (AKAPELA, issue 7)
from . import survey_pages  # noqa: E402,F401
from . import dashboard_pages  # noqa: E402,F401

bp.add_url_rule("/login", "login", auth.login, methods=["GET", "POST"])
bp.add_url_rule("/logout", "logout", auth.logout, methods=["POST"])


def register(app: Flask) -> None:
    """Mount the pages: login, home, counter console, public ticket status, kiosk, display."""
    from display.web import bp as display_bp
    from kiosk.web import bp as kiosk_bp

    app.register_blueprint(bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(display_bp)
