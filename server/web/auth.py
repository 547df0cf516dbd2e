"""Staff login and logout pages (Flask-Login + a Flask-WTF form with CSRF)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..i18n import current_language, translate
from ..models import StaffUser
from ..services import audit
from ..services.accounts import authenticate_staff
from ..services.actors import Actor

class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def load_user(app, user_id: str) -> StaffUser | None:
    """Flask-Login loader: the active staff user with ``user_id``, detached, or None; from
    the per-process cache (``web.user_cache``: a change made elsewhere within 5 s)."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    return app.extensions["loket_user_cache"].get(uid)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("web.home")


def login():
    """The staff sign-in page; on success, go to ``?next=`` (a local path) or the home page."""
    form = LoginForm()
    if form.validate_on_submit():
        with current_app.extensions["loket"].db.session() as s:
            user = authenticate_staff(s, form.username.data, form.password.data)
            if user is not None:
                audit.record(s, Actor("staff", user.id), "staff.login", "staff", user.id, office_id=user.office_id)
                s.expunge(user)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        flash(translate("login.failed", current_language()), "error")
    return render_template("login.html", form=form)


def logout():
    """Sign out (POST with the CSRF token) and return to the sign-in page."""
    logout_user()
    return redirect(url_for("web.login"))
