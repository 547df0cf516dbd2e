"""Staff sign-in for scripts and pages: CSRF token, login, logout, who am I."""
from __future__ import annotations

from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..services.errors import LoketError
from ..web import sessions
from . import bp
from .contract import errors, public
from .schemas.common import OkAnswer
from .schemas.session import CsrfAnswer, LoginAnswer, LoginBody, MeAnswer


class InvalidCredentials(LoketError):
    """Unknown name, wrong password, or a name or address locked out (401)."""

    code = "invalid_credentials"
    http_status = 401


class NotSignedIn(LoketError):
    code = "unauthorized"
    http_status = 401


def user_public(user) -> dict:
    """``{"id", "username", "full_name", "role", "office_id"}`` of a staff user."""
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "role": user.role, "office_id": user.office_id}


@bp.get("/auth/csrf")
@public
@bp.response(200, CsrfAnswer)
@errors()
def csrf_token():
    """A CSRF token for this session; send it as ``X-CSRFToken`` on unsafe requests."""
    return {"csrf_token": generate_csrf()}


@bp.post("/auth/login")
@public
@bp.arguments(LoginBody)
@bp.response(200, LoginAnswer)
@errors()
def login(data: dict):
    """Sign a staff user in (a new session cookie and a new CSRF token, returned as
    ``csrf_token``: the one fetched before stops working). Failures (unknown name, wrong
    password, a name or address locked out after too many failures,
    ``web.login_throttle``) all answer 401 ``invalid_credentials``."""
    user, locked = sessions.sign_in(data["username"], data["password"])
    if user is None:
        raise InvalidCredentials(key="api.auth_locked" if locked else "api.auth_invalid")
    return {"user": user_public(user), "csrf_token": generate_csrf()}


@bp.post("/auth/logout")
@public
@bp.response(200, OkAnswer)
@errors()
def logout():
    """Sign out everywhere: every session of this user ends (cookies copied before, other
    browsers), see ``server.web.sessions``."""
    sessions.sign_out()
    return {"ok": True}


@bp.get("/auth/me")
@public
@bp.response(200, MeAnswer)
@errors()
def me():
    """The signed-in user; 401 ``unauthorized`` when nobody is signed in."""
    if not current_user.is_authenticated:
        raise NotSignedIn(key="api.not_signed_in")
    return {"user": user_public(current_user)}
