"""The waiting-room TV page (opened with its display token in the URL)."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static", static_url_path="/display-static")


@bp.get("/display/<code>")
def display_page(code: str):
    """The TV display for office ``code``; needs ``?token=`` (a display device token)."""
    return render_template("display/display.html", office_code=code)
