"""Staff sign-in for scripts and pages: CSRF token, login, logout, who am I."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..web import sessions
from . import bp
from .helpers import body


def user_public(user) -> dict:
    return {"id": user.id, "username": user.username, "full_name": user.full_name,
            "role": user.role, "office_id": user.office_id}


@bp.get("/auth/csrf")
def csrf_token():
    """A CSRF token for this session; send it as ``X-CSRFToken`` on unsafe requests.
    ---
    get:
      tags: [auth]
      responses:
        200: {description: '{"csrf_token": str}'}
    """
    return jsonify(csrf_token=generate_csrf())


@bp.post("/auth/login")
def login():
    """Sign a staff user in (a new session cookie and a new CSRF token, returned as
    ``csrf_token``: the one fetched before stops working). Body {"username", "password"}.
    Failures (unknown name, wrong password, a name or address locked out after too many
    failures, ``web.login_throttle``) all answer 401 ``invalid_credentials``.
    ---
    post:
      tags: [auth]
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [username, password], properties: {username: {type: string}, password: {type: string}}}
      responses:
        200: {description: the user}
        401: {description: wrong username or password}
    """
    data = body()
    user, locked = sessions.sign_in(str(data.get("username", "")), str(data.get("password", "")))
    if user is None:
        message = "wrong username or password"
        if locked:
            message += "; too many attempts: try again later"
        return jsonify(error="invalid_credentials", message=message), 401
    return jsonify(user=user_public(user), csrf_token=generate_csrf())


@bp.post("/auth/logout")
def logout():
    """Sign out everywhere: every session of this user ends (cookies copied before, other
    browsers), see ``server.web.sessions``.
    ---
    post:
      tags: [auth]
      responses:
        200: {description: signed out}
    """
    sessions.sign_out()
    return jsonify(ok=True)


@bp.get("/auth/me")
def me():
    """The signed-in user, or 401.
    ---
    get:
      tags: [auth]
      responses:
        200: {description: the user}
        401: {description: not signed in}
    """
    if not current_user.is_authenticated:
        return jsonify(error="unauthorized", message="not signed in"), 401
    return jsonify(user=user_public(current_user))
