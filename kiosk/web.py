"""The kiosk page (opened on the kiosk PC with its device token in the URL)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("kiosk", __name__, template_folder="templates", static_folder="static", static_url_path="/kiosk-static")


@bp.get("/kiosk/<code>")
def kiosk_page(code: str):
    """The touchscreen kiosk for office ``code``; needs ``?token=`` (a kiosk device token)."""
    return render_template("kiosk/kiosk.html", office_code=code)
