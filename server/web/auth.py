"""Staff login and logout pages (Flask-Login + a Flask-WTF form with CSRF)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..i18n import current_language, translate
from ..models import StaffUser
from . import sessions
from .next_url import safe_next


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


def load_user(app, user_id: str) -> StaffUser | None:
    """Flask-Login loader: the active staff user with ``user_id``, detached, or None; from
    the per-process cache (``web.user_cache``: a change made elsewhere within 5 s), and
    only while this session is alive (``web.sessions.admit``: session version and idle
    timeout; an ended session is cleared)."""
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    return sessions.admit(app.extensions["loket_user_cache"].get(uid), uid)


def login():
    """The staff sign-in page; on success, go to ``?next=`` (a path of this site, see
    ``web.next_url``) or the home page. A failure, a locked-out name or address included,
    shows the same page (plus "too many attempts" when locked, the same for unknown names)."""
    form = LoginForm()
    if form.validate_on_submit():
        user, locked = sessions.sign_in(form.username.data, form.password.data)
        if user is not None:
            return redirect(safe_next(request.args.get("next")))
        flash(translate("login.failed", current_language()), "error")
        if locked:
            flash(translate("login.too_many", current_language()), "error")
    return render_template("login.html", form=form)


def logout():
    """Sign out everywhere (POST with the CSRF token: every session of this user ends, see
    ``web.sessions``) and return to the sign-in page."""
    sessions.sign_out()
    return redirect(url_for("web.login"))
